package lzms

import (
	"bytes"
	"errors"
	"math/bits"
	"testing"
)

// sameAsReference decodes src into size bytes with the decoder and with the
// reference (reference_test.go) and fails unless both refuse it or both
// give the same bytes.
func sameAsReference(t *testing.T, d *Decompressor, ref *refDecompressor, src []byte, size int) {
	t.Helper()
	got, want := make([]byte, size), make([]byte, size)
	err := d.Decompress(got, src)
	refErr := ref.Decompress(want, src)
	if err != nil && !errors.Is(err, ErrCorrupt) {
		t.Fatalf("error not wrapping ErrCorrupt: %v", err)
	}
	if (err == nil) != (refErr == nil) {
		t.Fatalf("decoder: %v; reference: %v", err, refErr)
	}
	if err == nil && !bytes.Equal(got, want) {
		t.Fatal("decoder and reference give different bytes")
	}
}

// TestDecoderMatchesReference: on blocks of text, machine code, records and
// noise at several sizes (every kind of item, x86 translation, long runs),
// whole and damaged, the decoder does what the reference decoder does.
func TestDecoderMatchesReference(t *testing.T) {
	c, err := NewCompressorLevel(1<<20, LevelFast)
	if err != nil {
		t.Fatal(err)
	}
	d, ref := NewDecompressor(), new(refDecompressor)
	runs := bytes.Repeat([]byte{'x'}, 5000)
	runs = append(runs, bytes.Repeat([]byte("ab"), 3000)...)
	runs = append(runs, bytes.Repeat([]byte("abcdefghijk"), 900)...)
	noise := sampleRandom(50_000, 1)
	noise = append(noise, noise...) // one far match
	for _, data := range [][]byte{
		sampleText(t, 300_000), sampleBinary(t, 1<<20), sampleTable(200_000), noise, runs, vectorA(), vectorB(), vectorE(),
	} {
		out := make([]byte, len(data)+1024)
		n := c.Compress(out, data)
		if n == 0 {
			t.Fatalf("%d bytes did not compress", len(data))
		}
		block := out[:n]
		sameAsReference(t, d, ref, block, len(data))
		got := make([]byte, len(data))
		if err := d.Decompress(got, block); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("round trip of %d bytes: %v", len(data), err)
		}
		// Damaged: bytes flipped at spread places, and cut short.
		for k := 1; k < 8; k++ {
			bad := bytes.Clone(block)
			bad[len(bad)*k/8] ^= 0x41
			sameAsReference(t, d, ref, bad, len(data))
		}
		sameAsReference(t, d, ref, block[:len(block)/2&^1], len(data))
	}
}

// FuzzDecompressMatchesReference holds the decoder to the reference on
// arbitrary input.
func FuzzDecompressMatchesReference(f *testing.F) {
	f.Add(unhex(f, "1c 65 d0 8f 00 00 00 18 9e 86 55 63 62 61"), uint32(100))
	f.Add(unhex(f, "cb 33 71 00 20 30 00 00 88 5f 09 7e 02 8b 60 e3 65 6f fd ef 00 00 03 e8"), uint32(256))
	f.Add(vectorECompressed(f), uint32(9000))
	d, ref := NewDecompressor(), new(refDecompressor)
	f.Fuzz(func(t *testing.T, src []byte, size uint32) {
		sameAsReference(t, d, ref, src, int(size%70000))
	})
}

// TestX86FilterMatchesReference: the word-at-a-time scan finds the bytes
// the reference's table does, and the filter translates as the
// reference does, both ways, on machine code, text and noise, state kept
// across blocks.
func TestX86FilterMatchesReference(t *testing.T) {
	for b := range 256 {
		for k := range 8 {
			var v uint64 = 0x1111111111111111
			v = v&^(0xff<<(8*k)) | uint64(b)<<(8*k)
			m := x86Candidates(v)
			want := -1
			if x86Opcode[b] {
				want = k
			}
			got := -1
			if m != 0 {
				got = bits.TrailingZeros64(m) >> 3
			}
			if got != want {
				t.Fatalf("byte %#x at %d: first candidate %d, want %d", b, k, got, want)
			}
		}
	}
	blocks := [][]byte{sampleBinary(t, 1<<20), sampleText(t, 100_000), sampleRandom(100_000, 2), bytes.Repeat([]byte{0xe8, 0x48, 0x8d, 0x05}, 5000), vectorC(t)}
	for _, encode := range []bool{true, false} {
		var xs, refXs x86State
		for _, b := range blocks {
			for _, n := range []int{len(b), 17, 18, 25, 1000} {
				got, want := bytes.Clone(b[:min(n, len(b))]), bytes.Clone(b[:min(n, len(b))])
				x86Filter(got, &xs, encode)
				refX86Filter(want, &refXs, encode)
				if !bytes.Equal(got, want) {
					t.Fatalf("encode %v, %d bytes: the filter differs from the reference", encode, len(got))
				}
			}
		}
	}
}
