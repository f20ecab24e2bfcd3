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

// TestExportOptimizeLZXMax: export and optimize take --compress lzx:max as
// capture does. Exported from an XPRESS WIM, lzx:max is smaller than lzx;
// from an LZX WIM the resources are copied as they are unless
// --recompress; optimize --compress lzx:max recompresses everything
// (smaller), optimize --compress of another type changes the WIM's
// compression (wimlib's info says so). Every result verifies and applies
// in wimlib to the source bytes; a level for another format is a usage
// error.
func TestExportOptimizeLZXMax(t *testing.T) {
	imagex := testenv.Peer(t, "wimlib-imagex")
	src := filepath.Join(t.TempDir(), "src")
	os.MkdirAll(src, 0o755)
	exe, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(src, "code.bin"), exe[:min(len(exe), 1<<20)], 0o644)
	var text bytes.Buffer
	for i := 0; text.Len() < 200_000; i++ {
		text.WriteString(strings.Repeat("reseal export ", i%5) + string(rune('a'+i%26)) + " line\n")
	}
	os.WriteFile(filepath.Join(src, "text.txt"), text.Bytes(), 0o644)
	dir := t.TempDir()
	judged := func(w string) int64 {
		t.Helper()
		if out, err := exec.Command(imagex, "verify", w).CombinedOutput(); err != nil {
			t.Fatalf("wimlib-imagex verify %s: %v\n%s", w, err, out)
		}
		dest := filepath.Join(t.TempDir(), "apply")
		if out, err := exec.Command(imagex, "apply", w, "1", dest).CombinedOutput(); err != nil {
			t.Fatalf("wimlib-imagex apply %s: %v\n%s", w, err, out)
		}
		for _, name := range []string{"code.bin", "text.txt"} {
			a, _ := os.ReadFile(filepath.Join(src, name))
			b, _ := os.ReadFile(filepath.Join(dest, name))
			if !bytes.Equal(a, b) {
				t.Errorf("%s: %s differs after wimlib's apply", w, name)
			}
		}
		fi, _ := os.Stat(w)
		return fi.Size()
	}
	xp := filepath.Join(dir, "xpress.wim")
	mustCLI(t, "capture", src, xp, "--compress", "xpress", "--quiet")
	lzx, lzxMax := filepath.Join(dir, "lzx.wim"), filepath.Join(dir, "lzxmax.wim")
	mustCLI(t, "export", xp, "1", lzx, "--compress", "lzx", "--quiet")
	mustCLI(t, "export", xp, "1", lzxMax, "--compress", "lzx:max", "--quiet")
	sizeLZX, sizeMax := judged(lzx), judged(lzxMax)
	if sizeMax >= sizeLZX {
		t.Errorf("export --compress lzx:max: %d bytes, lzx %d: want smaller", sizeMax, sizeLZX)
	}
	raw, again := filepath.Join(dir, "raw.wim"), filepath.Join(dir, "again.wim")
	mustCLI(t, "export", lzx, "1", raw, "--compress", "lzx:max", "--quiet")
	mustCLI(t, "export", lzx, "1", again, "--compress", "lzx:max", "--recompress", "--quiet")
	if sizeRaw, sizeAgain := judged(raw), judged(again); sizeRaw < sizeLZX-4096 || sizeAgain >= sizeRaw {
		t.Errorf("export of an LZX WIM with lzx:max: %d bytes copied as they are (source %d), %d with --recompress: want the same, then smaller", sizeRaw, sizeLZX, sizeAgain)
	}

	opt := filepath.Join(dir, "opt.wim")
	copyBytes, _ := os.ReadFile(lzx)
	os.WriteFile(opt, copyBytes, 0o644)
	mustCLI(t, "optimize", opt, "--compress", "lzx:max", "--quiet")
	if size := judged(opt); size >= sizeLZX {
		t.Errorf("optimize --compress lzx:max: %d bytes, was %d: want smaller", size, sizeLZX)
	}
	toLZX := filepath.Join(dir, "tolzx.wim")
	copyBytes, _ = os.ReadFile(xp)
	os.WriteFile(toLZX, copyBytes, 0o644)
	mustCLI(t, "optimize", toLZX, "--compress", "lzx", "--quiet")
	judged(toLZX)
	if out, _ := exec.Command(imagex, "info", toLZX).CombinedOutput(); !strings.Contains(string(out), "Compression:    LZX") {
		t.Errorf("optimize --compress lzx of an XPRESS WIM; wimlib info:\n%s", out)
	}
	for _, args := range [][]string{
		{"export", xp, "1", filepath.Join(dir, "bad.wim"), "--compress", "xpress:max"},
		{"optimize", opt, "--compress", "lzx:fast"},
	} {
		if code, _, _ := runCLI(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}
