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

// FuzzRefs feeds arbitrary bytes, as a referenced file (OpenOptions.Refs),
// to the opening, verification and export of a delta WIM whose file data
// lives in that file: errors are fine; panics, hangs, a temporary file
// left behind are not, and when verify finds the pair healthy, the export
// is a WIM that holds all its data (it verifies without the reference).
// Seeds: base WIMs in several compressions (a solid one among them) of
// which wimlib made the delta; without wimlib, WIMs of ours beside a
// complete one (every blob then comes from the WIM itself).
func FuzzRefs(f *testing.F) {
	dir := f.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(filepath.Join(src, "d"), 0o755)
	os.WriteFile(filepath.Join(src, "a.txt"), []byte("hello"), 0o644)
	os.WriteFile(filepath.Join(src, "d", "b.bin"), bytes.Repeat([]byte("abc"), 20000), 0o644)
	os.WriteFile(filepath.Join(src, "d", "c.bin"), bytes.Repeat([]byte("xyz"), 7000), 0o644)
	main := filepath.Join(dir, "main.wim")
	wimlib, err := exec.LookPath("wimlib-imagex")
	if err == nil {
		args := [][]string{{"--compress=xpress"}, {"--compress=lzx"}, {"--solid", "--solid-compress=xpress", "--solid-chunk-size=32768"}, {"--compress=none"}}
		for i, a := range args {
			p := filepath.Join(dir, "base"+string(rune('0'+i))+".wim")
			if out, err := exec.Command(wimlib, append([]string{"capture", src, p, "base"}, a...)...).CombinedOutput(); err != nil {
				f.Fatalf("%v: %s", err, out)
			}
			data, _ := os.ReadFile(p)
			f.Add(data)
		}
		// The delta is made against the first base: the others hold the
		// same data under the same hashes, differently stored.
		os.WriteFile(filepath.Join(src, "new.txt"), bytes.Repeat([]byte("new "), 3000), 0o644)
		out, err := exec.Command(wimlib, "capture", src, main, "delta", "--compress=xpress", "--delta-from="+filepath.Join(dir, "base0.wim")).CombinedOutput()
		if err != nil {
			f.Fatalf("%v: %s", err, out)
		}
	} else {
		for _, opts := range []CaptureOptions{{Compression: CompressXPRESS}, {Compression: CompressLZX, Solid: true, SolidCompression: CompressXPRESS}} {
			p := filepath.Join(dir, "ours.wim")
			opts.Threads, opts.Name = 1, "x"
			if err := Capture(context.Background(), src, p, opts); err != nil {
				f.Fatal(err)
			}
			data, _ := os.ReadFile(p)
			f.Add(data)
		}
		if err := Capture(context.Background(), src, main, CaptureOptions{Compression: CompressXPRESS, Threads: 1}); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tmp := t.TempDir()
		ref := filepath.Join(tmp, "ref.wim")
		if err := os.WriteFile(ref, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := OpenWith(main, OpenOptions{Refs: []string{ref}})
		if err != nil {
			return
		}
		defer r.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		problems, err := r.Verify(ctx, nil)
		healthy := err == nil && len(problems) == 0
		for _, opts := range []ExportOptions{{Threads: 1}, {Compression: CompressLZX, CompressionSet: true, Threads: 1}} {
			dest := filepath.Join(tmp, "out.wim")
			os.Remove(dest)
			err := Export(ctx, r, []int{1}, dest, opts)
			if healthy && err != nil && ctx.Err() == nil {
				t.Fatalf("export of a healthy pair: %v", err)
			}
			if err == nil && healthy {
				out, err := Open(dest)
				if err != nil {
					t.Fatalf("the export does not open alone: %v", err)
				}
				ps, err := out.Verify(ctx, nil)
				out.Close()
				if ctx.Err() == nil && (err != nil || len(ps) > 0) {
					t.Fatalf("the export does not verify alone: %v %v", ps, err)
				}
			}
		}
		left, _ := filepath.Glob(filepath.Join(tmp, ".out.wim.reseal-*"))
		if len(left) > 0 {
			t.Fatalf("temporary files left: %v", left)
		}
	})
}
