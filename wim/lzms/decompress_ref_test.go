package lzms

import (
	"bytes"
	"errors"
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
