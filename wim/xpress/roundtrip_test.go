package xpress

import (
	"bytes"
	"errors"
	"testing"
)

func roundTrip(t testing.TB, c *Compressor, d *Decompressor, src []byte) int {
	t.Helper()
	buf := make([]byte, len(src)+len(src)/2+1024)
	n := c.Compress(buf, src)
	if n == 0 {
		t.Fatalf("Compress(%d bytes) did not fit in %d", len(src), len(buf))
	}
	// The size predicted before encoding is exact: exactly n bytes must do,
	// one byte less must fail.
	if m := c.Compress(buf[:n], src); m != n {
		t.Fatalf("Compress into exactly %d bytes returned %d", n, m)
	}
	if m := c.Compress(buf[:n-1], src); m != 0 {
		t.Fatalf("Compress into %d bytes returned %d after needing %d", n-1, m, n)
	}
	got := make([]byte, len(src))
	if err := d.Decompress(got, buf[:n]); err != nil {
		t.Fatalf("Decompress(%d -> %d bytes): %v", n, len(src), err)
	}
	if !bytes.Equal(got, src) {
		i := 0
		for i < len(src) && got[i] == src[i] {
			i++
		}
		t.Fatalf("round trip of %d bytes differs at offset %d", len(src), i)
	}
	return n
}

func TestRoundTrip(t *testing.T) {
	inputs := testInputs(t)
	d := NewDecompressor()
	for _, chunk := range []int{4096, 8192, 16384, 32768, 65536} {
		c, err := NewCompressor(chunk)
		if err != nil {
			t.Fatal(err)
		}
		for name, data := range inputs {
			in, out := 0, 0
			for off := 0; off < len(data); off += chunk {
				end := min(off+chunk, len(data))
				in += end - off
				out += roundTrip(t, c, d, data[off:end])
			}
			t.Logf("chunk %5d %-8s %8d -> %8d (%.3f)", chunk, name, in, out, float64(out)/float64(in))
		}
	}
}

func TestRoundTripEdgeSizes(t *testing.T) {
	c, err := NewCompressor(MaxChunkSize)
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecompressor()
	for name, data := range testInputs(t) {
		for _, n := range []int{1, 2, 3, 4, 5, 15, 16, 17, 18, 19, 270, 271, 272, 273, 4095, 4096, 32768, 65535, 65536} {
			if n > len(data) {
				continue
			}
			roundTrip(t, c, d, data[:n])
			roundTrip(t, c, d, data[len(data)-n:])
		}
		_ = name
	}
}

func TestCompressTooSmallDestination(t *testing.T) {
	c, _ := NewCompressor(MaxChunkSize)
	src := testInputs(t)["random"][:65536]
	for _, size := range []int{0, 10, 259, 260, 300, 65536} {
		if n := c.Compress(make([]byte, size), src); n != 0 {
			t.Errorf("Compress of random data into %d bytes returned %d, want 0", size, n)
		}
	}
	if n := c.Compress(make([]byte, 1<<17), make([]byte, MaxChunkSize+1)); n != 0 {
		t.Errorf("Compress accepted a chunk larger than maxChunk")
	}
}

func TestNewCompressorRejectsSizes(t *testing.T) {
	for _, n := range []int{0, -1, MaxChunkSize + 1} {
		if _, err := NewCompressor(n); err == nil {
			t.Errorf("NewCompressor(%d) succeeded", n)
		}
	}
}

func TestDecompressRejectsCorruptInput(t *testing.T) {
	c, _ := NewCompressor(MaxChunkSize)
	src := testInputs(t)["pattern"][:20000]
	buf := make([]byte, 40000)
	n := c.Compress(buf, src)
	good := buf[:n]
	dst := make([]byte, len(src))
	cases := map[string][]byte{
		"empty":          nil,
		"table only":     good[:tableBytes],
		"truncated":      good[:n/2],
		"zero table":     append(make([]byte, tableBytes), good[tableBytes:]...),
		"overfull table": append(bytes.Repeat([]byte{0x11}, tableBytes), good[tableBytes:]...),
	}
	for name, in := range cases {
		if err := Decompress(dst, in); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: got %v, want ErrCorrupt", name, err)
		}
	}
	// A longer destination than the data encodes must fail too.
	if err := Decompress(make([]byte, len(src)+1000), good); !errors.Is(err, ErrCorrupt) {
		t.Errorf("oversized destination: got %v, want ErrCorrupt", err)
	}
}

// TestNoAllocationsAfterWarmup: the WIM writer and reader call these once
// per chunk, so they must not allocate.
func TestNoAllocationsAfterWarmup(t *testing.T) {
	inputs := testInputs(t)
	src := inputs["binary"]
	if src == nil {
		src = inputs["pattern"]
	}
	src = src[:32768]
	c, _ := NewCompressor(32768)
	d := NewDecompressor()
	buf := make([]byte, 40000)
	out := make([]byte, len(src))
	n := c.Compress(buf, src)
	if allocs := testing.AllocsPerRun(10, func() { c.Compress(buf, src) }); allocs != 0 {
		t.Errorf("Compress allocates %.1f times per chunk", allocs)
	}
	if allocs := testing.AllocsPerRun(10, func() { _ = d.Decompress(out, buf[:n]) }); allocs != 0 {
		t.Errorf("Decompress allocates %.1f times per chunk", allocs)
	}
}
