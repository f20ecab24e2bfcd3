package disk

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// seedImages adds small images of every format (made once with qemu-img,
// if present) to a fuzz corpus.
func seedImages(f *testing.F) {
	f.Add([]byte("QFI\xfb\x00\x00\x00\x03"))
	f.Add([]byte("vhdxfile"))
	f.Add(append(make([]byte, 512), []byte("conectix")...))
	if testing.Short() {
		return
	}
	dir := f.TempDir()
	raw := filepath.Join(dir, "r")
	b := make([]byte, 1<<20)
	copy(b[510:], []byte{0x55, 0xaa})
	b[446+4] = 0x07
	b[446+8] = 1
	b[446+12] = 100
	os.WriteFile(raw, b, 0o644)
	f.Add(b[:4096])
	for _, args := range [][]string{{"-O", "qcow2", "-o", "cluster_size=512"}, {"-O", "qcow2", "-c", "-o", "cluster_size=4096"}, {"-O", "vpc"}, {"-O", "vhdx", "-o", "block_size=1M"}} {
		out := filepath.Join(dir, "o")
		if err := execQuiet("qemu-img", append(append([]string{"convert", "-f", "raw"}, args...), raw, out)...); err != nil {
			return
		}
		if data, err := os.ReadFile(out); err == nil && len(data) < 8<<20 {
			f.Add(data)
		}
	}
	// A VHDX whose log holds a live entry, for the replay.
	if p := dirtyVHDX(dir); p != "" {
		if data, err := os.ReadFile(p); err == nil && len(data) < 8<<20 {
			f.Add(data)
		}
	}
}

// FuzzOpen: any bytes open as an image or give an error, read without
// panicking, and a hostile size or count never allocates unboundedly.
func FuzzOpen(f *testing.F) {
	seedImages(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := OpenReader(bytes.NewReader(data), int64(len(data)), "fuzz")
		if err != nil {
			return
		}
		defer img.Close()
		buf := make([]byte, 64<<10)
		// Read a few places rather than the whole (possibly vast) disk.
		for _, off := range []int64{0, 512, img.Size() / 2, img.Size() - 1000} {
			if off < 0 {
				continue
			}
			if _, err := img.ReadAt(buf, off); err != nil && err != io.EOF {
				return
			}
		}
		if t, err := ReadTable(img, img.Size()); err == nil {
			for _, p := range t.Partitions {
				Probe(p.Section(img))
			}
		}
	})
}

// FuzzPartitionTable: any first sectors parse as GPT, MBR or none, or give
// an error; an EBR chain that loops ends.
func FuzzPartitionTable(f *testing.F) {
	b := make([]byte, 64<<10)
	copy(b[510:], []byte{0x55, 0xaa})
	b[446+4] = 0x05
	b[446+8] = 2
	b[446+12] = 100
	f.Add(b)
	f.Add(append(make([]byte, 512), []byte("EFI PART")...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 512 {
			return
		}
		ReadTable(bytes.NewReader(data), int64(len(data)))
	})
}

// FuzzVHDXLog replaces the start of the log of a VHDX whose log holds a
// live entry (made with qemu-io, see dirtyVHDX) with the fuzzer's bytes:
// entries, descriptors, tails and sequence numbers of any value replay or
// are ignored or refused, never panic, loop or allocate beyond the budgets.
// The image is patched in place and restored after each input.
func FuzzVHDXLog(f *testing.F) {
	p := dirtyVHDX(f.TempDir())
	if p == "" {
		f.Skip("qemu-img/qemu-io not installed")
	}
	img, err := os.ReadFile(p)
	if err != nil {
		f.Fatal(err)
	}
	const logAt = 1 << 20 // where qemu puts the log
	f.Add(append([]byte(nil), img[logAt:logAt+8192]...))
	// The entry twice in a row (the second's sequence number one more):
	// a two-entry sequence, checksums left stale for the fuzzer to mend.
	two := append(append([]byte(nil), img[logAt:logAt+8192]...), img[logAt:logAt+8192]...)
	two[8192+16]++
	f.Add(two)
	f.Fuzz(func(t *testing.T, log []byte) {
		n := min(len(log), 1<<20)
		// Entries get their checksums made right, or the fuzzer would
		// rarely get past them to descriptors, tails and sequences.
		log = append([]byte(nil), log[:n]...)
		for off := 0; off+64 <= n; off += 4096 {
			if string(log[off:off+4]) != "loge" {
				continue
			}
			if l := int(binary.LittleEndian.Uint32(log[off+8:])); l >= 64 && off+l <= n {
				binary.LittleEndian.PutUint32(log[off+4:], 0)
				binary.LittleEndian.PutUint32(log[off+4:], crc32.Checksum(log[off:off+l], castagnoli))
			}
		}
		old := append([]byte(nil), img[logAt:logAt+n]...)
		copy(img[logAt:], log[:n])
		defer copy(img[logAt:], old)
		d, err := OpenReader(bytes.NewReader(img), int64(len(img)), "fuzz")
		if err != nil {
			return
		}
		defer d.Close()
		buf := make([]byte, 64<<10)
		for _, off := range []int64{0, 3 << 20, d.Size() - 1000} {
			if off >= 0 {
				d.ReadAt(buf, off)
			}
		}
	})
}
