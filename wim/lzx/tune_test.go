package lzx

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// TestTune reports CPU time and ratio for search parameters from the
// environment (LZX_TUNE=nice,depth,passes); it is skipped otherwise.
func TestTune(t *testing.T) {
	spec := os.Getenv("LZX_TUNE")
	if spec == "" {
		t.Skip("set LZX_TUNE=nice,depth,passes")
	}
	var v [5]int
	for i, f := range splitComma(spec) {
		v[i], _ = strconv.Atoi(f)
	}
	files := [][]byte{sampleBinary(t, 3<<20), sampleText(t, 3<<20)}
	c, _ := NewCompressor(v[3])
	c.opt.niceLen, c.opt.depth, c.opt.passes, c.blockSize = v[0], v[1], v[2], v[4]
	// The best of three runs: the machine is shared.
	var in, out int
	var el time.Duration
	for range 3 {
		start := cpuTime()
		in, out = compressAll(c, files, v[3])
		if d := cpuTime() - start; el == 0 || d < el {
			el = d
		}
	}
	t.Logf("%v: ratio %.5f, %.2f MB/s CPU", v, float64(out)/float64(in), float64(in)/el.Seconds()/1e6)
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// TestTuneDecode reports decoding speed in CPU time (LZX_TUNE_DECODE=1).
func TestTuneDecode(t *testing.T) {
	if os.Getenv("LZX_TUNE_DECODE") == "" {
		t.Skip("set LZX_TUNE_DECODE=1")
	}
	files := [][]byte{sampleBinary(t, 3<<20), sampleText(t, 3<<20)}
	c, _ := NewCompressor(32768)
	var chunks [][]byte
	var sizes []int
	total := 0
	for _, f := range files {
		for off := 0; off < len(f); off += 32768 {
			src := f[off:min(off+32768, len(f))]
			dst := make([]byte, len(src))
			if n := c.Compress(dst, src); n > 0 {
				chunks = append(chunks, dst[:n])
				sizes = append(sizes, len(src))
				total += len(src)
			}
		}
	}
	d := NewDecompressor()
	out := make([]byte, 32768)
	start := cpuTime()
	for range 10 {
		for i, ch := range chunks {
			if err := d.Decompress(out[:sizes[i]], ch); err != nil {
				t.Fatal(err)
			}
		}
	}
	el := cpuTime() - start
	t.Logf("decode: %.1f MB/s CPU", float64(10*total)/el.Seconds()/1e6)
}
