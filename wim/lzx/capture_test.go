package lzx_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
	"github.com/reseal/reseal/wim"
)

// TestCaptureLZXVerifiedByWimlib captures a tree with reseal's WIM writer
// using this LZX compressor, then has wimlib verify and extract it.
func TestCaptureLZXVerifiedByWimlib(t *testing.T) {
	imagex := testenv.Peer(t, "wimlib-imagex")
	src := t.TempDir()
	gorootOut, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("go env GOROOT: %v", err)
	}
	goroot := strings.TrimSpace(string(gorootOut))
	gofmt, err := os.ReadFile(filepath.Join(goroot, "bin", "gofmt"))
	if err != nil {
		t.Skip(err)
	}
	text, _ := os.ReadFile(filepath.Join(goroot, "src", "fmt", "print.go"))
	files := map[string][]byte{
		"gofmt":    gofmt[:min(len(gofmt), 1500000)],
		"print.go": text,
		"zeros":    make([]byte, 100000),
		"tiny":     []byte("x"),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(src, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, cs := range []int{32768, 1 << 20} {
		path := filepath.Join(t.TempDir(), "lzx.wim")
		opts := wim.CaptureOptions{Compression: wim.CompressLZX, ChunkSize: cs, Threads: 1}
		if err := wim.Capture(context.Background(), src, path, opts); err != nil {
			t.Fatalf("chunk size %d: capture: %v", cs, err)
		}
		if out, err := exec.Command(imagex, "verify", path).CombinedOutput(); err != nil {
			t.Fatalf("chunk size %d: wimlib-imagex verify: %v\n%s", cs, err, out)
		}
		dest := filepath.Join(t.TempDir(), "x")
		if out, err := exec.Command(imagex, "apply", path, "1", dest).CombinedOutput(); err != nil {
			t.Fatalf("chunk size %d: wimlib-imagex apply: %v\n%s", cs, err, out)
		}
		for name, data := range files {
			got, err := os.ReadFile(filepath.Join(dest, name))
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("chunk size %d: %s differs after wimlib extracted it (%v)", cs, name, err)
			}
		}
	}
}
