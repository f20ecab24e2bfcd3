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

// FuzzOpen feeds arbitrary bytes to the header, blob table, XML and metadata
// parsers and to Verify: errors are fine, panics and hangs are not. The
// seeds are real WIMs: ours in each compression and, when wimlib is
// installed, wimlib's (with an integrity table and a solid resource).
func FuzzOpen(f *testing.F) {
	src := filepath.Join(f.TempDir(), "src")
	os.MkdirAll(filepath.Join(src, "d", "e"), 0o755)
	os.WriteFile(filepath.Join(src, "a.txt"), []byte("hello"), 0o644)
	os.WriteFile(filepath.Join(src, "d", "b.bin"), bytes.Repeat([]byte("abc"), 20000), 0o644)
	os.Link(filepath.Join(src, "a.txt"), filepath.Join(src, "d", "hard"))
	os.Symlink("../a.txt", filepath.Join(src, "d", "link"))
	for i, comp := range []Compression{CompressNone, CompressXPRESS, CompressLZX} {
		p := filepath.Join(f.TempDir(), "ours.wim")
		if err := Capture(context.Background(), src, p, CaptureOptions{Compression: comp, Check: i == 0, ChunkSize: 32768}); err != nil {
			f.Fatal(err)
		}
		data, _ := os.ReadFile(p)
		f.Add(data)
	}
	if wimlib, err := exec.LookPath("wimlib-imagex"); err == nil {
		for _, args := range [][]string{{"--compress=none", "--check"}, {"--solid"}, {"--compress=xpress"}} {
			p := filepath.Join(f.TempDir(), "wimlib.wim")
			os.Remove(p)
			if out, err := exec.Command(wimlib, append([]string{"capture", src, p}, args...)...).CombinedOutput(); err != nil {
				f.Fatalf("%v: %s", err, out)
			}
			data, _ := os.ReadFile(p)
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, info := range r.Images() {
			img, err := r.Image(info.Index)
			if err != nil {
				continue
			}
			if plan, err := planApply(img, r.header.RPFix()); err == nil {
				plan.resolveLinks(r, r.header.RPFix())
			}
		}
		r.Verify(ctx, nil)
	})
}
