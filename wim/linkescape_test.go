//go:build linux

package wim

import (
	"bytes"
	"context"
	"crypto/sha1"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// patchReparseTarget rewrites, in an uncompressed WIM, the target of every
// link whose reparse data holds from (as UTF-16) to to (the same length),
// then fixes the SHA-1 of the reparse blob wherever it is named and the
// SHA-1 of the metadata: the image is well formed, only the target is what
// an attacker chose.
func patchReparseTarget(t *testing.T, wimPath, from, to string) {
	t.Helper()
	if len(from) != len(to) {
		t.Fatal("patchReparseTarget: lengths differ")
	}
	r, err := Open(wimPath)
	if err != nil {
		t.Fatal(err)
	}
	var target *blob
	data, _ := os.ReadFile(wimPath)
	old := encodeUTF16(from)
	for _, b := range r.blobs {
		if b.solid == nil && bytes.Contains(data[b.res.Offset:b.res.Offset+b.res.StoredSize], old) {
			target = b
		}
	}
	r.Close()
	if target == nil {
		t.Fatalf("no blob holds %q", from)
	}
	res := data[target.res.Offset : target.res.Offset+target.res.StoredSize]
	copy(res, bytes.ReplaceAll(res, old, encodeUTF16(to)))
	sum := sha1.Sum(res)
	data = bytes.ReplaceAll(data, target.hash[:], sum[:])
	if err := os.WriteFile(wimPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	patchMetadata(t, wimPath, func([]byte) {})
}

// linksInside fails the test for every symbolic link under dest whose
// target, as the kernel resolves it, or as written (for a dangling one),
// is outside dest.
func linksInside(t *testing.T, dest string, notOurs ...string) {
	t.Helper()
	realDest, err := filepath.EvalSymlinks(dest)
	if err != nil {
		return // nothing was created
	}
	inside := func(p string) bool { return p == realDest || strings.HasPrefix(p, realDest+"/") }
	filepath.Walk(realDest, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.Mode()&os.ModeSymlink == 0 {
			return nil
		}
		for _, n := range notOurs {
			if filepath.Base(p) == n {
				return nil
			}
		}
		text, _ := os.Readlink(p)
		if resolved, err := filepath.EvalSymlinks(p); err == nil {
			if !inside(resolved) {
				t.Errorf("link %s -> %s resolves outside DEST, to %s", p, text, resolved)
			}
			return nil
		}
		lexical := text
		if !filepath.IsAbs(text) {
			lexical = filepath.Join(filepath.Dir(p), text)
		}
		if !inside(filepath.Clean(lexical)) {
			t.Errorf("dangling link %s -> %s points outside DEST", p, text)
		}
		return nil
	})
}

func TestApplyLinksStayInside(t *testing.T) {
	cases := []struct {
		name     string
		build    func(t *testing.T, src string)
		from, to string                                   // patch of a reparse target, if from != ""
		preDest  func(t *testing.T, dest, outside string) // what DEST holds before apply
		refused  bool
	}{
		{
			// The relative flag with a target starting with '\': relative to
			// the volume root, never the host's root.
			name: "relative flag, rooted target",
			build: func(t *testing.T, src string) {
				os.MkdirAll(filepath.Join(src, "a", "b"), 0o755)
				os.Symlink("_.._.._outside", filepath.Join(src, "a", "b", "l"))
			},
			from: "_.._.._outside", to: `\..\..\outside`, refused: true,
		},
		{
			name: "relative flag, rooted target inside",
			build: func(t *testing.T, src string) {
				os.MkdirAll(filepath.Join(src, "a", "b"), 0o755)
				os.Symlink("_a_b", filepath.Join(src, "a", "b", "l"))
			},
			from: "_a_b", to: `\a\b`,
		},
		{
			// T -> c/S/.. where S is a rooted-relative link: resolved as the
			// kernel will, through S as written on disk.
			name: "chain through a rooted link",
			build: func(t *testing.T, src string) {
				os.MkdirAll(filepath.Join(src, "c"), 0o755)
				os.Mkdir(filepath.Join(src, "x"), 0o755)
				os.Symlink("_x", filepath.Join(src, "c", "S"))
				os.Symlink("c/S/..", filepath.Join(src, "T"))
			},
			from: "_x", to: `\x`,
		},
		{
			name: "chain leaving through a rooted link",
			build: func(t *testing.T, src string) {
				os.MkdirAll(filepath.Join(src, "c"), 0o755)
				os.Symlink("__", filepath.Join(src, "c", "S"))
				os.Symlink("c/S/..", filepath.Join(src, "T"))
			},
			from: "__", to: `\.`, refused: true,
		},
		{
			// A link already in DEST (not from the image) that points out:
			// the image's T -> x/.. looks harmless in the image alone.
			name: "through a link already in DEST",
			build: func(t *testing.T, src string) {
				os.Symlink("x/..", filepath.Join(src, "T"))
			},
			preDest: func(t *testing.T, dest, outside string) {
				os.MkdirAll(filepath.Join(outside, "sub"), 0o755)
				os.MkdirAll(dest, 0o755)
				os.Symlink(filepath.Join(outside, "sub"), filepath.Join(dest, "x"))
			},
			refused: true,
		},
		{
			// Links created in the same apply, one through the other.
			name: "through a link made earlier in the same apply",
			build: func(t *testing.T, src string) {
				os.MkdirAll(filepath.Join(src, "d", "e"), 0o755)
				os.Symlink("d/e", filepath.Join(src, "A"))
				os.Symlink("A/../..", filepath.Join(src, "B"))
			},
		},
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
			if c.from != "" {
				patchReparseTarget(t, wimPath, c.from, c.to)
			}
			r, err := Open(wimPath)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			top := t.TempDir()
			dest := filepath.Join(top, "dest")
			outside := filepath.Join(top, "outside")
			if c.preDest != nil {
				c.preDest(t, dest, outside)
			}
			err = r.Apply(context.Background(), 1, dest, ApplyOptions{})
			if c.refused && !errors.Is(err, ErrUnsafe) {
				t.Errorf("apply: %v, want ErrUnsafe", err)
			}
			if !c.refused && err != nil {
				t.Errorf("apply: %v", err)
			}
			linksInside(t, dest, "x")
			if _, err := os.Lstat("/outside"); err == nil && c.from != "" {
				t.Log("note: /outside exists on this machine")
			}
		})
	}
}

// A file whose data in the image is corrupt does not replace the file
// already in DEST: the old one stays, no temporary file is left, and the
// error says how much was written.
func TestApplyKeepsOldFileWhenDataIsCorrupt(t *testing.T) {
	_, wimPath := captureTestWIM(t, CompressXPRESS)
	b, _ := bigBlob(t, wimPath)
	flipByte(t, wimPath, b.res.Offset+b.res.StoredSize-100)
	dest := filepath.Join(t.TempDir(), "dest")
	os.MkdirAll(filepath.Join(dest, "sub"), 0o755)
	var precious []string
	for _, name := range []string{"sub/big.bin", "big-copy.bin", "sub/deep/big-link.bin"} {
		p := filepath.Join(dest, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("the user's own file"), 0o644); err != nil {
			t.Fatal(err)
		}
		precious = append(precious, p)
	}
	r, err := Open(wimPath)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	err = r.Apply(context.Background(), 1, dest, ApplyOptions{})
	if err == nil {
		t.Fatal("apply of corrupt data succeeded")
	}
	for _, p := range precious {
		if got, _ := os.ReadFile(p); string(got) != "the user's own file" {
			t.Errorf("the existing file %s was destroyed: now %d bytes", p, len(got))
		}
	}
	if !strings.Contains(err.Error(), "bytes of file data written") {
		t.Errorf("the error does not say how much of DEST was written: %v", err)
	}
	filepath.Walk(dest, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.Contains(filepath.Base(p), ".reseal-") {
			t.Errorf("apply left a temporary file %s", p)
		}
		return nil
	})
}

// What capture records, apply accepts: a tree with an absolute symbolic
// link to outside the source is captured (the link kept, marked not fixed,
// as wimlib's --rpfix does, with a warning) and applied (everything but that
// link, with a warning), never refused and never made to point outside DEST.
func TestCaptureAndApplyAgreeOnOutsideLinks(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	os.Mkdir(src, 0o755)
	os.WriteFile(filepath.Join(src, "f"), []byte("data"), 0o644)
	os.Symlink("/etc/passwd", filepath.Join(src, "out"))
	os.Symlink("f", filepath.Join(src, "in"))
	wimPath := filepath.Join(t.TempDir(), "x.wim")
	var capWarn []string
	if err := Capture(context.Background(), src, wimPath, CaptureOptions{Warning: func(m string) { capWarn = append(capWarn, m) }}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(capWarn, "\n"), "out") {
		t.Errorf("capture did not warn about the link to outside the tree: %q", capWarn)
	}
	r, err := Open(wimPath)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dest := filepath.Join(t.TempDir(), "dest")
	var applyWarn []string
	if err := r.Apply(context.Background(), 1, dest, ApplyOptions{Warning: func(m string) { applyWarn = append(applyWarn, m) }}); err != nil {
		t.Fatalf("apply refused what capture wrote: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dest, "out")); err == nil {
		t.Error("apply created the link to outside DEST")
	}
	if !strings.Contains(strings.Join(applyWarn, "\n"), "/out") {
		t.Errorf("apply did not warn about the link it skipped: %q", applyWarn)
	}
	if got, err := os.ReadFile(filepath.Join(dest, "in")); err != nil || string(got) != "data" {
		t.Errorf("the link inside: %q, %v", got, err)
	}
	linksInside(t, dest)
}
