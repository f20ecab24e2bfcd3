package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

// TestCaptureLZXMax: --compress lzx:max writes an LZX WIM smaller than
// --compress lzx that wimlib verifies and applies to the same bytes; other
// levels and formats with a level are usage errors.
func TestCaptureLZXMax(t *testing.T) {
	imagex := testenv.Peer(t, "wimlib-imagex")
	src := filepath.Join(t.TempDir(), "src")
	os.MkdirAll(src, 0o755)
	exe, err := os.ReadFile(os.Args[0]) // code, as Windows images mostly hold
	if err != nil {
		t.Fatal(err)
	}
	exe = exe[:min(len(exe), 1<<20)]
	os.WriteFile(filepath.Join(src, "code.bin"), exe, 0o644)
	var text bytes.Buffer
	for i := 0; text.Len() < 300_000; i++ {
		text.WriteString(strings.Repeat("reseal lzx:max ", i%7) + string(rune('a'+i%26)) + " line\n")
	}
	os.WriteFile(filepath.Join(src, "text.txt"), text.Bytes(), 0o644)

	dir := t.TempDir()
	size := map[string]int64{}
	for _, comp := range []string{"lzx", "lzx:max", "LZX:MAX"} {
		w := filepath.Join(dir, strings.ReplaceAll(comp, ":", "-")+".wim")
		if code, _, stderr := runCLI(t, "capture", src, w, "--compress", comp, "--quiet"); code != exitOK {
			t.Fatalf("--compress %s: exit %d %s", comp, code, stderr)
		}
		fi, _ := os.Stat(w)
		size[comp] = fi.Size()
		if out, err := exec.Command(imagex, "verify", w).CombinedOutput(); err != nil {
			t.Fatalf("wimlib-imagex verify (%s): %v\n%s", comp, err, out)
		}
		dest := filepath.Join(dir, "apply-"+strings.ReplaceAll(comp, ":", "-"))
		if out, err := exec.Command(imagex, "apply", w, "1", dest).CombinedOutput(); err != nil {
			t.Fatalf("wimlib-imagex apply (%s): %v\n%s", comp, err, out)
		}
		for _, name := range []string{"code.bin", "text.txt"} {
			a, _ := os.ReadFile(filepath.Join(src, name))
			b, _ := os.ReadFile(filepath.Join(dest, name))
			if !bytes.Equal(a, b) {
				t.Errorf("%s: %s differs after wimlib's apply", comp, name)
			}
		}
	}
	if size["lzx:max"] >= size["lzx"] {
		t.Errorf("lzx:max WIM is %d bytes, lzx %d: want smaller", size["lzx:max"], size["lzx"])
	}
	for _, bad := range []string{"lzx:fast", "xpress:max", "lzx:"} {
		if code, _, _ := runCLI(t, "capture", src, filepath.Join(dir, "bad.wim"), "--compress", bad); code != exitUsage {
			t.Errorf("--compress %s: exit %d, want %d", bad, code, exitUsage)
		}
	}
}
