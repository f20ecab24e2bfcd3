package beneath

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// tree is root/ with a real directory d/ holding f, a link "ln" to an
// outside directory holding victim, and a link "d/up" to "..".
func tree(t *testing.T) (root, outside string) {
	t.Helper()
	base := t.TempDir()
	root, outside = filepath.Join(base, "root"), filepath.Join(base, "outside")
	for _, d := range []string{filepath.Join(root, "d"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for p, c := range map[string]string{filepath.Join(root, "d", "f"): "f", filepath.Join(outside, "victim"): "keep"} {
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(root, "ln")); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	if err := os.Symlink("..", filepath.Join(root, "d", "up")); err != nil {
		t.Fatal(err)
	}
	return root, outside
}

func bothWays(t *testing.T, f func(t *testing.T)) {
	t.Run("openat2", f)
	if runtime.GOOS == "linux" {
		t.Run("walk", func(t *testing.T) {
			withoutOpenat2(t)
			f(t)
		})
	}
}

func TestNoLinkFollowed(t *testing.T) {
	bothWays(t, func(t *testing.T) {
		root, outside := tree(t)
		d, err := Open(root)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		ops := map[string]func() error{
			"lstat":       func() error { _, err := d.Lstat("ln/victim"); return err },
			"read":        func() error { _, err := d.ReadFile("ln/victim", 100); return err },
			"read link":   func() error { _, err := d.ReadFile("ln", 100); return err },
			"remove":      func() error { return d.Remove("ln/victim") },
			"removeall":   func() error { return d.RemoveAll("ln/victim") },
			"rename out":  func() error { return d.Rename("d/f", "ln/f") },
			"rename in":   func() error { return d.Rename("ln/victim", "d/g") },
			"mkdirall":    func() error { return d.MkdirAll("ln/new/dir", 0o755) },
			"create":      func() error { _, err := d.Create("ln/new", 0o644); return err },
			"create link": func() error { _, err := d.Create("ln", 0o644); return err },
			"dotdot link": func() error { _, err := d.Lstat("d/up/d/f"); return err },
			"escape":      func() error { _, err := d.Lstat("../outside/victim"); return err },
			"backslash":   func() error { _, err := d.Lstat(`d\f`); return err },
			"absolute":    func() error { _, err := d.Lstat("/etc/passwd"); return err },
		}
		for name, op := range ops {
			if err := op(); err == nil {
				t.Errorf("%s: followed a link or left the tree", name)
			}
		}
		if b, err := os.ReadFile(filepath.Join(outside, "victim")); err != nil || string(b) != "keep" {
			t.Errorf("outside changed: %q %v", b, err)
		}
		entries, _ := os.ReadDir(outside)
		if len(entries) != 1 {
			t.Errorf("outside has %d entries", len(entries))
		}
		// RemoveAll of the link itself removes the link only.
		if err := d.RemoveAll("ln"); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(outside, "victim")); err != nil {
			t.Errorf("RemoveAll followed the link: %v", err)
		}
		// RemoveAll of a directory holding a link to outside.
		if err := os.Symlink(outside, filepath.Join(root, "d", "ln2")); err != nil {
			t.Fatal(err)
		}
		if err := d.RemoveAll("d"); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(outside, "victim")); err != nil {
			t.Errorf("RemoveAll followed a link inside: %v", err)
		}
	})
}

func TestOperationsBeneath(t *testing.T) {
	bothWays(t, func(t *testing.T) {
		root, _ := tree(t)
		d, err := Open(root)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if err := d.MkdirAll("a/b/c", 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := d.Create("a/b/c/x", 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("hello")
		f.Close()
		if err := d.Rename("a/b/c/x", "d/y"); err != nil {
			t.Fatal(err)
		}
		if b, err := d.ReadFile("d/y", 5); err != nil || string(b) != "hello" {
			t.Fatalf("read %q %v", b, err)
		}
		if _, err := d.ReadFile("d/y", 4); !errors.Is(err, ErrTooLarge) {
			t.Errorf("budget: %v", err)
		}
		if ok, err := d.IsRealDir("a/b"); !ok || err != nil {
			t.Errorf("IsRealDir(a/b) = %v %v", ok, err)
		}
		if ok, _ := d.IsRealDir("ln"); ok {
			t.Error("a link counts as a real directory")
		}
		if err := d.SyncDir("a/b"); err != nil {
			t.Error(err)
		}
		if err := d.RemoveAll("a"); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Lstat("a"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a left: %v", err)
		}
	})
}
