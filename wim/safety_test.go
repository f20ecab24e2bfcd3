//go:build linux

package wim

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A cancelled capture fails and leaves neither the WIM nor a temporary file.
func TestCaptureCancelled(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Capture(ctx, src, filepath.Join(dir, "x.wim"), CaptureOptions{Compression: CompressLZX}); err == nil {
		t.Fatal("cancelled capture succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("cancelled capture left %v", entries)
	}
}

// Applying over a destination that already holds links where the image has
// files replaces the links and never writes through them.
func TestApplyDoesNotFollowExistingLinks(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src)
	wimPath := filepath.Join(t.TempDir(), "x.wim")
	if err := Capture(context.Background(), src, wimPath, CaptureOptions{Compression: CompressXPRESS}); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(outside, []byte("untouched"), 0o644); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "dest")
	os.MkdirAll(filepath.Join(dest, "sub"), 0o755)
	os.Symlink(outside, filepath.Join(dest, "hello.txt"))
	os.Symlink(outside, filepath.Join(dest, "sub", "big.bin"))
	os.Symlink(filepath.Dir(outside), filepath.Join(dest, "empty dir"))
	r, err := Open(wimPath)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	err = r.Apply(context.Background(), 1, dest, ApplyOptions{})
	if b, _ := os.ReadFile(outside); string(b) != "untouched" {
		t.Fatalf("apply wrote through a link: %q", b)
	}
	// The symlink in the way of a directory is refused, not followed.
	if err == nil || !strings.Contains(err.Error(), "empty dir") {
		t.Fatalf("apply over a link where a directory goes: %v", err)
	}
	os.Remove(filepath.Join(dest, "empty dir"))
	if err := r.Apply(context.Background(), 1, dest, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(outside); string(b) != "untouched" {
		t.Fatalf("apply wrote through a link: %q", b)
	}
	compareTrees(t, src, dest)
}

// A WIM written inside the tree it captures is not captured into itself.
func TestCaptureIntoTheSourceTree(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src)
	wimPath := filepath.Join(src, "sub", "self.wim")
	for i, app := range []bool{false, true} {
		if err := Capture(context.Background(), src, wimPath, CaptureOptions{Append: app, Name: []string{"a", "b"}[i]}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Open(wimPath)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	img, err := r.Image(2)
	if err != nil {
		t.Fatal(err)
	}
	img.Root.Walk(func(f *File) error {
		if strings.HasPrefix(f.Name, "self.wim") || strings.HasPrefix(f.Name, ".self.wim") {
			t.Errorf("the WIM captured %s", f.Path())
		}
		return nil
	})
}
