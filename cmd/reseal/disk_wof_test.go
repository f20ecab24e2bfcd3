package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/disktest"
	"github.com/reseal/reseal/internal/testenv"
	"github.com/reseal/reseal/wim"
	"github.com/reseal/reseal/winimage"
)

// TestCaptureDiskWOF: reseal capture of a qcow2 disk holding files as
// compact /exe leaves them (WOF reparse point, sparse unnamed stream,
// WofCompressedData for each algorithm, written by wimlib-imagex apply onto
// an mkntfs volume) gives a WIM that wimlib verifies and applies with the
// files' original contents, no reparse point and no WofCompressedData
// stream; the disk backend (preflight, inspect, reg) reads them the same.
func TestCaptureDiskWOF(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	data := b[len(b)/3 : len(b)/3+400<<10]
	root, want := disktest.WOFTree(t, data, false)
	vol := disktest.ApplyVolume(t, dir, "wof", root, 32<<20)
	q := disktest.Convert(t, disktest.GPTDisk(t, dir, vol), "qcow2")

	out := filepath.Join(dir, "out.wim")
	if code, _, stderr := runCLI(t, "capture", q+":2", out, "--name", "x", "--compress", "lzx"); code != 0 {
		t.Fatalf("capture: exit %d: %s", code, stderr)
	}
	disktest.Run(t, wimlib, "verify", out)
	if l := disktest.Run(t, wimlib, "dir", out, "1", "--detailed"); strings.Contains(l, "WofCompressedData") || strings.Contains(l, "Reparse Tag") {
		t.Errorf("the captured WIM still holds WOF's stored form:\n%s", l)
	}
	applied := filepath.Join(dir, "applied")
	disktest.Run(t, wimlib, "apply", out, "1", applied)
	for p, d := range want {
		if got, err := os.ReadFile(filepath.Join(applied, p)); err != nil || !bytes.Equal(got, d) {
			t.Errorf("%s: applied content differs from the original (%v)", p, err)
		}
	}

	be, err := winimage.OpenDisk(context.Background(), q+":2", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	for p, d := range want {
		info, err := be.Lstat(p)
		if err != nil || !info.Mode().IsRegular() || info.Size() != int64(len(d)) {
			t.Fatalf("%s: Lstat %v, %v; want a regular file of %d bytes", p, info, err, len(d))
		}
		f, err := be.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(f.(io.Reader))
		f.Close()
		if err != nil || !bytes.Equal(got, d) {
			t.Errorf("%s through the disk backend: %v", p, err)
		}
	}

	// A WIMBoot file, and a file whose chunk table is broken: capture
	// exits 3 with one line naming the disk and the file, writing nothing.
	le := binary.LittleEndian
	for name, mk := range map[string]func(*wim.SourceFile){
		"wimboot.dll": func(f *wim.SourceFile) {
			f.ReparseData = append(le.AppendUint32(le.AppendUint32(nil, 1), 1), make([]byte, 40)...)
			f.Named = nil
		},
		"broken.dll": func(f *wim.SourceFile) {
			s, _ := disktest.WOFCompress(data[:20000], disktest.WOFXpress4K)
			le.PutUint32(s[4:], 3)
			f.Named[0].Data = bytes.NewReader(s)
		},
	} {
		d := filepath.Join(dir, name)
		os.Mkdir(d, 0o755)
		root, _ := disktest.WOFTree(t, data, false)
		f := disktest.WOFSource(t, name, data[:20000], disktest.WOFXpress4K, 133500000000000000)
		mk(f)
		sys := root.Children[0].Children[0]
		sys.Children = append(sys.Children, f)
		disk := disktest.GPTDisk(t, d, disktest.ApplyVolume(t, d, "vol", root, 32<<20))
		o := filepath.Join(d, "out.wim")
		code, _, stderr := runCLI(t, "capture", "--quiet", disk+":2", o)
		if code != 3 || !strings.Contains(stderr, "Windows/System32/"+name) || !strings.Contains(stderr, "disk.raw:2") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%s: exit %d, stderr %q; want 3 and one line naming the disk and the file", name, code, stderr)
		}
		if _, err := os.Stat(o); err == nil {
			t.Errorf("%s: %s was written", name, o)
		}
		t.Logf("%s: %s", name, strings.TrimSpace(stderr))
	}
}
