package lzx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

func roundTrip(t *testing.T, c *Compressor, d *Decompressor, chunkSize int, src []byte) int {
	t.Helper()
	dst := make([]byte, len(src)+len(src)/8+1024)
	n := c.compress(dst, src)
	if n == 0 {
		t.Fatalf("%d bytes: Compress returned 0 with a roomy buffer", len(src))
	}
	got := make([]byte, len(src))
	if err := d.DecompressChunk(got, dst[:n], chunkSize); err != nil {
		t.Fatalf("%d bytes (chunk size %d): decompress: %v", len(src), chunkSize, err)
	}
	if !bytes.Equal(got, src) {
		i := 0
		for i < len(src) && got[i] == src[i] {
			i++
		}
		t.Fatalf("%d bytes (chunk size %d): round trip differs from byte %d", len(src), chunkSize, i)
	}
	return n
}

func TestRoundTripSamples(t *testing.T) {
	samples := map[string][]byte{
		"text":   sampleText(t, 1<<20),
		"binary": sampleBinary(t, 1<<20),
		"random": sampleRandom(1<<17, 3),
		"zeros":  make([]byte, 1<<20),
		"e8":     sampleE8(1 << 19),
		"mixed":  sampleMixed(t, 1<<20+12345),
	}
	type config struct{ level, chunkSize int }
	configs := []config{{LevelFast, 32768}, {LevelBest, 65536}, {LevelFast, 1 << 20}}
	for _, cs := range []int{32768, 65536, 1 << 20} {
		configs = append(configs, config{LevelDefault, cs})
	}
	for _, cfg := range configs {
		cs := cfg.chunkSize
		c, err := NewCompressorLevel(cs, cfg.level)
		if err != nil {
			t.Fatal(err)
		}
		d := NewDecompressor()
		for name, data := range samples {
			t.Run(fmt.Sprintf("level%d/%s/%d", cfg.level, name, cs), func(t *testing.T) {
				total := 0
				for off := 0; off < len(data); off += cs {
					total += roundTrip(t, c, d, cs, data[off:min(off+cs, len(data))])
				}
				t.Logf("%d -> %d bytes (%.3f)", len(data), total, float64(total)/float64(len(data)))
			})
		}
	}
}

func TestRoundTripEdgeSizes(t *testing.T) {
	text := sampleText(t, 70000)
	bin := sampleBinary(t, 70000)
	for level := LevelFast; level <= LevelBest; level++ {
		c, err := NewCompressorLevel(65536, level)
		if err != nil {
			t.Fatal(err)
		}
		roundTripEdgeSizes(t, c, text, bin)
	}
}

func roundTripEdgeSizes(t *testing.T, c *Compressor, text, bin []byte) {
	d := NewDecompressor()
	for _, n := range []int{1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 15, 16, 17, 31, 255, 256, 257, 258, 259, 1000, 32767, 32768, 32769, 40000, 65535, 65536} {
		roundTrip(t, c, d, 65536, text[:n])
		roundTrip(t, c, d, 65536, bin[:n])
		roundTrip(t, c, d, 65536, bytes.Repeat([]byte{0xE8}, n))
		roundTrip(t, c, d, 65536, make([]byte, n))
	}
}

// TestRoundTripRuns round-trips long runs of one byte, which the match
// finder does not search position by position: runs around the length where
// that starts (runSkipMin from the run's second byte), runs across a block
// boundary and to the end of the chunk, runs followed by text that repeats
// text from before them. Runs must also cost next to nothing.
func TestRoundTripRuns(t *testing.T) {
	text := sampleText(t, 20000)
	d := NewDecompressor()
	for _, cs := range []int{32768, 1 << 20} {
		for level := LevelFast; level <= LevelBest; level++ {
			c, err := NewCompressorLevel(cs, level)
			if err != nil {
				t.Fatal(err)
			}
			for _, runLen := range []int{runSkipMin - 1, runSkipMin, runSkipMin + 1, runSkipMin + 2, runSkipMin + maxMatch, runSkipMin + maxMatch + 2, 5000, 30000} {
				for _, lead := range []int{0, 1, 3000, 32768 - 600} {
					var src []byte
					src = append(src, text[:lead]...)
					src = append(src, bytes.Repeat([]byte{byte(runLen)}, runLen)...)
					src = append(src, text[:max(0, min(len(text), cs-len(src)))]...)
					roundTrip(t, c, d, cs, src[:min(len(src), cs)])
					// A run up to the end of the chunk.
					roundTrip(t, c, d, cs, src[:min(lead+runLen, cs)])
				}
			}
			zeros := make([]byte, cs)
			if n := roundTrip(t, c, d, cs, zeros); n > cs/200+64 {
				t.Errorf("level %d: %d zeros took %d bytes", level, cs, n)
			}
		}
	}
}

func TestCompressTooSmall(t *testing.T) {
	c, _ := NewCompressor(32768)
	src := sampleRandom(32768, 9)
	if n := c.Compress(make([]byte, 32767), src); n != 0 {
		t.Fatalf("random data compressed to %d bytes of a 32767-byte buffer", n)
	}
	text := sampleText(t, 32768)
	full := make([]byte, 40000)
	n := c.Compress(full, text)
	if n == 0 {
		t.Fatal("text did not compress")
	}
	if m := c.Compress(make([]byte, n-1), text); m != 0 {
		t.Fatalf("fit %d bytes into a buffer of %d", m, n-1)
	}
	if m := c.Compress(make([]byte, n), text); m != n {
		t.Fatalf("exact buffer: got %d, want %d", m, n)
	}
}

func TestNewCompressorRejects(t *testing.T) {
	for _, tc := range []struct{ chunk, level int }{{0, LevelDefault}, {MaxChunkSize + 1, LevelDefault}, {32768, 0}, {32768, LevelBest + 1}} {
		if _, err := NewCompressorLevel(tc.chunk, tc.level); err == nil {
			t.Errorf("NewCompressorLevel(%d, %d) accepted", tc.chunk, tc.level)
		}
	}
	c, _ := NewCompressor(32768)
	if n := c.Compress(make([]byte, 70000), make([]byte, 32769)); n != 0 {
		t.Errorf("compressed a chunk larger than the chunk size")
	}
}

func TestCompressNeverReturnsRawSize(t *testing.T) {
	c, _ := NewCompressor(32768)
	for _, n := range []int{1, 2, 5, 20, 100} {
		src := sampleRandom(n, uint64(n))
		if m := c.Compress(make([]byte, 2*n+100), src); m >= n {
			t.Errorf("%d random bytes: returned %d, not smaller", n, m)
		}
	}
}

// TestE8Inverse checks that the decoder's call translation undoes the
// encoder's for every operand value class and position near the chunk end.
func TestE8Inverse(t *testing.T) {
	for _, n := range []int{1, 10, 11, 15, 16, 100, 32768} {
		for _, v := range []int32{0, 1, -1, 5, -5, 1000, -1000, e8FileSize - 1, e8FileSize, -e8FileSize, 1 << 30, -(1 << 30)} {
			data := make([]byte, n)
			for i := 0; i+5 <= n; i += 7 {
				data[i] = 0xE8
				binary.LittleEndian.PutUint32(data[i+1:], uint32(v+int32(i%13)))
			}
			orig := bytes.Clone(data)
			doE8(data)
			undoE8(data)
			if !bytes.Equal(data, orig) {
				t.Fatalf("n=%d v=%d: translation not undone", n, v)
			}
		}
	}
}

func TestNoAllocationsAfterWarmup(t *testing.T) {
	src := sampleMixed(t, 32768)
	c, _ := NewCompressor(32768)
	dst := make([]byte, 32768)
	n := c.Compress(dst, src)
	if n == 0 {
		t.Fatal("did not compress")
	}
	if a := testing.AllocsPerRun(5, func() { c.Compress(dst, src) }); a != 0 {
		t.Errorf("Compress allocates %.1f times per chunk after warmup", a)
	}
	d := NewDecompressor()
	out := make([]byte, len(src))
	if err := d.Decompress(out, dst[:n]); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(5, func() { d.Decompress(out, dst[:n]) }); a != 0 {
		t.Errorf("Decompress allocates %.1f times per chunk after warmup", a)
	}
}

// TestDecompressRejects checks that malformed input gives an error wrapping
// ErrCorrupt, never a panic.
func TestDecompressRejects(t *testing.T) {
	c, _ := NewCompressor(32768)
	src := sampleText(t, 20000)
	buf := make([]byte, 20000)
	n := c.Compress(buf, src)
	good := buf[:n]
	cases := map[string]struct {
		src  []byte
		size int
	}{
		"empty":           {nil, 100},
		"truncated":       {good[:n/2], len(src)},
		"short by a word": {good[:n-2], len(src)},
		"block type 0":    {[]byte{0x00, 0x00, 0, 0, 0, 0}, 10},
		"block type 7":    {[]byte{0x00, 0xe0, 0, 0, 0, 0}, 10},
		"block too long":  {good, len(src) - 1},
		"all ones":        {bytes.Repeat([]byte{0xff}, 100), 1000},
	}
	d := NewDecompressor()
	for name, tc := range cases {
		err := d.Decompress(make([]byte, tc.size), tc.src)
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v does not wrap ErrCorrupt", name, err)
		}
	}
	if err := d.Decompress(make([]byte, MaxChunkSize+1), good); err == nil {
		t.Error("accepted a destination larger than the largest chunk")
	}
}
