package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

// treeListing is every path below root with its kind and, for a file, the
// SHA-256 of its whole content (a symbolic link: its target).
func treeListing(t *testing.T, root string) string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out = append(out, rel+" -> "+target)
		case d.IsDir():
			out = append(out, rel+"/")
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			out = append(out, rel+" "+hex.EncodeToString(sum[:]))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func sameTrees(t *testing.T, what, want, got string) {
	t.Helper()
	if a, b := treeListing(t, want), treeListing(t, got); a != b {
		t.Errorf("%s:\n%s\nwant:\n%s", what, b, a)
	}
}

// refTrees writes a source tree with data that does not compress (so that
// a split makes several parts) and a changed copy of it.
func refTrees(t *testing.T) (src, changed string) {
	t.Helper()
	dir := t.TempDir()
	src, changed = filepath.Join(dir, "src"), filepath.Join(dir, "changed")
	rng := rand.New(rand.NewSource(3))
	for _, root := range []string{src, changed} {
		for _, d := range []string{"Windows/System32/config", "Users/Default"} {
			if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	noise := make([]byte, 90_000)
	for i, name := range []string{"Windows/System32/a.dll", "Windows/System32/config/SOFTWARE", "Users/Default/NTUSER.DAT"} {
		rng.Read(noise)
		for _, root := range []string{src, changed} {
			if err := os.WriteFile(filepath.Join(root, name), noise[:60_000+10_000*i], 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	os.WriteFile(filepath.Join(src, "Windows/win.ini"), []byte("[fonts]\n"), 0o644)
	os.WriteFile(filepath.Join(changed, "Windows/win.ini"), []byte("[fonts]\n[changed]\n"), 0o644)
	os.WriteFile(filepath.Join(changed, "Users/Default/new.txt"), []byte(strings.Repeat("new data ", 5000)), 0o644)
	return src, changed
}

// TestRefRenamedSplitSetCLI: wimlib splits a WIM and the parts are renamed
// (disk1.swm, disk2.swm ...): apply without --ref is an error that says to
// use it; with --ref 'disk*.swm' apply writes what wimlib's apply --ref
// writes, verify passes (--json lists no plain references: the files are
// the set's parts), and export joins the set into a WIM wimlib verifies
// and applies to the source tree.
func TestRefRenamedSplitSetCLI(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	src, _ := refTrees(t)
	dir := t.TempDir()
	w := filepath.Join(dir, "in.wim")
	peer(t, wimlib, "capture", src, w, "one", "--compress=lzx")
	peer(t, wimlib, "split", w, filepath.Join(dir, "set.swm"), "0.07")
	made, _ := filepath.Glob(filepath.Join(dir, "set*.swm"))
	if len(made) < 3 {
		t.Fatalf("wimlib split made %v", made)
	}
	for i := 1; i <= len(made); i++ {
		from := filepath.Join(dir, "set.swm")
		if i > 1 {
			from = filepath.Join(dir, "set"+strconv.Itoa(i)+".swm")
		}
		if err := os.Rename(from, filepath.Join(dir, "disk"+strconv.Itoa(i)+".swm")); err != nil {
			t.Fatal(err)
		}
	}
	first, glob := filepath.Join(dir, "disk1.swm"), filepath.Join(dir, "disk*.swm")

	// info needs no other part: the first's header and XML, as wimlib's.
	if ours, theirs := infoLines(mustCLI(t, "info", first)), infoLines(peer(t, wimlib, "info", first)); ours != theirs {
		t.Errorf("info of the renamed first part:\n%s\nwimlib:\n%s", ours, theirs)
	}
	code, _, stderr := runCLI(t, "apply", first, filepath.Join(t.TempDir(), "x"))
	if code != exitFailure || !strings.Contains(stderr, "part 2 of") || !strings.Contains(stderr, "--ref") {
		t.Errorf("apply without --ref: exit %d: %s", code, stderr)
	}
	ours, theirs := filepath.Join(t.TempDir(), "ours"), filepath.Join(t.TempDir(), "theirs")
	mustCLI(t, "apply", first, ours, "--ref", glob, "--quiet")
	peer(t, wimlib, "apply", first, "1", theirs, "--ref="+glob)
	sameTrees(t, "apply --ref of a renamed split set, against wimlib's", theirs, ours)
	sameTrees(t, "apply --ref of a renamed split set, against the source", src, ours)

	var v struct {
		OK   bool     `json:"ok"`
		Refs []string `json:"refs"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, "verify", first, "--ref", glob, "--json")), &v); err != nil || !v.OK || v.Refs == nil || len(v.Refs) != 0 {
		t.Errorf("verify --json: %+v %v", v, err)
	}
	joined := filepath.Join(t.TempDir(), "joined.wim")
	mustCLI(t, "export", first, "all", joined, "--ref", glob, "--quiet")
	peer(t, wimlib, "verify", joined)
	back := filepath.Join(t.TempDir(), "back")
	peer(t, wimlib, "apply", joined, "1", back)
	sameTrees(t, "wimlib's apply of the export of the set", src, back)
}

// TestRefDeltaWIMCLI: a wimlib delta WIM (capture --delta-from) alone is
// an error naming a missing blob's SHA-1 and --ref; with --ref BASE, apply
// and extract write what wimlib's apply and extract --ref write, verify
// --json names the base, export makes a WIM wimlib applies on its own,
// and a --ref glob that matches nothing is an error naming it.
func TestRefDeltaWIMCLI(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	src, changed := refTrees(t)
	dir := t.TempDir()
	base, delta := filepath.Join(dir, "base.wim"), filepath.Join(dir, "delta.dwm")
	peer(t, wimlib, "capture", src, base, "base", "--compress=lzx")
	peer(t, wimlib, "capture", changed, delta, "delta", "--compress=xpress", "--delta-from="+base)

	code, _, stderr := runCLI(t, "apply", delta, filepath.Join(t.TempDir(), "x"))
	if code != exitFailure || !strings.Contains(stderr, "refers to blob ") || !strings.Contains(stderr, "--ref") {
		t.Errorf("apply of a delta WIM alone: exit %d: %s", code, stderr)
	}
	if code, out, stderr := runCLI(t, "verify", delta, "--quiet"); code != exitRefused || !strings.Contains(out, "does not contain") || !strings.Contains(stderr, "--ref") {
		t.Errorf("verify of a delta WIM alone: exit %d: %s%s", code, out, stderr)
	}

	ours, theirs := filepath.Join(t.TempDir(), "ours"), filepath.Join(t.TempDir(), "theirs")
	mustCLI(t, "apply", delta, "1", ours, "--ref", base, "--quiet")
	peer(t, wimlib, "apply", delta, "1", theirs, "--ref="+base)
	sameTrees(t, "apply --ref of a delta WIM, against wimlib's", theirs, ours)
	sameTrees(t, "apply --ref of a delta WIM, against its tree", changed, ours)

	exOurs, exTheirs := filepath.Join(t.TempDir(), "exours"), filepath.Join(t.TempDir(), "extheirs")
	mustCLI(t, "extract", delta, "1", "/Windows", "--dest", exOurs, "--ref", filepath.Join(dir, "b*.wim"), "--quiet")
	peer(t, wimlib, "extract", delta, "1", "/Windows", "--dest-dir="+exTheirs, "--ref="+base, "--preserve-dir-structure")
	sameTrees(t, "extract --ref, against wimlib's", filepath.Join(exTheirs), exOurs)

	// Without --ref, what only the delta holds extracts as wimlib's
	// extract does; what needs the base is an error naming its SHA-1,
	// as wimlib's is.
	onlyNew, theirsNew := filepath.Join(t.TempDir(), "new"), filepath.Join(t.TempDir(), "theirsnew")
	mustCLI(t, "extract", delta, "1", "/Users/Default/new.txt", "/Windows/win.ini", "--dest", onlyNew, "--quiet")
	peer(t, wimlib, "extract", delta, "1", "/Users/Default/new.txt", "/Windows/win.ini", "--dest-dir="+theirsNew)
	sameTrees(t, "extract of the delta's own files without --ref, against wimlib's", theirsNew, onlyNew)
	code, _, stderr = runCLI(t, "extract", delta, "1", "/Windows", "--dest", filepath.Join(t.TempDir(), "z"))
	if code != exitFailure || !strings.Contains(stderr, "refers to blob ") || !strings.Contains(stderr, "--ref") {
		t.Errorf("extract of files in the base without --ref: exit %d: %s", code, stderr)
	}

	var v struct {
		OK   bool     `json:"ok"`
		Refs []string `json:"refs"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, "verify", delta, "--ref", base, "--json")), &v); err != nil || !v.OK || len(v.Refs) != 1 || v.Refs[0] != base {
		t.Errorf("verify --json: %+v %v", v, err)
	}
	whole := filepath.Join(t.TempDir(), "whole.wim")
	mustCLI(t, "export", delta, "1", whole, "--ref", base, "--quiet")
	peer(t, wimlib, "verify", whole)
	back := filepath.Join(t.TempDir(), "back")
	peer(t, wimlib, "apply", whole, "1", back)
	sameTrees(t, "wimlib's apply of the export of the delta WIM", changed, back)

	if ours, theirs := mustCLI(t, "dir", delta), peer(t, wimlib, "dir", delta); ours != theirs {
		t.Errorf("dir of a delta WIM alone:\n%s\nwimlib's:\n%s", ours, theirs)
	}
	if code, _, stderr := runCLI(t, "dir", delta, "--json"); code != exitFailure || !strings.Contains(stderr, "--ref") {
		t.Errorf("dir --json of a delta WIM alone: exit %d: %s", code, stderr)
	}
	if out := mustCLI(t, "dir", delta, "--ref", base); !strings.Contains(out, "/Users/Default/new.txt\n") || !strings.Contains(out, "/Windows/win.ini\n") {
		t.Errorf("dir --ref:\n%s", out)
	}

	nomatch := filepath.Join(dir, "nothing*.wim")
	if code, _, stderr := runCLI(t, "apply", delta, filepath.Join(t.TempDir(), "y"), "--ref", nomatch); code != exitFailure || !strings.Contains(stderr, nomatch) {
		t.Errorf("--ref matching nothing: exit %d: %s", code, stderr)
	}
}

// TestAppendToLockedWIM: capture --append to a WIM another process holds
// (its flock, as wimlib's append takes it) is refused with exit 3 and a
// line saying so, and the WIM is unchanged.
func TestAppendToLockedWIM(t *testing.T) {
	src, _ := refTrees(t)
	w := filepath.Join(t.TempDir(), "x.wim")
	mustCLI(t, "capture", src, w, "--quiet")
	before, _ := os.ReadFile(w)
	other, err := os.Open(w)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := lockForTest(other); err != nil {
		t.Skip("no flock here:", err)
	}
	code, _, stderr := runCLI(t, "capture", src, w, "--append", "--name", "second")
	if code != exitFailure || !strings.Contains(stderr, "locked") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("append to a locked WIM: exit %d: %s", code, stderr)
	}
	if after, _ := os.ReadFile(w); string(after) != string(before) {
		t.Error("the locked WIM was changed")
	}
}
