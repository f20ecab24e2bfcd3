package wim

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

// TestImageCountsAsWimlib: the counts UpdateImage writes in the XML data
// are computed as wimlib computes them for the images it captures.
func TestImageCountsAsWimlib(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	src := t.TempDir()
	for _, d := range []string{"a/b/c", "d", "e/f"} {
		if err := os.MkdirAll(filepath.Join(src, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i, f := range []string{"x", "a/y", "a/b/z", "a/b/c/w", "e/f/v"} {
		if err := os.WriteFile(filepath.Join(src, f), make([]byte, 1000*(i+1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Link(filepath.Join(src, "x"), filepath.Join(src, "d", "x-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a/y", filepath.Join(src, "sym")); err != nil {
		t.Fatal(err)
	}
	wimPath := filepath.Join(t.TempDir(), "t.wim")
	runPeer(t, wimlib, "capture", src, wimPath, "t")
	r, err := Open(wimPath)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	img, err := r.Image(1)
	if err != nil {
		t.Fatal(err)
	}
	got, want := imageCounts(img), r.Images()[0]
	if got.DirCount != want.DirCount || got.FileCount != want.FileCount || got.TotalBytes != want.TotalBytes || got.HardLinkBytes != want.HardLinkBytes {
		t.Errorf("counts dirs %d files %d bytes %d hard-link bytes %d; wimlib wrote %d %d %d %d",
			got.DirCount, got.FileCount, got.TotalBytes, got.HardLinkBytes, want.DirCount, want.FileCount, want.TotalBytes, want.HardLinkBytes)
	}
}
