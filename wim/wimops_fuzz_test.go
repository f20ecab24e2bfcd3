package wim

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// FuzzRewrite feeds arbitrary bytes, as a WIM, to Export (non-solid and
// solid), Delete and Optimize: errors are fine; panics, hangs and a
// temporary file left behind are not, and what Export writes from a WIM
// whose every blob verifies must itself verify. Seeds: WIMs of ours and,
// when wimlib is installed, wimlib's solid ones (two images).
func FuzzRewrite(f *testing.F) {
	src := filepath.Join(f.TempDir(), "src")
	os.MkdirAll(filepath.Join(src, "d"), 0o755)
	os.WriteFile(filepath.Join(src, "a.txt"), []byte("hello"), 0o644)
	os.WriteFile(filepath.Join(src, "d", "b.bin"), bytes.Repeat([]byte("abc"), 20000), 0o644)
	os.WriteFile(filepath.Join(src, "d", "c.bin"), bytes.Repeat([]byte("xyz"), 7000), 0o644)
	for _, opts := range []CaptureOptions{{Compression: CompressXPRESS}, {Compression: CompressLZX, Solid: true, SolidCompression: CompressXPRESS}} {
		p := filepath.Join(f.TempDir(), "ours.wim")
		opts.Threads, opts.Name = 1, "x"
		if err := Capture(context.Background(), src, p, opts); err != nil {
			f.Fatal(err)
		}
		data, _ := os.ReadFile(p)
		f.Add(data)
	}
	if wimlib, err := exec.LookPath("wimlib-imagex"); err == nil {
		p := filepath.Join(f.TempDir(), "wimlib.wim")
		for _, args := range [][]string{{"capture", src, p, "one", "--solid", "--solid-compress=xpress", "--solid-chunk-size=32768"}, {"append", filepath.Join(src, "d"), p, "two", "--solid"}} {
			if out, err := exec.Command(wimlib, args...).CombinedOutput(); err != nil {
				f.Fatalf("%v: %s", err, out)
			}
		}
		data, _ := os.ReadFile(p)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil || len(r.infos) == 0 || len(r.infos) > 4 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		problems, err := r.Verify(ctx, nil)
		healthy := err == nil && len(problems) == 0
		dir := t.TempDir()
		var all []int
		for i := range r.infos {
			all = append(all, i+1)
		}
		for _, opts := range []ExportOptions{{Compression: CompressXPRESS, CompressionSet: true}, {Solid: true, SolidCompression: CompressXPRESS, SolidChunkSize: 1 << 15, Compression: CompressXPRESS, CompressionSet: true}} {
			dest := filepath.Join(dir, "out.wim")
			os.Remove(dest)
			opts.Threads = 1
			err := Export(ctx, r, all, dest, opts)
			if err != nil {
				continue
			}
			out, err := Open(dest)
			if err != nil {
				if healthy {
					t.Fatalf("export of a healthy WIM does not open: %v", err)
				}
				continue
			}
			ps, err := out.Verify(ctx, nil)
			out.Close()
			if healthy && (err != nil || len(ps) > 0) {
				t.Fatalf("export of a healthy WIM does not verify: %v %v", ps, err)
			}
		}
		path := filepath.Join(dir, "in.wim")
		os.WriteFile(path, data, 0o644)
		Delete(ctx, path, 1, RewriteOptions{Threads: 1})
		os.WriteFile(path, data, 0o644)
		Optimize(ctx, path, RewriteOptions{Threads: 1})
		os.Remove(path)
		os.Remove(filepath.Join(dir, "out.wim"))
		if left, _ := os.ReadDir(dir); len(left) > 0 {
			t.Fatalf("left behind: %v", left)
		}
	})
}
