//go:build linux

package wim

import (
	"context"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

// wimlibInfo returns wimlib-imagex info's text for the WIM.
func wimlibInfo(t *testing.T, wimlib, path string) string {
	t.Helper()
	return runPeer(t, wimlib, "info", path)
}

// wimlibApplies checks that wimlib verifies the WIM and applies each image
// i to the tree trees[i].
func wimlibApplies(t *testing.T, wimlib, path string, trees ...string) {
	t.Helper()
	runPeer(t, wimlib, "verify", path)
	for i, want := range trees {
		dest := filepath.Join(t.TempDir(), "dest")
		runPeer(t, wimlib, "apply", path, itoa(i+1), dest)
		compareTrees(t, want, dest)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// twoImageTrees makes the source trees of a two-image WIM sharing data.
func twoImageTrees(t *testing.T) (string, string) {
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src)
	return src, filepath.Join(src, "Ünïcødé 目录")
}

func wimlibTwoImages(t *testing.T, wimlib string, args ...string) (path, src, second string) {
	src, second = twoImageTrees(t)
	path = filepath.Join(t.TempDir(), "in.wim")
	runPeer(t, wimlib, append([]string{"capture", src, path, "first"}, args...)...)
	var appendArgs []string
	for _, a := range args {
		if a == "--solid" {
			appendArgs = append(appendArgs, a)
		}
	}
	runPeer(t, wimlib, append([]string{"append", second, path, "second"}, appendArgs...)...)
	return path, src, second
}

// TestExportESDToWIMAndBack: wimlib's solid LZMS two-image WIM (an ESD in
// all but name) becomes an LZX WIM that wimlib verifies and applies, and
// that becomes a solid WIM again (LZMS, and XPRESS/LZX solid).
func TestExportESDToWIMAndBack(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	ctx := context.Background()
	esd, src, second := wimlibTwoImages(t, wimlib, "--solid")
	r, err := Open(esd)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	lzxPath := filepath.Join(t.TempDir(), "out.wim")
	if err := Export(ctx, r, []int{1, 2}, lzxPath, ExportOptions{Compression: CompressLZX, CompressionSet: true}); err != nil {
		t.Fatal(err)
	}
	info := wimlibInfo(t, wimlib, lzxPath)
	if !strings.Contains(info, "Compression:    LZX") || !strings.Contains(info, "Image Count:    2") {
		t.Fatalf("wimlib info:\n%s", info)
	}
	wimlibApplies(t, wimlib, lzxPath, src, second)

	back, err := Open(lzxPath)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	for _, c := range []struct {
		name  string
		comp  Compression
		solid Compression
	}{{"lzms", CompressLZMS, CompressLZMS}, {"lzx", CompressLZX, CompressLZX}, {"xpress", CompressXPRESS, CompressXPRESS}} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "back.esd")
			if err := Export(ctx, back, []int{1, 2}, out, ExportOptions{Compression: c.comp, CompressionSet: true, Solid: true, SolidCompression: c.solid}); err != nil {
				t.Fatal(err)
			}
			rr, err := Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer rr.Close()
			if len(rr.solids) != 1 || rr.Header().Version != versionSolid {
				t.Fatalf("%d solid groups, version %#x", len(rr.solids), rr.Header().Version)
			}
			wimlibApplies(t, wimlib, out, src, second)
		})
	}
}

// TestExportAppendDeduplicates: exporting into an existing WIM adds the
// image without storing its data again, copies same-compression resources
// as they are, and refuses a name already there.
func TestExportAppendDeduplicates(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	ctx := context.Background()
	in, src, second := wimlibTwoImages(t, wimlib, "--compress=lzx")
	r, err := Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dest := filepath.Join(t.TempDir(), "dest.wim")
	if err := Export(ctx, r, []int{1}, dest, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	st1, _ := os.Stat(dest)
	if err := Export(ctx, r, []int{2}, dest, ExportOptions{Name: "again", Description: "sub tree"}); err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(dest)
	if grew := st2.Size() - st1.Size(); grew > 4096 {
		t.Errorf("the second image's data (all in the first) grew the file by %d bytes", grew)
	}
	info := wimlibInfo(t, wimlib, dest)
	if !strings.Contains(info, "Name:                   again") || !strings.Contains(info, "Description:            sub tree") {
		t.Fatalf("wimlib info:\n%s", info)
	}
	wimlibApplies(t, wimlib, dest, src, second)
	if err := Export(ctx, r, []int{1}, dest, ExportOptions{}); err == nil {
		t.Fatal("exporting a name already in DEST succeeded")
	}
	if err := Export(ctx, r, []int{1}, dest, ExportOptions{Name: "x", Compression: CompressXPRESS, CompressionSet: true}); err == nil {
		t.Fatal("exporting with another compression into an existing LZX WIM succeeded")
	}
}

// TestDeleteOptimizeRename: wimlib sees what delete (hard and soft),
// optimize and rename leave.
func TestDeleteOptimizeRename(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	ctx := context.Background()
	for _, args := range [][]string{{"--compress=xpress"}, {"--solid"}} {
		t.Run(args[0], func(t *testing.T) {
			in, src, second := wimlibTwoImages(t, wimlib, args...)
			soft := filepath.Join(t.TempDir(), "soft.wim")
			copyFile(t, in, soft)
			if err := Delete(ctx, soft, 1, RewriteOptions{Soft: true}); err != nil {
				t.Fatal(err)
			}
			info := wimlibInfo(t, wimlib, soft)
			if !strings.Contains(info, "Image Count:    1") || !strings.Contains(info, "Name:                   second") {
				t.Fatalf("after soft delete, wimlib info:\n%s", info)
			}
			wimlibApplies(t, wimlib, soft, second)

			// Hard delete of the big image shrinks the file.
			before, _ := os.Stat(in)
			if err := Delete(ctx, in, 1, RewriteOptions{}); err != nil {
				t.Fatal(err)
			}
			after, _ := os.Stat(in)
			if after.Size() >= before.Size() {
				t.Errorf("delete: %d bytes before, %d after", before.Size(), after.Size())
			}
			wimlibApplies(t, wimlib, in, second)

			// Optimize after a soft delete drops the unreferenced data.
			softBefore, _ := os.Stat(soft)
			if err := Optimize(ctx, soft, RewriteOptions{}); err != nil {
				t.Fatal(err)
			}
			softAfter, _ := os.Stat(soft)
			if softAfter.Size() >= softBefore.Size() {
				t.Errorf("optimize: %d bytes before, %d after", softBefore.Size(), softAfter.Size())
			}
			wimlibApplies(t, wimlib, soft, second)
			if err := Optimize(ctx, soft, RewriteOptions{Recompress: true}); err != nil {
				t.Fatal(err)
			}
			wimlibApplies(t, wimlib, soft, second)

			name, desc := "renamed <&>", "new description"
			if err := SetImageInfo(ctx, soft, 1, &name, &desc); err != nil {
				t.Fatal(err)
			}
			info = wimlibInfo(t, wimlib, soft)
			if !strings.Contains(info, "Name:                   renamed <&>") || !strings.Contains(info, "Description:            new description") {
				t.Fatalf("after rename, wimlib info:\n%s", info)
			}
			wimlibApplies(t, wimlib, soft, second)
			_ = src
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCaptureSolid: capture --solid in each compression writes one solid
// resource that wimlib verifies and applies; an image appended with
// --solid gets its own run, and both images apply.
func TestCaptureSolid(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	ctx := context.Background()
	src, second := twoImageTrees(t)
	if err := os.WriteFile(filepath.Join(second, "copy of a file elsewhere"), []byte(strings.Repeat("same bytes ", 5000)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "same size, other bytes"), []byte(strings.Repeat("SAME BYTES ", 5000)), 0o644); err != nil {
		t.Fatal(err)
	}
	// The second image: some data of the first, some new.
	second = filepath.Join(t.TempDir(), "second")
	if err := os.CopyFS(second, os.DirFS(filepath.Join(src, "Ünïcødé 目录"))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(second, "new in the second"), []byte(strings.Repeat("new bytes ", 7000)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name        string
		comp, solid Compression
		chunk       int
	}{
		{"lzms", CompressLZMS, CompressLZMS, 0},
		{"lzx", CompressLZX, CompressLZX, 1 << 15},
		{"xpress", CompressXPRESS, CompressXPRESS, 0},
		{"xpress-lzms", CompressXPRESS, CompressLZMS, 1 << 16},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "solid.wim")
			opts := CaptureOptions{Name: "first", Compression: c.comp, Solid: true, SolidCompression: c.solid, SolidChunkSize: c.chunk}
			if err := Capture(ctx, src, path, opts); err != nil {
				t.Fatal(err)
			}
			opts.Name, opts.Append = "second", true
			if err := Capture(ctx, second, path, opts); err != nil {
				t.Fatal(err)
			}
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if len(r.solids) != 2 || r.Header().Version != versionSolid {
				t.Fatalf("%d solid runs, version %#x", len(r.solids), r.Header().Version)
			}
			wantChunk := c.chunk
			if wantChunk == 0 {
				wantChunk = DefaultSolidChunkSize(c.solid)
			}
			if comp, chunk, ok := r.SolidFormat(); !ok || comp != c.solid || chunk != wantChunk {
				t.Errorf("SolidFormat = %v, %d, %v; want %v, %d, true", comp, chunk, ok, c.solid, wantChunk)
			}
			wimlibApplies(t, wimlib, path, src, second)
		})
	}
}

// TestSplit: a WIM split by Split is a .swm set that wimlib verifies and
// applies (with --ref), and that this package opens from its first part.
func TestSplit(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	ctx := context.Background()
	src, second := twoImageTrees(t)
	noise := make([]byte, 150_000)
	rand.New(rand.NewSource(7)).Read(noise)
	if err := os.WriteFile(filepath.Join(src, "noise.bin"), noise, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(second, "noise2.bin"), noise[:60_000], 0o644); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "in.wim")
	runPeer(t, wimlib, "capture", src, in, "first", "--compress=lzx", "--boot")
	runPeer(t, wimlib, "append", second, in, "second")
	dir := t.TempDir()
	first := filepath.Join(dir, "set.swm")
	names, err := Split(ctx, in, first, 40_000, SplitOptions{Check: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 3 || names[1] != filepath.Join(dir, "set2.swm") {
		t.Fatalf("parts %v", names)
	}
	// A part over the size holds one resource bigger than a part.
	for _, n := range names {
		p, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		h, err := parseHeader(p)
		if err != nil {
			t.Fatal(err)
		}
		if n := h.blobTable.OrigSize / blobEntrySize; len(p) > 42_000 && n > 1 && h.PartNumber > 1 {
			t.Errorf("%s: %d bytes in %d resources", names[h.PartNumber-1], len(p), n)
		}
	}
	ref := "--ref=" + filepath.Join(dir, "set*.swm")
	info := runPeer(t, wimlib, "info", first)
	if !strings.Contains(info, "Part Number:    1/"+strconv.Itoa(len(names))) || !strings.Contains(info, "Boot Index:     1") {
		t.Fatalf("wimlib info:\n%s", info)
	}
	runPeer(t, wimlib, "verify", first, ref)
	for i, want := range []string{src, second} {
		dest := filepath.Join(t.TempDir(), "dest")
		runPeer(t, wimlib, "apply", first, strconv.Itoa(i+1), dest, ref)
		compareTrees(t, want, dest)
	}
	r, err := Open(first)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if problems, err := r.Verify(ctx, nil); err != nil || len(problems) > 0 {
		t.Fatalf("verify: %v %v", problems, err)
	}
	dest := filepath.Join(t.TempDir(), "dest")
	if err := r.Apply(ctx, 2, dest, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	compareTrees(t, second, dest)
}

// TestAppendedSolidRun: wimlib appends a --solid image with new data as a
// second solid resource in the same run as the first ([resource, its
// blobs, resource, its blobs], the blobs' offsets counted over both):
// both images verify, apply, and export to an LZX WIM wimlib verifies.
func TestAppendedSolidRun(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	ctx := context.Background()
	src, _ := twoImageTrees(t)
	other := filepath.Join(t.TempDir(), "other")
	os.MkdirAll(other, 0o755)
	noise := make([]byte, 200_000)
	rand.New(rand.NewSource(3)).Read(noise)
	os.WriteFile(filepath.Join(other, "noise"), noise, 0o644)
	os.WriteFile(filepath.Join(other, "text"), []byte(strings.Repeat("other text ", 3000)), 0o644)
	path := filepath.Join(t.TempDir(), "x.esd")
	runPeer(t, wimlib, "capture", src, path, "one", "--solid")
	runPeer(t, wimlib, "append", other, path, "two", "--solid")
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if len(r.solids) != 1 || len(r.solids[0].parts) != 2 {
		t.Fatalf("want one run of two solid resources, got %d runs", len(r.solids))
	}
	if problems, err := r.Verify(ctx, nil); err != nil || len(problems) > 0 {
		t.Fatalf("verify: %v %v", problems, err)
	}
	for i, want := range []string{src, other} {
		dest := filepath.Join(t.TempDir(), "dest")
		if err := r.Apply(ctx, i+1, dest, ApplyOptions{}); err != nil {
			t.Fatal(err)
		}
		compareTrees(t, want, dest)
	}
	out := filepath.Join(t.TempDir(), "out.wim")
	if err := Export(ctx, r, []int{1, 2}, out, ExportOptions{Compression: CompressLZX, CompressionSet: true}); err != nil {
		t.Fatal(err)
	}
	wimlibApplies(t, wimlib, out, src, other)
	// The whole run copied as it is into a solid export.
	solid := filepath.Join(t.TempDir(), "copy.esd")
	if err := Export(ctx, r, []int{1, 2}, solid, ExportOptions{Solid: true}); err != nil {
		t.Fatal(err)
	}
	wimlibApplies(t, wimlib, solid, src, other)
}
