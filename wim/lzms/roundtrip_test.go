package lzms

import (
	"bytes"
	"testing"
)

func roundTrip(t *testing.T, c *Compressor, d *Decompressor, src []byte) int {
	t.Helper()
	dst := make([]byte, len(src)+len(src)/2+64)
	n := c.compress(dst, src)
	if n == 0 {
		t.Fatalf("%d bytes did not compress into %d", len(src), len(dst))
	}
	got := make([]byte, len(src))
	if err := d.Decompress(got, dst[:n]); err != nil {
		t.Fatalf("%d bytes -> %d: %v", len(src), n, err)
	}
	if !bytes.Equal(got, src) {
		for i := range got {
			if got[i] != src[i] {
				t.Fatalf("%d bytes -> %d: differ first at %d", len(src), n, i)
			}
		}
	}
	return n
}

func TestRoundTrip(t *testing.T) {
	d := NewDecompressor()
	samples := map[string][]byte{
		"A":      vectorA(),
		"B":      vectorB(),
		"D":      bytes.Repeat(vectorC(t), 3),
		"E":      vectorE(),
		"text":   sampleText(t, 200_000),
		"binary": sampleBinary(t, 300_000),
		"table":  sampleTable(100_000),
		"random": sampleRandom(20_000, 3),
		"zeros":  make([]byte, 100_000),
		"four":   []byte("abca"),
	}
	for _, level := range []int{LevelFast, LevelDefault, LevelBest} {
		c, err := NewCompressorLevel(1<<20, level)
		if err != nil {
			t.Fatal(err)
		}
		for name, s := range samples {
			n := roundTrip(t, c, d, s)
			t.Logf("level %d %s: %d -> %d (%.3f)", level, name, len(s), n, float64(n)/float64(len(s)))
		}
	}
}
