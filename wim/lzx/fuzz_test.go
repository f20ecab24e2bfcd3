package lzx

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

// FuzzDecompress feeds arbitrary input to the decoder: it must return an
// error or exactly len(dst) bytes, never panic or allocate per input length,
// and agree with the reference decoder on the bytes or the error.
func FuzzDecompress(f *testing.F) {
	c, _ := NewCompressor(65536)
	for _, s := range [][]byte{sampleText(f, 3000), sampleBinary(f, 5000), sampleE8(2000), make([]byte, 100), []byte("a")} {
		dst := make([]byte, len(s)+1000)
		if n := c.Compress(dst, s); n > 0 {
			f.Add(dst[:n], uint32(len(s)))
		}
	}
	f.Add([]byte{0x30, 0x00, 0xff, 0xff}, uint32(10))
	// wimlib's chunks too, a few of each window, when it is installed.
	if testenv.HavePeer("wimlib-imagex") {
		dir := f.TempDir()
		files := map[string][]byte{"text": sampleText(f, 40000), "bin": sampleBinary(f, 40000), "e8": sampleE8(5000)}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				f.Fatal(err)
			}
		}
		for _, cs := range []int{32768, 65536} {
			w := captureLZX(f, dir, cs)
			for _, b := range w.Blobs {
				for _, c := range w.Chunks(f, b.Res) {
					if !c.Raw() && b.Res.Compressed() {
						f.Add(c.Stored, uint32(c.Size))
					}
				}
			}
		}
	}
	d, ref := NewDecompressor(), newRefDecompressor()
	f.Fuzz(func(t *testing.T, src []byte, size uint32) {
		size %= 70000
		dst, want := make([]byte, size), make([]byte, size)
		err := d.Decompress(dst, src)
		if err == nil && len(src) == 0 && size > 0 {
			t.Fatal("empty input decoded")
		}
		// The reference decoder (reference_test.go) must agree.
		errRef := ref.Decompress(want, src)
		if fmt.Sprint(err) != fmt.Sprint(errRef) {
			t.Fatalf("decoder says %v, reference %v", err, errRef)
		}
		if err == nil && !bytes.Equal(dst, want) {
			t.Fatal("decoder and reference differ")
		}
	})
}

// FuzzRoundTrip compresses arbitrary data at two window sizes and checks it
// decodes back.
func FuzzRoundTrip(f *testing.F) {
	f.Add(sampleText(f, 5000), false)
	f.Add(sampleBinary(f, 5000), true)
	f.Add(sampleE8(3000), false)
	f.Add([]byte{}, false)
	small, _ := NewCompressor(32768)
	large, _ := NewCompressor(1 << 20)
	best, _ := NewCompressorLevel(32768, LevelBest)
	d := NewDecompressor()
	f.Fuzz(func(t *testing.T, src []byte, useLarge bool) {
		if len(src) > 32768 || len(src) == 0 {
			return
		}
		// The default level at the window chosen, and the best level
		// (its own search: no nice-length cut, four passes) at 32 KiB.
		for _, c := range []*Compressor{small, large, best} {
			cs := c.maxChunk
			if (cs == 1<<20) != useLarge && c != best {
				continue
			}
			dst := make([]byte, len(src)*2+100)
			n := c.compress(dst, src)
			if n == 0 {
				t.Fatalf("%d bytes did not fit in %d", len(src), len(dst))
			}
			got := make([]byte, len(src))
			if err := d.DecompressChunk(got, dst[:n], cs); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, src) {
				t.Fatalf("round trip differs (chunk size %d)", cs)
			}
		}
	})
}
