package ntfs

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// smallVolume makes a 2 MiB NTFS volume with mkntfs and a few files
// written by ntfscp, or returns nil when the tools are missing.
func smallVolume(f *testing.F) []byte {
	dir := f.TempDir()
	vol := filepath.Join(dir, "v.img")
	os.WriteFile(vol, nil, 0o644)
	os.Truncate(vol, 2<<20)
	if exec.Command("mkntfs", "-F", "-Q", "-q", vol).Run() != nil {
		return nil
	}
	src := filepath.Join(dir, "src")
	os.WriteFile(src, bytes.Repeat([]byte("data "), 3000), 0o644)
	exec.Command("ntfscp", "-q", vol, src, "file.txt").Run()
	exec.Command("ntfscp", "-q", "-N", "ads", vol, src, "file.txt").Run()
	b, _ := os.ReadFile(vol)
	return b
}

// exercise reads everything a capture would: tree, metadata, every stream.
func exercise(v *Volume) {
	t, err := v.ReadTree(context.Background(), nil)
	if err != nil {
		return
	}
	var walk func(d *File, depth int)
	walk = func(d *File, depth int) {
		if depth > 64 {
			return
		}
		for _, e := range t.Children(d) {
			e.File.SecurityDescriptor()
			for _, s := range e.File.Streams {
				if r, err := e.File.OpenStream(s.Name); err == nil {
					buf := make([]byte, 64<<10)
					for off := int64(0); off < r.Size() && off < 1<<20; off += int64(len(buf)) {
						if _, err := r.ReadAt(buf, off); err != nil && err != io.EOF {
							break
						}
					}
				}
			}
			if e.File.Dir {
				walk(e.File, depth+1)
			}
		}
	}
	walk(t.Root(), 0)
	t.Lookup("Windows/System32/config/SYSTEM")
}

// FuzzRecord replaces one MFT record of a real volume (the first user file,
// record 64 as ntfs-3g allocates) with the fuzzer's bytes: hostile
// attribute lengths, runs, attribute lists and names never panic, loop or
// allocate beyond the budgets.
func FuzzRecord(f *testing.F) {
	img := smallVolume(f)
	if img == nil {
		f.Skip("mkntfs not installed")
	}
	v0, err := Open(bytes.NewReader(img), int64(len(img)))
	if err != nil {
		f.Fatal(err)
	}
	recSize := int(v0.recordSize)
	base := v0.mftLCN * v0.clusterSize
	for _, n := range []int64{0, 3, 5, 9, 64} {
		f.Add(append([]byte(nil), img[base+n*int64(recSize):base+(n+1)*int64(recSize)]...), uint8(n))
	}
	f.Fuzz(func(t *testing.T, rec []byte, slot uint8) {
		b := append([]byte(nil), img...)
		n := int64(slot % 80)
		copy(b[base+n*int64(recSize):base+(n+1)*int64(recSize)], rec)
		v, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		exercise(v)
	})
}

// FuzzBootSector mutates the boot sector's geometry fields.
func FuzzBootSector(f *testing.F) {
	img := smallVolume(f)
	if img == nil {
		f.Skip("mkntfs not installed")
	}
	f.Add(append([]byte(nil), img[:512]...))
	f.Fuzz(func(t *testing.T, boot []byte) {
		b := append([]byte(nil), img...)
		copy(b, boot)
		if v, err := Open(bytes.NewReader(b), int64(len(b))); err == nil {
			exercise(v)
		}
	})
}

// FuzzLZNT1: any compressed bytes decode or give an error within the
// compression unit.
func FuzzLZNT1(f *testing.F) {
	f.Add([]byte{0x05, 0xb0, 0x00, 'a', 'b', 'c', 'd'})
	f.Add(binary.LittleEndian.AppendUint16(nil, 0x3002))
	f.Fuzz(func(t *testing.T, src []byte) {
		dst := make([]byte, 64<<10)
		lznt1Decompress(dst, src)
	})
}
