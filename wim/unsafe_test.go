//go:build linux

package wim

import (
	"bytes"
	"context"
	"crypto/sha1"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// patchMetadata edits image 1's (uncompressed) metadata resource in place
// and fixes its SHA-1 in the blob table, so that only the edit is wrong.
func patchMetadata(t *testing.T, wimPath string, edit func([]byte)) {
	t.Helper()
	r, err := Open(wimPath)
	if err != nil {
		t.Fatal(err)
	}
	m := *r.meta[0]
	bt := r.header.blobTable
	r.Close()
	data, err := os.ReadFile(wimPath)
	if err != nil {
		t.Fatal(err)
	}
	meta := data[m.res.Offset : m.res.Offset+m.res.StoredSize]
	edit(meta)
	sum := sha1.Sum(meta)
	for off := bt.Offset; off < bt.Offset+bt.StoredSize; off += blobEntrySize {
		if Hash(data[off+30:off+50]) == m.hash {
			copy(data[off+30:], sum[:])
		}
	}
	if err := os.WriteFile(wimPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestApplyRefusesUnsafeImages(t *testing.T) {
	rename := func(from, to string) func([]byte) {
		return func(meta []byte) {
			old, repl := encodeUTF16(from), encodeUTF16(to)
			if !bytes.Contains(meta, old) {
				panic("name not found")
			}
			copy(meta[bytes.Index(meta, old):], repl)
		}
	}
	cases := []struct {
		name  string
		build func(t *testing.T, dir string)
		edit  func([]byte)
	}{
		{"dot-dot name", func(t *testing.T, d string) { os.WriteFile(filepath.Join(d, "ZZ"), []byte("x"), 0o644) }, rename("ZZ", "..")},
		{"slash in name", func(t *testing.T, d string) { os.WriteFile(filepath.Join(d, "a_b"), []byte("x"), 0o644) }, rename("a_b", "a/b")},
		{"backslash in name", func(t *testing.T, d string) { os.WriteFile(filepath.Join(d, "a_b"), []byte("x"), 0o644) }, rename("a_b", `a\b`)},
		{"NUL in name", func(t *testing.T, d string) { os.WriteFile(filepath.Join(d, "a_b"), []byte("x"), 0o644) }, rename("a_b", "a\x00b")},
		{"drive in name", func(t *testing.T, d string) { os.WriteFile(filepath.Join(d, "C_x"), []byte("x"), 0o644) }, rename("C_x", "C:x")},
		{"relative link out", func(t *testing.T, d string) { os.Symlink("../../etc/passwd", filepath.Join(d, "l")) }, nil},
		{"link out through another link", func(t *testing.T, d string) {
			os.Mkdir(filepath.Join(d, "a"), 0o755)
			os.Symlink("..", filepath.Join(d, "a", "l"))
			os.Symlink("a/l/../..", filepath.Join(d, "m"))
		}, nil},
		{"link cycle", func(t *testing.T, d string) {
			os.Symlink("b/x", filepath.Join(d, "a"))
			os.Symlink("a/x", filepath.Join(d, "b"))
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := filepath.Join(t.TempDir(), "src")
			os.Mkdir(src, 0o755)
			c.build(t, src)
			wimPath := filepath.Join(t.TempDir(), "x.wim")
			if err := Capture(context.Background(), src, wimPath, CaptureOptions{}); err != nil {
				t.Fatal(err)
			}
			if c.edit != nil {
				patchMetadata(t, wimPath, c.edit)
			}
			r, err := Open(wimPath)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			parent := t.TempDir()
			dest := filepath.Join(parent, "dest")
			err = r.Apply(context.Background(), 1, dest, ApplyOptions{})
			if !errors.Is(err, ErrUnsafe) {
				t.Fatalf("apply: %v, want ErrUnsafe", err)
			}
			if _, err := os.Stat(dest); err == nil {
				t.Errorf("dest was created although the image was refused before writing")
			}
			entries, _ := os.ReadDir(parent)
			if len(entries) != 0 {
				t.Errorf("something was written beside dest: %v", entries)
			}
		})
	}
}
