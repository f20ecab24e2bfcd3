//go:build linux

package wim

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

// renamedSplitSet splits a two-image wimlib WIM with wimlib and renames the
// parts disk1.swm, disk2.swm ... so that the first part's own name
// (disk1.swm) does not lead to the others (disk12.swm). It returns the
// parts, in order, and the two source trees.
func renamedSplitSet(t *testing.T, wimlib string) (parts []string, src, second string) {
	t.Helper()
	src, second = twoImageTrees(t)
	noise := make([]byte, 150_000)
	rand.New(rand.NewSource(11)).Read(noise)
	if err := os.WriteFile(filepath.Join(src, "noise.bin"), noise, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(second, "noise2.bin"), noise[:70_000], 0o644); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "in.wim")
	runPeer(t, wimlib, "capture", src, in, "first", "--compress=lzx")
	runPeer(t, wimlib, "append", second, in, "second")
	dir := t.TempDir()
	runPeer(t, wimlib, "split", in, filepath.Join(dir, "set.swm"), "0.06")
	made, _ := filepath.Glob(filepath.Join(dir, "set*.swm"))
	if len(made) < 3 {
		t.Fatalf("wimlib split made %v", made)
	}
	for i := 1; i <= len(made); i++ {
		from := filepath.Join(dir, "set.swm")
		if i > 1 {
			from = filepath.Join(dir, "set"+strconv.Itoa(i)+".swm")
		}
		to := filepath.Join(dir, "disk"+strconv.Itoa(i)+".swm")
		if err := os.Rename(from, to); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, to)
	}
	return parts, src, second
}

// TestRefRenamedSplitSet: a split set whose parts do not carry the names
// the first part leads to is refused for the missing part without
// references, and read whole with them (the glob names the first part too,
// as wimlib's documentation does it): both images apply as wimlib applies
// them, verify checks every part, and an export is a WIM wimlib verifies
// and applies to the source trees.
func TestRefRenamedSplitSet(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	ctx := context.Background()
	parts, src, second := renamedSplitSet(t, wimlib)
	if _, err := Open(parts[0]); !errors.Is(err, ErrPartMissing) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("open without references: %v, want ErrPartMissing", err)
	}
	glob, _ := filepath.Glob(filepath.Join(filepath.Dir(parts[0]), "disk*.swm"))
	// Parts in any order, the first part among them, one named twice.
	refs := append([]string{glob[len(glob)-1]}, glob...)
	r, err := OpenWith(parts[0], OpenOptions{Refs: refs})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := r.RefFiles(); len(got) != 0 {
		t.Errorf("parts of the set taken as plain references: %v", got)
	}
	if len(r.more) != len(parts)-1 {
		t.Fatalf("%d further parts, want %d", len(r.more), len(parts)-1)
	}
	for i, p := range r.more {
		if int(p.header.PartNumber) != i+2 {
			t.Errorf("part %d is the file of part %d", i+2, p.header.PartNumber)
		}
	}
	problems, err := r.Verify(ctx, nil)
	if err != nil || len(problems) > 0 {
		t.Fatalf("verify: %v %v", problems, err)
	}
	ref := "--ref=" + filepath.Join(filepath.Dir(parts[0]), "disk*.swm")
	for i, want := range []string{src, second} {
		ours := filepath.Join(t.TempDir(), "ours")
		if err := r.Apply(ctx, i+1, ours, ApplyOptions{}); err != nil {
			t.Fatal(err)
		}
		theirs := filepath.Join(t.TempDir(), "theirs")
		runPeer(t, wimlib, "apply", parts[0], strconv.Itoa(i+1), theirs, ref)
		compareTrees(t, theirs, ours)
		compareTrees(t, want, ours)
	}
	out := filepath.Join(t.TempDir(), "joined.wim")
	if err := Export(ctx, r, []int{1, 2}, out, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	wimlibApplies(t, wimlib, out, src, second)
}

// deltaWIMs captures with wimlib a base WIM and a delta WIM of a changed
// tree (--delta-from: the delta holds only data the base does not). It
// returns both paths, the changed tree and the SHA-1 of a file only the
// base holds.
func deltaWIMs(t *testing.T, wimlib string, compress string) (base, delta, tree string, inBase Hash) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	makeTree(t, src)
	big := make([]byte, 200_000)
	rand.New(rand.NewSource(5)).Read(big)
	if err := os.WriteFile(filepath.Join(src, "base-only.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	unused := make([]byte, 50_000)
	rand.New(rand.NewSource(6)).Read(unused)
	if err := os.WriteFile(filepath.Join(src, "gone.bin"), unused, 0o644); err != nil {
		t.Fatal(err)
	}
	base = filepath.Join(dir, "base.wim")
	runPeer(t, wimlib, "capture", src, base, "base", "--compress="+compress)
	// The delta's tree: the same, less gone.bin, plus new data.
	if err := os.Remove(filepath.Join(src, "gone.bin")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "new.txt"), []byte(strings.Repeat("only in the delta ", 3000)), 0o644); err != nil {
		t.Fatal(err)
	}
	delta = filepath.Join(dir, "delta.dwm")
	runPeer(t, wimlib, "capture", src, delta, "delta", "--compress="+compress, "--delta-from="+base)
	return base, delta, src, Hash(sha1.Sum(big))
}

// TestRefDeltaWIM: a wimlib delta WIM opened alone names the blob it lacks
// (image, path and hash) and is not applied; with its base referenced it
// applies as wimlib applies it, verifies (only the base's blobs it uses),
// and exports to a WIM wimlib verifies and applies to the tree.
func TestRefDeltaWIM(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	ctx := context.Background()
	base, delta, tree, _ := deltaWIMs(t, wimlib, "lzx")
	baseBlobs := map[string]*blob{}
	if br, err := Open(base); err == nil {
		for h, b := range br.blobs {
			baseBlobs[h.String()] = b
		}
		br.Close()
	}
	alone, err := Open(delta)
	if err != nil {
		t.Fatal(err)
	}
	_, err = alone.Image(1)
	named := regexp.MustCompile(`refers to blob ([0-9a-f]{40}), which the WIM does not contain \(nor [0-9]+ other`).FindStringSubmatch(fmt.Sprint(err))
	if !errors.Is(err, ErrBlobMissing) || named == nil || baseBlobs[named[1]] == nil {
		t.Errorf("image without the base: %v, want ErrBlobMissing naming a blob of the base and counting the others", err)
	}
	dest := filepath.Join(t.TempDir(), "dest")
	if err := alone.Apply(ctx, 1, dest, ApplyOptions{}); !errors.Is(err, ErrBlobMissing) {
		t.Errorf("apply without the base: %v", err)
	}
	if _, err := os.Stat(dest); err == nil {
		t.Errorf("apply without the base created %s", dest)
	}
	if problems, err := alone.Verify(ctx, nil); err != nil || len(problems) != 1 || !strings.Contains(problems[0].Message, "which the WIM does not contain") {
		t.Errorf("verify without the base: %v %v", problems, err)
	}
	alone.Close()

	r, err := OpenWith(delta, OpenOptions{Refs: []string{base}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := r.RefFiles(); len(got) != 1 || got[0] != base {
		t.Errorf("RefFiles %v", got)
	}
	ours := filepath.Join(t.TempDir(), "ours")
	if err := r.Apply(ctx, 1, ours, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	theirs := filepath.Join(t.TempDir(), "theirs")
	runPeer(t, wimlib, "apply", delta, "1", theirs, "--ref="+base)
	compareTrees(t, theirs, ours)
	compareTrees(t, tree, ours)
	if problems, err := r.Verify(ctx, nil); err != nil || len(problems) > 0 {
		t.Fatalf("verify: %v %v", problems, err)
	}
	for _, comp := range []ExportOptions{{}, {Compression: CompressXPRESS, CompressionSet: true}, {Solid: true}} {
		out := filepath.Join(t.TempDir(), "whole.wim")
		if err := Export(ctx, r, []int{1}, out, comp); err != nil {
			t.Fatal(err)
		}
		wimlibApplies(t, wimlib, out, tree)
	}
}

// corruptBlob flips a byte in the middle of blob h's stored data in the
// (uncompressed) WIM at path.
func corruptBlob(t *testing.T, path string, h Hash) {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	b := r.blobs[h]
	r.Close()
	if b == nil || b.solid != nil || b.res.compressed() {
		t.Fatalf("blob %s not stored plainly in %s", h, path)
	}
	flipByte(t, path, b.res.Offset+b.res.StoredSize/2)
}

// TestRefBlobsAreChecked: what a referenced file holds under a hash is not
// taken on trust. A damaged blob of the base that the delta uses fails
// apply and verify, naming the base, and an export that would copy it as
// it is stored (same compression) refuses instead of writing it; a damaged
// blob of the base the delta does not use is not the delta's problem.
func TestRefBlobsAreChecked(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	ctx := context.Background()
	base, delta, _, inBase := deltaWIMs(t, wimlib, "none")
	r, err := Open(base)
	if err != nil {
		t.Fatal(err)
	}
	var unusedHash Hash
	for h, b := range r.blobs {
		if b.size == 50_000 {
			unusedHash = h
		}
	}
	r.Close()
	corruptBlob(t, base, unusedHash)
	r, err = OpenWith(delta, OpenOptions{Refs: []string{base}})
	if err != nil {
		t.Fatal(err)
	}
	if problems, err := r.Verify(ctx, nil); err != nil || len(problems) > 0 {
		t.Errorf("verify with an unused blob of the base damaged: %v %v", problems, err)
	}
	r.Close()

	corruptBlob(t, base, inBase)
	r, err = OpenWith(delta, OpenOptions{Refs: []string{base}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	problems, err := r.Verify(ctx, nil)
	if err != nil || len(problems) != 1 || !strings.Contains(problems[0].What, inBase.String()) || !strings.Contains(problems[0].What, base) {
		t.Errorf("verify with a used blob of the base damaged: %v %v", problems, err)
	}
	if err := r.Apply(ctx, 1, filepath.Join(t.TempDir(), "dest"), ApplyOptions{}); !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), base) {
		t.Errorf("apply: %v, want ErrChecksum naming %s", err, base)
	}
	out := filepath.Join(t.TempDir(), "out.wim")
	if err := Export(ctx, r, []int{1}, out, ExportOptions{}); !errors.Is(err, ErrChecksum) {
		t.Errorf("export (raw copy): %v, want ErrChecksum", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a failed export left %s", out)
	}
}

// TestRefLimits: the number of referenced files and the blob table entries
// their headers claim together are bounded before any table is read; a
// referenced file that is not a WIM is named in the error.
func TestRefLimits(t *testing.T) {
	_, wimPath := captureTestWIM(t, CompressXPRESS)
	many := make([]string, maxRefFiles+1)
	for i := range many {
		many[i] = wimPath
	}
	if _, err := OpenWith(wimPath, OpenOptions{Refs: many}); !errors.Is(err, ErrLimit) {
		t.Errorf("%d references: %v, want ErrLimit", len(many), err)
	}
	// Two files whose tables each claim as many entries as one file may
	// have: together, with the WIM's, beyond the bound.
	data, err := os.ReadFile(wimPath)
	if err != nil {
		t.Fatal(err)
	}
	h, err := parseHeader(data)
	if err != nil {
		t.Fatal(err)
	}
	h.blobTable.OrigSize = maxBlobTableBytes
	h.blobTable.StoredSize = maxBlobTableBytes
	h.blobTable.Offset = headerSize
	var refs []string
	for i := range 2 {
		p := filepath.Join(t.TempDir(), "claims"+strconv.Itoa(i)+".wim")
		if err := os.WriteFile(p, h.marshal(), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(p, headerSize+maxBlobTableBytes); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, p)
	}
	if _, err := OpenWith(wimPath, OpenOptions{Refs: refs[:1]}); errors.Is(err, ErrLimit) {
		t.Errorf("one file at the bound refused for the sum: %v", err)
	}
	if _, err := OpenWith(wimPath, OpenOptions{Refs: refs}); !errors.Is(err, ErrLimit) {
		t.Errorf("two files at the bound: %v, want ErrLimit", err)
	}
	notWIM := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(notWIM, []byte(strings.Repeat("not a WIM ", 100)), 0o644)
	if _, err := OpenWith(wimPath, OpenOptions{Refs: []string{notWIM}}); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), notWIM) {
		t.Errorf("a text file referenced: %v", err)
	}
	if _, err := OpenWith(wimPath, OpenOptions{Refs: []string{filepath.Dir(notWIM)}}); err == nil || !strings.Contains(err.Error(), filepath.Dir(notWIM)) {
		t.Errorf("a directory referenced: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "absent.wim")
	if _, err := OpenWith(wimPath, OpenOptions{Refs: []string{missing}}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file referenced: %v", err)
	}
}

// TestRefSolidBase: the base of a delta WIM is a wimlib solid LZMS WIM
// whose every blob the delta uses. The delta applies with it as wimlib
// applies it; a solid export copies the base's solid resource as it is
// (every blob wanted) after decoding it to check the hashes, and wimlib
// verifies and applies the result; with a byte of that resource damaged,
// apply and that export fail and leave no file.
func TestRefSolidBase(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	makeTree(t, src)
	base, delta := filepath.Join(dir, "base.wim"), filepath.Join(dir, "delta.dwm")
	runPeer(t, wimlib, "capture", src, base, "base", "--solid")
	if err := os.WriteFile(filepath.Join(src, "new.txt"), []byte(strings.Repeat("new ", 5000)), 0o644); err != nil {
		t.Fatal(err)
	}
	runPeer(t, wimlib, "capture", src, delta, "delta", "--solid", "--delta-from="+base)
	r, err := OpenWith(delta, OpenOptions{Refs: []string{base}})
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs := filepath.Join(t.TempDir(), "ours"), filepath.Join(t.TempDir(), "theirs")
	if err := r.Apply(ctx, 1, ours, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	runPeer(t, wimlib, "apply", delta, "1", theirs, "--ref="+base)
	compareTrees(t, theirs, ours)
	out := filepath.Join(t.TempDir(), "solid.wim")
	if err := Export(ctx, r, []int{1}, out, ExportOptions{Solid: true}); err != nil {
		t.Fatal(err)
	}
	r.Close()
	wimlibApplies(t, wimlib, out, src)

	br, err := Open(base)
	if err != nil {
		t.Fatal(err)
	}
	if len(br.solids) != 1 {
		t.Fatalf("base has %d solid runs", len(br.solids))
	}
	part := br.solids[0].parts[0]
	mid := (part.where + solidStoredEnd(part)) / 2
	br.Close()
	flipByte(t, base, mid)
	r, err = OpenWith(delta, OpenOptions{Refs: []string{base}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Apply(ctx, 1, filepath.Join(t.TempDir(), "dest"), ApplyOptions{}); err == nil {
		t.Error("apply with the base's solid resource damaged succeeded")
	}
	bad := filepath.Join(t.TempDir(), "bad.wim")
	if err := Export(ctx, r, []int{1}, bad, ExportOptions{Solid: true}); err == nil {
		t.Error("solid export with the base's solid resource damaged succeeded")
	}
	if _, err := os.Stat(bad); err == nil {
		t.Errorf("a failed export left %s", bad)
	}
}
