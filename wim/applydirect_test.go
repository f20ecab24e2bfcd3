//go:build linux

package wim

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestApplyDirectInNewDirectories: files in directories an apply creates
// are written under their own names (no temporary, no rename). What that
// must not change: a file left short under its own name (an apply killed
// part-way) is replaced by the next apply, through a temporary since its
// directory exists then; a damaged blob leaves nothing under its name.
func TestApplyDirectInNewDirectories(t *testing.T) {
	src, wimPath := captureTestWIM(t, CompressXPRESS)
	r, err := Open(wimPath)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dest := filepath.Join(t.TempDir(), "dest")
	if err := r.Apply(context.Background(), 1, dest, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	compareTrees(t, src, dest)

	// What a killed apply leaves in a directory it created: a short file
	// under the final name. And a link where a file will go, pointing out.
	big := filepath.Join(dest, "sub", "big.bin")
	if err := os.Truncate(big, 1000); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "outside")
	if err := os.WriteFile(outside, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	x := filepath.Join(dest, "sub", "deep", "deeper", "x")
	if err := os.Remove(x); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, x); err != nil {
		t.Fatal(err)
	}
	if err := r.Apply(context.Background(), 1, dest, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	compareTrees(t, src, dest)
	if b, err := os.ReadFile(outside); err != nil || string(b) != "keep" {
		t.Errorf("the file a link in DEST pointed to was written through: %q, %v", b, err)
	}
	filepath.Walk(dest, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.Contains(filepath.Base(p), ".reseal-") {
			t.Errorf("apply left a temporary file %s", p)
		}
		return nil
	})
}
