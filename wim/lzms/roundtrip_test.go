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

// TestSmallWindow: with a match finder window much smaller than the chunk
// (as 64 MiB chunks have, 16 MiB), data repeated beyond the window and
// within it still round-trips.
func TestSmallWindow(t *testing.T) {
	c, err := NewCompressor(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	c.window = 1 << 12
	text := sampleText(t, 50_000)
	src := append(append(append([]byte{}, text...), sampleRandom(30_000, 5)...), text...)
	src = append(src, text[:3000]...)
	roundTrip(t, c, NewDecompressor(), src)
}

// TestTightOutput: both streams share the output buffer, so an output just
// big enough holds the block, and one byte less makes Compress give up
// (return 0) without writing outside it.
func TestTightOutput(t *testing.T) {
	c, _ := NewCompressor(1 << 20)
	d := NewDecompressor()
	for _, src := range [][]byte{sampleText(t, 100_000), sampleBinary(t, 100_000), sampleRandom(5000, 9)} {
		big := make([]byte, 2*len(src))
		n := c.compress(big, src)
		if n == 0 {
			t.Fatal("did not compress into twice its size")
		}
		want := append([]byte{}, big[:n]...)
		exact := make([]byte, n+1) // a sentinel after the block
		exact[n] = 0xa5
		if got := c.compress(exact[:n], src); got != n || !bytes.Equal(exact[:n], want) || exact[n] != 0xa5 {
			t.Fatalf("into exactly %d bytes: %d", n, got)
		}
		out := make([]byte, len(src))
		if err := d.Decompress(out, exact[:n]); err != nil || !bytes.Equal(out, src) {
			t.Fatalf("tight block does not decode: %v", err)
		}
		short := make([]byte, n+1)
		short[n-1] = 0x5a
		if got := c.compress(short[:n-2], src); got != 0 {
			t.Fatalf("into %d bytes: %d, want 0", n-2, got)
		}
		if short[n-1] != 0x5a {
			t.Fatal("wrote past the output")
		}
	}
}
