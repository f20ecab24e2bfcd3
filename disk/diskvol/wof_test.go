package diskvol

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/disktest"
	"github.com/reseal/reseal/internal/testenv"
	"github.com/reseal/reseal/ntfs"
)

// wofData is content worth compressing: x86 code (this test binary, whose
// calls exercise LZX's E8 translation) then text.
func wofData(t *testing.T) []byte {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	src, _ := os.ReadFile("diskvol.go")
	return append(b[:200<<10], bytes.Repeat(src, 10)...)
}

// TestCaptureWOF: a volume holding files as compact /exe leaves them (WOF
// reparse point, sparse unnamed stream, WofCompressedData made by the
// project's encoders for each algorithm), applied by wimlib-imagex onto
// an mkntfs volume in a GPT disk converted to qcow2, captures as Windows
// shows those files: the WIM's wimlib-imagex dir --detailed listing equals
// that of wimlib-imagex capture of a volume holding the same files plain,
// and the tree wimlib applies from it holds the original contents.
func TestCaptureWOF(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	dir := t.TempDir()
	data := wofData(t)
	wofRoot, want := disktest.WOFTree(t, data, false)
	plainRoot, _ := disktest.WOFTree(t, data, true)
	wofVol := disktest.ApplyVolume(t, dir, "wof", wofRoot, 32<<20)
	plainVol := disktest.ApplyVolume(t, dir, "plain", plainRoot, 32<<20)

	// wimlib reads the WOF volume as stored: the peer sees what we decode.
	stored := filepath.Join(dir, "stored.wim")
	disktest.Run(t, wimlib, "capture", wofVol, stored, "x", "--compress=none")
	if l := detailed(t, stored); !strings.Contains(l, `Named data stream "WofCompressedData"`) || !strings.Contains(l, "Reparse Tag         = 0x80000017") {
		t.Fatalf("the volume does not hold WOF files as stored; wimlib lists:\n%s", l)
	}
	ref := filepath.Join(dir, "ref.wim")
	disktest.Run(t, wimlib, "capture", plainVol, ref, "x", "--compress=none")
	wantList := detailed(t, ref)
	wantApply := filepath.Join(dir, "want")
	disktest.Run(t, wimlib, "apply", ref, "1", wantApply)

	q := disktest.Convert(t, disktest.GPTDisk(t, dir, wofVol), "qcow2")
	v, err := Open(context.Background(), q, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	out := filepath.Join(dir, "out.wim")
	if err := captureVolume(t, v, out, "x"); err != nil {
		t.Fatal(err)
	}
	disktest.Run(t, wimlib, "verify", out)
	if got := detailed(t, out); got != wantList {
		t.Errorf("listing differs from wimlib's capture of the plain volume:\n%s", firstDiff(got, wantList))
	}
	gotApply := filepath.Join(dir, "got")
	disktest.Run(t, wimlib, "apply", out, "1", gotApply)
	if d, err := exec.Command("diff", "-r", "--no-dereference", wantApply, gotApply).CombinedOutput(); err != nil {
		t.Errorf("applied contents differ: %v\n%s", err, d)
	}
	for p, data := range want {
		if b, err := os.ReadFile(filepath.Join(gotApply, p)); err != nil || !bytes.Equal(b, data) {
			t.Errorf("%s: applied content differs from the original (%v)", p, err)
		}
	}
}

// TestCaptureWIMBootRefused: a WIMBoot file (WOF provider 1, content in a
// WIM outside the volume) ends the capture with an error naming it, rather
// than being captured as an empty or placeholder file.
func TestCaptureWIMBootRefused(t *testing.T) {
	testenv.Peer(t, "wimlib-imagex")
	dir := t.TempDir()
	root, _ := disktest.WOFTree(t, wofData(t), false)
	boot := disktest.WOFSource(t, "wimboot.dll", []byte("content held in a WIM elsewhere"), disktest.WOFXpress4K, 133500000000000000)
	le := binary.LittleEndian
	boot.ReparseData = append(le.AppendUint32(le.AppendUint32(nil, 1), 1), make([]byte, 40)...)
	boot.Named = nil
	sys := root.Children[0].Children[0]
	sys.Children = append(sys.Children, boot)
	vol := disktest.ApplyVolume(t, dir, "wimboot", root, 32<<20)
	v, err := Open(context.Background(), disktest.GPTDisk(t, dir, vol), 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	out := filepath.Join(dir, "out.wim")
	err = captureVolume(t, v, out, "x")
	if !errors.Is(err, ntfs.ErrWIMBacked) || !strings.Contains(err.Error(), "wimboot.dll") {
		t.Errorf("err = %v, want ErrWIMBacked naming wimboot.dll", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a WIM was left behind")
	}
}
