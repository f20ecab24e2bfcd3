package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWIMCommands(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	os.MkdirAll(filepath.Join(src, "dir", "pagefile.sys"), 0o755)
	os.WriteFile(filepath.Join(src, "dir", "a.txt"), []byte(strings.Repeat("data ", 5000)), 0o644)
	os.WriteFile(filepath.Join(src, "pagefile.sys"), []byte("excluded by default"), 0o644)
	os.WriteFile(filepath.Join(src, "skip.tmp"), []byte("excluded by --exclude"), 0o644)
	wimPath := filepath.Join(t.TempDir(), "x.wim")

	code, _, stderr := runCLI(t, "capture", src, wimPath, "--name", "Base", "--description", "desc", "--compress", "lzx", "--check", "--threads", "2", "--exclude", "*.tmp")
	if code != exitOK {
		t.Fatalf("capture: exit %d: %s", code, stderr)
	}
	code, _, stderr = runCLI(t, "capture", filepath.Join(src, "dir"), wimPath, "--name", "Dir", "--append")
	if code != exitOK {
		t.Fatalf("capture --append: exit %d: %s", code, stderr)
	}
	code, out, _ := runCLI(t, "info", wimPath, "--json")
	var info struct {
		Compression string `json:"compression"`
		Integrity   bool   `json:"integrity"`
		Images      []struct {
			Index     int    `json:"index"`
			Name      string `json:"name"`
			FileCount int    `json:"file_count"`
			DirCount  int    `json:"dir_count"`
		} `json:"images"`
	}
	if code != exitOK || json.Unmarshal([]byte(out), &info) != nil {
		t.Fatalf("info --json: exit %d, %s", code, out)
	}
	if len(info.Images) != 2 || info.Images[0].Name != "Base" || info.Images[1].Name != "Dir" || info.Compression != "LZX" || !info.Integrity {
		t.Fatalf("info: %+v", info)
	}
	// pagefile.sys at the root is excluded by default, dir/pagefile.sys is not (the glob is rooted).
	if info.Images[0].FileCount != 1 || info.Images[0].DirCount != 3 {
		t.Errorf("image 1 counts: %+v", info.Images[0])
	}
	if code, out, _ := runCLI(t, "info", wimPath); code != exitOK || !strings.Contains(out, "Name:                   Dir") {
		t.Errorf("info: exit %d\n%s", code, out)
	}
	if code, out, stderr := runCLI(t, "verify", wimPath); code != exitOK {
		t.Fatalf("verify: exit %d %s %s", code, out, stderr)
	}
	dest := filepath.Join(t.TempDir(), "dest")
	if code, _, stderr := runCLI(t, "apply", wimPath, "Dir", dest); code != exitOK {
		t.Fatalf("apply: exit %d %s", code, stderr)
	}
	if b, err := os.ReadFile(filepath.Join(dest, "a.txt")); err != nil || len(b) != 25000 {
		t.Fatalf("applied a.txt: %d bytes, %v", len(b), err)
	}
	if code, _, _ := runCLI(t, "apply", wimPath, "3", filepath.Join(t.TempDir(), "d")); code != exitRefused {
		t.Errorf("apply of a missing image: exit %d, want %d", code, exitRefused)
	}
	if code, _, _ := runCLI(t, "capture", src); code != exitUsage {
		t.Errorf("capture without DEST: exit %d", code)
	}
	if code, _, _ := runCLI(t, "capture", src, wimPath+"2", "--compress", "zip"); code != exitUsage {
		t.Errorf("capture --compress zip: exit %d", code)
	}

	// Damage a byte in the middle of the file: verify must fail with exit 1.
	data, _ := os.ReadFile(wimPath)
	data[len(data)/3] ^= 0xff
	bad := filepath.Join(t.TempDir(), "bad.wim")
	os.WriteFile(bad, data, 0o644)
	if code, out, stderr := runCLI(t, "verify", bad); code != exitRefused {
		t.Errorf("verify of a damaged WIM: exit %d, want 1\n%s%s", code, out, stderr)
	}
	os.WriteFile(bad, []byte("not a wim at all, just text that is long enough to not be a header................................................................................................................................................................................."), 0o644)
	if code, _, _ := runCLI(t, "verify", bad); code != exitRefused {
		t.Errorf("verify of a non-WIM: exit %d, want 1", code)
	}
}

// Progress is drawn only for a terminal and never with --quiet.
func TestWIMProgressOnlyOnTerminal(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "f"), []byte(strings.Repeat("x", 100000)), 0o644)
	for _, c := range []struct {
		terminal, quiet, want bool
	}{{false, false, false}, {true, true, false}, {true, false, true}} {
		var out, errb bytes.Buffer
		args := []string{"capture", src, filepath.Join(t.TempDir(), "x.wim")}
		if c.quiet {
			args = append(args, "--quiet")
		}
		code := run(context.Background(), args, &stdio{In: strings.NewReader(""), Out: &out, Err: &errb, ErrIsTerminal: c.terminal})
		if code != exitOK {
			t.Fatalf("capture: exit %d: %s", code, errb.String())
		}
		if got := strings.Contains(errb.String(), "Capturing:"); got != c.want {
			t.Errorf("terminal=%v quiet=%v: progress drawn = %v (%q)", c.terminal, c.quiet, got, errb.String())
		}
		if got := strings.Count(errb.String(), "captured "); got != map[bool]int{true: 0, false: 1}[c.quiet] {
			t.Errorf("terminal=%v quiet=%v: %d summary lines (%q)", c.terminal, c.quiet, got, errb.String())
		}
		if out.Len() != 0 {
			t.Errorf("capture wrote to stdout: %q", out.String())
		}
	}
}

// TestProgressETA: the first frames show no ETA (a rate from the first
// small files would promise hours); once the rate means something, they do.
func TestProgressETA(t *testing.T) {
	for _, c := range []struct {
		done, total int64
		elapsed     time.Duration
		eta         bool
	}{
		{1 << 10, 10 << 30, 300 * time.Millisecond, false},
		{1 << 20, 10 << 30, 5 * time.Second, false}, // under 2% done
		{1 << 30, 10 << 30, 5 * time.Second, true},
		{10 << 30, 10 << 30, 50 * time.Second, false}, // done
	} {
		line := progressLine("Capturing", c.done, c.total, c.elapsed)
		if got := strings.Contains(line, "left"); got != c.eta {
			t.Errorf("%d of %d after %v: %q", c.done, c.total, c.elapsed, line)
		}
	}
}

// TestCaptureRefusals: what capture refuses before reading the source
// (exit 1, nothing written) and what it refuses as a usage error (exit 2).
func TestCaptureRefusals(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "a.txt"), []byte(strings.Repeat("data ", 5000)), 0o644)
	dir := t.TempDir()
	lzx := filepath.Join(dir, "lzx.wim")
	if code, _, stderr := runCLI(t, "capture", src, lzx, "--compress", "lzx", "--name", "One"); code != exitOK {
		t.Fatalf("capture: exit %d %s", code, stderr)
	}
	before, _ := os.ReadFile(lzx)
	notWIM := filepath.Join(dir, "notes.txt")
	os.WriteFile(notWIM, []byte("my notes, not a WIM"), 0o644)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"capture", src, lzx, "--append", "--name", "One"}, exitRefused, `already has an image named "One"`},
		{[]string{"capture", src, lzx, "--append", "--name", "Two", "--compress", "none"}, exitRefused, "is LZX-compressed"},
		{[]string{"capture", src, lzx, "--append", "--name", "Two", "--chunk-size", "65536"}, exitRefused, "32768-byte chunks"},
		{[]string{"capture", src, notWIM}, exitRefused, "exists and is not a WIM"},
		{[]string{"capture", src, notWIM, "--append"}, exitRefused, "is not a WIM"},
		{[]string{"capture", src, filepath.Join(dir, "x.wim"), "--chunk-size", "1000"}, exitUsage, "--chunk-size 1000"},
		{[]string{"capture", src, filepath.Join(dir, "x.wim"), "--compress", "xpress", "--chunk-size", "131072"}, exitUsage, "takes at most 65536"},
		{[]string{"capture", src, filepath.Join(dir, "x.wim"), "--compress", "zip"}, exitUsage, "--compress zip"},
	} {
		code, _, stderr := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d %q, want %d and %q", c.args[1:], code, stderr, c.code, c.want)
		}
	}
	if after, _ := os.ReadFile(lzx); !bytes.Equal(before, after) {
		t.Error("a refused --append changed the WIM")
	}
	if b, _ := os.ReadFile(notWIM); string(b) != "my notes, not a WIM" {
		t.Error("a refused capture overwrote a file that is not a WIM")
	}
	if _, err := os.Stat(filepath.Join(dir, "x.wim")); !os.IsNotExist(err) {
		t.Errorf("a usage error wrote the WIM (%v)", err)
	}
	// --force replaces it; --append keeping the WIM's own compression works.
	if code, _, stderr := runCLI(t, "capture", src, notWIM, "--force", "--quiet"); code != exitOK {
		t.Errorf("--force: exit %d %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "capture", src, lzx, "--append", "--name", "Two", "--compress", "lzx", "--quiet"); code != exitOK {
		t.Errorf("--append --compress lzx on an LZX WIM: exit %d %s", code, stderr)
	}
}

// TestApplyOfCorruptWIMSaysTheTreeIsPartial: a WIM whose file data is
// damaged fails the apply part-way (exit 3), and the error says that DEST
// holds a partial tree.
func TestApplyOfCorruptWIMSaysTheTreeIsPartial(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	marker := strings.Repeat("THE-DAMAGED-FILE ", 200)
	os.WriteFile(filepath.Join(src, "sub", "b.txt"), []byte(marker), 0o644)
	os.WriteFile(filepath.Join(src, "a.txt"), []byte(strings.Repeat("intact ", 300)), 0o644)
	wimPath := filepath.Join(t.TempDir(), "x.wim")
	if code, _, stderr := runCLI(t, "capture", src, wimPath, "--compress", "none", "--quiet"); code != exitOK {
		t.Fatalf("capture: exit %d %s", code, stderr)
	}
	data, _ := os.ReadFile(wimPath)
	i := bytes.Index(data, []byte(marker))
	if i < 0 {
		t.Fatal("the file's data is not stored as is")
	}
	data[i+100] ^= 0xff
	os.WriteFile(wimPath, data, 0o644)
	dest := filepath.Join(t.TempDir(), "dest")
	code, _, stderr := runCLI(t, "apply", wimPath, dest)
	if code != exitFailure || !strings.Contains(stderr, dest+" holds a partial tree") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("apply of a corrupt WIM: exit %d %q", code, stderr)
	}
}
