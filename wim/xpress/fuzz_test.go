package xpress

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
	"github.com/reseal/reseal/wim/internal/wimtest"
)

// fuzzSeeds returns compressed chunks of real data: ours, and wimlib's when
// wimlib-imagex is installed.
func fuzzSeeds(f testing.TB) (chunks [][]byte, sizes []int) {
	c, _ := NewCompressor(MaxChunkSize)
	for _, data := range testInputs(f) {
		for _, n := range []int{5, 300, 4096, 32768} {
			n = min(n, len(data))
			buf := make([]byte, n+1024)
			if k := c.Compress(buf, data[:n]); k > 0 {
				chunks = append(chunks, buf[:k])
				sizes = append(sizes, n)
			}
		}
	}
	if testenv.HavePeer("wimlib-imagex") {
		w := wimtest.Read(f, wimtest.Capture(f, "wimlib-imagex", writeTestTree(f), "--compress=xpress", "--chunk-size=4096"))
		for _, b := range w.Blobs {
			if !b.Res.Compressed() {
				continue
			}
			stored, ss := chunksOf(f, w, b)
			for i, s := range stored {
				if len(s) < ss[i] && len(chunks) < 60 {
					chunks = append(chunks, s)
					sizes = append(sizes, ss[i])
				}
			}
		}
	}
	return chunks, sizes
}

func FuzzXpressDecompress(f *testing.F) {
	chunks, sizes := fuzzSeeds(f)
	for i, c := range chunks {
		f.Add(c, uint16(sizes[i]-1))
	}
	d := NewDecompressor()
	f.Fuzz(func(t *testing.T, src []byte, size uint16) {
		dst := make([]byte, int(size)+1)
		err := d.Decompress(dst, src)
		err2 := Decompress(dst, src)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("reused decoder says %v, fresh one %v", err, err2)
		}
		// The fast reader must accept and reject exactly what the
		// step-by-step [MS-XCA] reader does, with the same output.
		want := make([]byte, len(dst))
		errRef := NewDecompressor().decompressReference(want, src)
		if fmt.Sprint(err) != fmt.Sprint(errRef) {
			t.Fatalf("decoder says %v, reference decoder %v", err, errRef)
		}
		if err == nil && !bytes.Equal(dst, want) {
			t.Fatal("decoder and reference decoder differ")
		}
	})
}

func FuzzXpressRoundTrip(f *testing.F) {
	for _, data := range testInputs(f) {
		f.Add(data[:min(len(data), 5000)])
	}
	f.Add([]byte{})
	f.Add(binary.LittleEndian.AppendUint64(nil, 0x0102030401020304))
	c, _ := NewCompressor(MaxChunkSize)
	d := NewDecompressor()
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > MaxChunkSize {
			src = src[:MaxChunkSize]
		}
		buf := make([]byte, 2*len(src)+512) // a 9-bit fixed code bounds the output
		n := c.Compress(buf, src)
		if len(src) == 0 {
			if n != 0 {
				t.Fatalf("empty input compressed to %d bytes", n)
			}
			return
		}
		if n == 0 {
			t.Fatalf("%d bytes did not fit in %d", len(src), len(buf))
		}
		got := make([]byte, len(src))
		if err := d.Decompress(got, buf[:n]); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, src) {
			t.Fatal("round trip differs")
		}
	})
}
