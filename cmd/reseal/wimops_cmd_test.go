package main

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
	"github.com/reseal/reseal/wim"
)

func peer(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	code, out, stderr := runCLI(t, args...)
	if code != exitOK {
		t.Fatalf("reseal %s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	return out
}

// listing is every path below root with its size (-1 for a directory).
func listing(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		size := int64(-1)
		if !d.IsDir() {
			data, _ := os.ReadFile(p)
			size = int64(len(data))
			rel += " " + string(data[:min(len(data), 16)])
		}
		out = append(out, rel+" "+itoa64(size))
		return nil
	})
	sort.Strings(out)
	return out
}

func itoa64(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestWIMOpsAgreeWithWimlib: dir lists what wimlib-imagex dir lists,
// extract writes what wimlib-imagex extract writes, and after export,
// rename, delete, optimize and split wimlib's info, verify and apply see
// the result the commands describe.
func TestWIMOpsAgreeWithWimlib(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	src := filepath.Join(t.TempDir(), "src")
	for _, d := range []string{"Windows/System32/drivers", "Users/Public", "empty"} {
		os.MkdirAll(filepath.Join(src, d), 0o755)
	}
	os.WriteFile(filepath.Join(src, "Windows/System32/drivers/big.sys"), []byte(strings.Repeat("hive data ", 20000)), 0o644)
	os.WriteFile(filepath.Join(src, "Windows/win.ini"), []byte("[fonts]\n"), 0o644)
	// 120 KB that does not compress, so that split makes several parts.
	noise := make([]byte, 120_000)
	for i, x := 0, uint32(1); i < len(noise); i++ {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		noise[i] = byte(x)
	}
	os.WriteFile(filepath.Join(src, "Windows/System32/noise.bin"), noise, 0o644)
	os.WriteFile(filepath.Join(src, "Users/Public/note.txt"), []byte("hello"), 0o644)
	os.Symlink("note.txt", filepath.Join(src, "Users/Public/link"))
	dir := t.TempDir()
	w := filepath.Join(dir, "x.wim")
	mustCLI(t, "capture", src, w, "--name", "one", "--compress", "lzx", "--quiet")
	mustCLI(t, "capture", filepath.Join(src, "Users"), w, "--name", "two", "--append", "--quiet")

	// dir, whole image and below a path, as wimlib lists them.
	for _, args := range [][]string{{"1"}, {"1", "/Windows"}, {"two", "/Public/note.txt"}} {
		wl := []string{"dir", w, args[0]}
		if len(args) > 1 {
			wl = append(wl, "--path="+args[1])
		}
		if got, want := mustCLI(t, append([]string{"dir", w}, args...)...), peer(t, wimlib, wl...); got != want {
			t.Errorf("reseal dir %v:\n%s\nwimlib-imagex dir:\n%s", args, got, want)
		}
	}
	var dj struct {
		Entries []struct {
			Path  string `json:"path"`
			IsDir bool   `json:"is_dir"`
			Size  int64  `json:"size"`
		} `json:"entries"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, "dir", w, "1", "/Windows/System32/drivers/big.sys", "--json")), &dj); err != nil || len(dj.Entries) != 1 || dj.Entries[0].Size != 200000 {
		t.Errorf("dir --json: %+v %v", dj, err)
	}
	if code, _, _ := runCLI(t, "dir", w, "1", "/nope"); code != exitRefused {
		t.Errorf("dir of a missing path: exit %d", code)
	}

	// extract of two paths, as wimlib extracts them.
	ours, theirs := filepath.Join(t.TempDir(), "ours"), filepath.Join(t.TempDir(), "theirs")
	mustCLI(t, "extract", w, "1", "/Windows/System32", "/Users/Public/note.txt", "--dest", ours, "--quiet")
	peer(t, wimlib, "extract", w, "1", "/Windows/System32", "/Users/Public/note.txt", "--dest-dir="+theirs)
	if a, b := strings.Join(listing(t, ours), "\n"), strings.Join(listing(t, theirs), "\n"); a != b {
		t.Errorf("extract:\nreseal:\n%s\nwimlib:\n%s", a, b)
	}
	// A relative link extracted alone stays a link inside DEST.
	l := filepath.Join(t.TempDir(), "l")
	mustCLI(t, "extract", w, "1", "/Users/Public/link", "--dest", l, "--quiet")
	if target, err := os.Readlink(filepath.Join(l, "link")); err != nil || target != "note.txt" {
		t.Errorf("extracted link: %q %v", target, err)
	}

	// Export both images to an XPRESS WIM, rename, delete, optimize, split.
	e := filepath.Join(dir, "e.wim")
	mustCLI(t, "export", w, "all", e, "--compress", "xpress", "--quiet")
	mustCLI(t, "info", e, "2", "--name", "renamed", "--description", "the users")
	info := peer(t, wimlib, "info", e)
	if !strings.Contains(info, "Compression:    XPRESS") || !strings.Contains(info, "Name:                   renamed") || !strings.Contains(info, "Description:            the users") {
		t.Fatalf("wimlib info after export and rename:\n%s", info)
	}
	if code, _, _ := runCLI(t, "info", e, "2", "--name", "one"); code != exitRefused {
		t.Errorf("renaming to a name taken: exit %d", code)
	}
	mustCLI(t, "delete", e, "one", "--quiet")
	info = peer(t, wimlib, "info", e)
	if !strings.Contains(info, "Image Count:    1") || !strings.Contains(info, "Name:                   renamed") {
		t.Fatalf("wimlib info after delete:\n%s", info)
	}
	peer(t, wimlib, "verify", e)
	mustCLI(t, "optimize", e, "--recompress", "--quiet")
	applied := filepath.Join(t.TempDir(), "applied")
	peer(t, wimlib, "apply", e, "1", applied)
	if a, b := strings.Join(listing(t, applied), "\n"), strings.Join(listing(t, filepath.Join(src, "Users")), "\n"); a != b {
		t.Errorf("apply after delete and optimize:\n%s\nwant:\n%s", a, b)
	}

	// An ESD-style solid export and back, then a split set.
	esd := filepath.Join(dir, "x.esd")
	mustCLI(t, "export", w, "all", esd, "--solid", "--quiet")
	peer(t, wimlib, "verify", esd)
	back := filepath.Join(dir, "back.wim")
	mustCLI(t, "export", esd, "all", back, "--compress", "lzx", "--quiet")
	peer(t, wimlib, "verify", back)
	if code, _, _ := runCLI(t, "split", esd, filepath.Join(dir, "s.swm"), "1"); code != exitRefused {
		t.Errorf("split of a solid WIM: exit %d", code)
	}
	mustCLI(t, "split", back, filepath.Join(dir, "s.swm"), "0.05", "--quiet")
	peer(t, wimlib, "verify", filepath.Join(dir, "s.swm"), "--ref="+filepath.Join(dir, "s*.swm"))
	mustCLI(t, "verify", filepath.Join(dir, "s.swm"), "--quiet")
	// info of every part, the later ones on their own, says what wimlib's
	// does: the set's GUID, part N of M, the images.
	parts, _ := filepath.Glob(filepath.Join(dir, "s*.swm"))
	if len(parts) < 2 {
		t.Fatalf("split wrote %d parts", len(parts))
	}
	for _, part := range parts {
		ours, theirs := infoLines(mustCLI(t, "info", part)), infoLines(peer(t, wimlib, "info", part))
		if ours != theirs {
			t.Errorf("info %s:\n%s\nwimlib:\n%s", filepath.Base(part), ours, theirs)
		}
	}
	fromSplit := filepath.Join(t.TempDir(), "fromsplit")
	mustCLI(t, "apply", filepath.Join(dir, "s.swm"), "1", fromSplit, "--quiet")
	if a, b := strings.Join(listing(t, fromSplit), "\n"), strings.Join(listing(t, src), "\n"); a != b {
		t.Errorf("apply of the split set:\n%s\nwant:\n%s", a, b)
	}
}

// TestRewriteInterruptedLeavesOriginal: a delete, optimize or export
// stopped part-way leaves the WIM as it was and no temporary file.
func TestRewriteInterruptedLeavesOriginal(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	os.MkdirAll(src, 0o755)
	for i := 0; i < 20; i++ {
		os.WriteFile(filepath.Join(src, "f"+itoa64(int64(i))), []byte(strings.Repeat(itoa64(int64(i)), 50000+i)), 0o644)
	}
	dir := t.TempDir()
	w := filepath.Join(dir, "x.wim")
	mustCLI(t, "capture", src, w, "--quiet")
	mustCLI(t, "capture", src, w, "--name", "again", "--append", "--quiet")
	before, _ := os.ReadFile(w)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := func(done, total int64) {
		if done > 0 {
			cancel()
		}
	}
	if err := wim.Optimize(ctx, w, wim.RewriteOptions{Recompress: true, Progress: stop}); err == nil {
		t.Fatal("optimize stopped part-way reported success")
	}
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	r, err := wim.Open(w)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := wim.Export(ctx, r, []int{1}, w+".new", wim.ExportOptions{Compression: wim.CompressLZX, CompressionSet: true, Progress: stop}); err == nil {
		t.Fatal("export stopped part-way reported success")
	}
	after, _ := os.ReadFile(w)
	if string(before) != string(after) {
		t.Error("the WIM changed")
	}
	names, _ := os.ReadDir(dir)
	if len(names) != 1 {
		t.Errorf("left behind: %v", names)
	}
}

// infoLines keeps the lines of `info` that reseal and wimlib print alike
// for a split part (wimlib's Size is the XML's total bytes, ours the file's).
func infoLines(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		for _, p := range []string{"GUID:", "Image Count:", "Compression:", "Part Number:", "Boot Index:", "Index:", "Name:", "File Count:"} {
			if strings.HasPrefix(l, p) {
				keep = append(keep, strings.Join(strings.Fields(l), " "))
			}
		}
	}
	return strings.Join(keep, "\n")
}
