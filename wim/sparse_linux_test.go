package wim

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

// Apply leaves runs of zeros as holes, as wimlib does, and the file reads
// back as it was: a file of zeros with data at its start, middle and end,
// one of zeros only, and small zero files; captured by wimlib.
func TestApplyWritesZerosAsHoles(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	src := filepath.Join(t.TempDir(), "src")
	os.MkdirAll(src, 0o755)
	mixed := make([]byte, 8<<20+100)
	copy(mixed, "start")
	copy(mixed[3<<20+17:], "middle")
	copy(mixed[len(mixed)-3:], "end")
	files := map[string][]byte{
		"mixed.bin": mixed,
		"zeros.bin": make([]byte, 4<<20),
		"small.bin": make([]byte, 4096),
		"odd.bin":   make([]byte, 5000),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(src, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, comp := range []string{"none", "xpress", "lzx"} {
		t.Run(comp, func(t *testing.T) {
			wimPath := filepath.Join(t.TempDir(), "x.wim")
			runPeer(t, wimlib, "capture", src, wimPath, "--compress="+comp)
			r, err := Open(wimPath)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			dest := filepath.Join(t.TempDir(), "dest")
			if err := r.Apply(context.Background(), 1, dest, ApplyOptions{}); err != nil {
				t.Fatal(err)
			}
			for name, want := range files {
				got, err := os.ReadFile(filepath.Join(dest, name))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s: contents differ (%d bytes, want %d)", name, len(got), len(want))
				}
			}
			var st syscall.Stat_t
			if err := syscall.Stat(filepath.Join(dest, "zeros.bin"), &st); err != nil {
				t.Fatal(err)
			}
			if used := st.Blocks * 512; used > 64<<10 {
				t.Errorf("zeros.bin: %d bytes of 4 MiB allocated; want a hole", used)
			}
			if err := syscall.Stat(filepath.Join(dest, "mixed.bin"), &st); err != nil {
				t.Fatal(err)
			}
			if used := st.Blocks * 512; used > 1<<20 {
				t.Errorf("mixed.bin: %d bytes of 8 MiB allocated; want holes", used)
			}
		})
	}
}
