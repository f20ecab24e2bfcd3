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

	"github.com/reseal/reseal/internal/disktest"
	"github.com/reseal/reseal/internal/testenv"
	"github.com/reseal/reseal/wim"
)

// smallVolume makes a 2 MiB NTFS volume with mkntfs and a few files
// written by ntfscp, or returns nil when the tools are missing. With
// wimlib-imagex, it first holds two WOF-compressed files (LZX and
// XPRESS4K, as compact /exe leaves them) that wimlib applied.
func smallVolume(f *testing.F) []byte {
	dir := f.TempDir()
	vol := filepath.Join(dir, "v.img")
	if testenv.HavePeer("wimlib-imagex") && testenv.HavePeer("mkntfs") {
		const ft = 133500000000000000
		data := realData(f, 40<<10)
		root := &wim.SourceFile{Attributes: wim.AttrDirectory, CreationTime: ft, LastWriteTime: ft, LastAccessTime: ft, Children: []*wim.SourceFile{
			disktest.WOFSource(f, "lzx.exe", data, WOFLZX, ft),
			disktest.WOFSource(f, "xpress.dll", data[:10<<10], WOFXpress4K, ft),
		}}
		vol = disktest.ApplyVolume(f, dir, "v", root, 2<<20)
	} else {
		os.WriteFile(vol, nil, 0o644)
		os.Truncate(vol, 2<<20)
		if exec.Command("mkntfs", "-F", "-Q", "-q", vol).Run() != nil {
			return nil
		}
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
					for off := int64(0); off < r.Size() && off < 256<<10; off += int64(len(buf)) {
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

// patch writes b into img at off and returns what puts the old bytes
// back. The fuzz targets patch one shared volume image in place rather
// than copying it for every input: the copy (2 MiB, fresh pages each time)
// cost more than the parse itself, and the fuzz function of a worker runs
// one input at a time.
func patch(img []byte, off int64, b []byte) (restore func()) {
	old := append([]byte(nil), img[off:off+int64(len(b))]...)
	copy(img[off:], b)
	return func() { copy(img[off:], old) }
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
	if testenv.HavePeer("wimlib-imagex") {
		// The seeds hold a WOF file's record: make sure it is one.
		t0, err := v0.ReadTree(context.Background(), nil)
		if err != nil {
			f.Fatal(err)
		}
		if w, err := t0.Lookup("lzx.exe"); err != nil || w.WOF == nil || w.Record != 64 {
			f.Fatalf("lzx.exe: %v, %+v", err, w)
		}
	}
	recSize := int(v0.recordSize)
	base := v0.mftLCN * v0.clusterSize
	for _, n := range []int64{0, 3, 5, 9, 64, 65, 66, 67} {
		f.Add(append([]byte(nil), img[base+n*int64(recSize):base+(n+1)*int64(recSize)]...), uint8(n))
	}
	f.Fuzz(func(t *testing.T, rec []byte, slot uint8) {
		n := int64(slot % 80)
		defer patch(img, base+n*int64(recSize), rec[:min(len(rec), recSize)])()
		v, err := Open(bytes.NewReader(img), int64(len(img)))
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
		defer patch(img, 0, boot[:min(len(boot), len(img))])()
		if v, err := Open(bytes.NewReader(img), int64(len(img))); err == nil {
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

// FuzzWOF: any WofCompressedData stream, claimed size and algorithm reads
// as content or gives an error: hostile chunk tables (not increasing, past
// the end, huge counts) and chunks never panic or allocate beyond a group.
func FuzzWOF(f *testing.F) {
	for _, alg := range algs {
		cs := wofChunkSize(alg)
		data := realData(f, cs+100) // two chunks: small inputs fuzz faster
		s, err := disktest.WOFCompress(data, alg)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(s, uint64(len(data)), uint8(alg))
	}
	f.Add(make([]byte, 64), uint64(1<<32+5), uint8(WOFLZX))
	f.Fuzz(func(t *testing.T, stream []byte, size uint64, alg uint8) {
		r, err := newWOFReader(memStream(stream), int64(size&(1<<62-1)), uint32(alg), 1, nil)
		if err != nil {
			return
		}
		buf := make([]byte, 48<<10)
		for off := int64(0); off < r.Size() && off < 256<<10; off += int64(len(buf)) {
			if _, err := r.ReadAt(buf, off); err != nil && err != io.EOF {
				return
			}
		}
		r.ReadAt(buf, max(r.Size()-100, 0))
	})
}
