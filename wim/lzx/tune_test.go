package lzx

import (
	"os"
	"strconv"
	"testing"
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
	start := cpuTime()
	in, out := compressAll(c, files, v[3])
	el := cpuTime() - start
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
