package diskvol

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/disktest"
	"github.com/reseal/reseal/internal/testenv"
	"github.com/reseal/reseal/ntfs"
	"github.com/reseal/reseal/wim"
)

// detailed lists a WIM image with wimlib-imagex dir --detailed, with the
// lines that name where a blob sits in the file dropped (they differ
// between any two writers).
func detailed(t *testing.T, wimPath string) string {
	out := disktest.Run(t, testenv.Peer(t, "wimlib-imagex"), "dir", wimPath, "1", "--detailed")
	var keep []string
	// Link group ids are arbitrary: what must agree is which entries share
	// one, so each is renamed by the order it first appears in.
	groups := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, id, ok := strings.Cut(l, "Link Group ID       = "); ok && id != "0x0000000000000000" {
			if groups[id] == "" {
				groups[id] = fmt.Sprintf("group %d", len(groups)+1)
			}
			l = k + "Link Group ID       = " + groups[id]
		}
		switch {
		case strings.Contains(l, "Reference Count"), strings.Contains(l, "Offset in WIM"), strings.Contains(l, "Compressed size"):
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

// TestCaptureEqualsWimlib is the acceptance test: for a GPT disk
// holding an NTFS volume filled by wimlib-imagex apply, converted by
// qemu-img to qcow2, VHDX and VHD, a capture through this package gives a
// WIM whose wimlib-imagex dir --detailed listing (names, streams, security,
// attributes, timestamps) and applied contents equal those of
// wimlib-imagex capture of the raw NTFS volume.
func TestCaptureEqualsWimlib(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	dir := t.TempDir()
	vol, _ := disktest.Volume(t, dir)
	raw := disktest.GPTDisk(t, dir, vol)
	ref := filepath.Join(dir, "ref.wim")
	disktest.Run(t, wimlib, "capture", vol, ref, "Windows", "--compress=none")
	want := detailed(t, ref)
	wantApply := filepath.Join(dir, "want")
	disktest.Run(t, wimlib, "apply", ref, "1", wantApply)

	disks := map[string]string{
		"raw":   raw,
		"qcow2": disktest.Convert(t, raw, "qcow2"),
		"vhdx":  disktest.Convert(t, raw, "vhdx"),
		"vhd":   disktest.Convert(t, raw, "vpc", "-o", "subformat=dynamic"),
	}
	for name, p := range disks {
		t.Run(name, func(t *testing.T) {
			v, err := Open(context.Background(), p, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			if v.Partition.Number != 2 {
				t.Errorf("chose partition %d, want 2", v.Partition.Number)
			}
			if err := v.CheckClean(); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, name+".wim")
			if err := captureVolume(t, v, out, "Windows"); err != nil {
				t.Fatal(err)
			}
			disktest.Run(t, wimlib, "verify", out)
			got := detailed(t, out)
			if got != want {
				t.Errorf("wimlib-imagex dir --detailed differs from wimlib's capture of the volume:\n%s", firstDiff(got, want))
			}
			gotApply := filepath.Join(dir, "got-"+name)
			disktest.Run(t, wimlib, "apply", out, "1", gotApply)
			if d, err := exec.Command("diff", "-r", "--no-dereference", wantApply, gotApply).CombinedOutput(); err != nil {
				t.Errorf("applied contents differ: %v\n%s", err, d)
			}
		})
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			lo := max(0, i-8)
			return "got:\n" + strings.Join(g[lo:min(len(g), i+4)], "\n") + "\nwant:\n" + strings.Join(w[lo:min(len(w), i+4)], "\n")
		}
	}
	return "lengths differ"
}

func TestBitLockerPartitionRefused(t *testing.T) {
	dir := t.TempDir()
	vol, _ := disktest.Volume(t, dir)
	b, _ := os.ReadFile(vol)
	copy(b[3:], "-FVE-FS-")
	os.WriteFile(vol, b, 0o644)
	raw := disktest.GPTDisk(t, dir, vol)
	q := disktest.Convert(t, raw, "qcow2")
	_, err := Open(context.Background(), q, 0, nil)
	if !errors.Is(err, ntfs.ErrBitLocker) || !strings.Contains(err.Error(), "partition 2") {
		t.Errorf("err = %v", err)
	}
}

// testSD is O:BAG:BAD:(A;;FA;;;WD) in self-relative form.
func testSD() []byte {
	sd := []byte{1, 0, 0x04, 0x80, 20, 0, 0, 0, 36, 0, 0, 0, 0, 0, 0, 0, 52, 0, 0, 0}
	ba := []byte{1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0}
	sd = append(sd, ba...)
	sd = append(sd, ba...)
	sd = append(sd, 2, 0, 28, 0, 1, 0, 0, 0)             // ACL: revision 2, 28 bytes, one ACE
	sd = append(sd, 0, 0, 20, 0, 0xff, 0x01, 0x1f, 0x00) // ACCESS_ALLOWED, FILE_ALL_ACCESS
	sd = append(sd, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0)  // S-1-1-0
	return sd
}

// TestCaptureKeepsShortNamesAndAttributes: a volume wimlib applied from a
// WIM carrying DOS short names, hidden and system attributes, an explicit
// security descriptor and a named stream on a directory (written with
// wim.CaptureSource) captures from its disk as wimlib captures the volume.
func TestCaptureKeepsShortNamesAndAttributes(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	mkntfs := testenv.Peer(t, "mkntfs")
	dir := t.TempDir()
	const ft = 133500000000000000 // 2024-01-21
	data := func(s string) *wim.SourceStream {
		return &wim.SourceStream{Size: int64(len(s)), Data: strings.NewReader(s)}
	}
	src := &wim.SourceFile{Attributes: wim.AttrDirectory, CreationTime: ft, LastWriteTime: ft, LastAccessTime: ft, Children: []*wim.SourceFile{
		{Name: "Program Files", ShortName: "PROGRA~1", Attributes: wim.AttrDirectory | 0x1 /* read-only */, CreationTime: ft, LastWriteTime: ft + 1, LastAccessTime: ft + 2,
			Named: []wim.SourceStream{{Name: "dirstream", Size: 5, Data: strings.NewReader("hello")}},
			Children: []*wim.SourceFile{
				{Name: "A long file name.txt", ShortName: "ALONGF~1.TXT", Attributes: 0x20, CreationTime: ft, LastWriteTime: ft, LastAccessTime: ft, Data: data("contents\n"), SecurityDescriptor: testSD()},
			}},
		{Name: "pagefile-like.sys", Attributes: 0x2 | 0x4 | 0x20 /* hidden, system, archive */, CreationTime: ft, LastWriteTime: ft, LastAccessTime: ft, Data: data("x")},
	}}
	srcWIM := filepath.Join(dir, "src.wim")
	if err := wim.CaptureSource(context.Background(), src, srcWIM, wim.CaptureOptions{Name: "src", Compression: wim.CompressNone}); err != nil {
		t.Fatal(err)
	}
	vol := filepath.Join(dir, "vol.img")
	f, _ := os.Create(vol)
	f.Truncate(64 << 20)
	f.Close()
	disktest.Run(t, mkntfs, "-F", "-Q", "-q", vol)
	disktest.Run(t, wimlib, "apply", srcWIM, "1", vol)
	ref := filepath.Join(dir, "ref.wim")
	disktest.Run(t, wimlib, "capture", vol, ref, "x", "--compress=none")
	want := detailed(t, ref)
	if !strings.Contains(want, `Short Name          = "ALONGF~1.TXT"`) {
		t.Fatalf("wimlib's capture lacks the short name; listing:\n%s", want)
	}
	q := disktest.Convert(t, disktest.GPTDisk(t, dir, vol), "qcow2")
	v, err := Open(context.Background(), q, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	out := filepath.Join(dir, "out.wim")
	if err := captureVolume(t, v, out, "x"); err != nil {
		t.Fatal(err)
	}
	if got := detailed(t, out); got != want {
		t.Errorf("listing differs from wimlib's capture of the volume:\n%s", firstDiff(got, want))
	}
}

// captureVolume captures the volume v, uncompressed, into a new WIM at out
// with one image named name, as reseal capture DISK does.
func captureVolume(t *testing.T, v *Volume, out, name string) error {
	t.Helper()
	src, err := v.WIMSource()
	if err != nil {
		t.Fatal(err)
	}
	return wim.CaptureSource(context.Background(), src, out, wim.CaptureOptions{Name: name, Compression: wim.CompressNone})
}
