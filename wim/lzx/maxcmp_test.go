package lzx

import (
	"hash/fnv"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reseal/reseal/wim/internal/wimtest"
)

// TestCompareWIM recompresses the chunks of a WIM that wimlib-imagex wrote
// (LZX_CMP=path, 32 KiB LZX chunks, e.g. --compress=LZX:100) with ours at
// LevelBest and reports our size against wimlib's, chunk for chunk, split
// by kind of data. LZX_CMP_STRIDE=n takes every n-th chunk (default 1). It
// is skipped without LZX_CMP: a measuring tool, not a test.
func TestCompareWIM(t *testing.T) {
	path := os.Getenv("LZX_CMP")
	if path == "" {
		t.Skip("set LZX_CMP=wimlib.wim")
	}
	stride, _ := strconv.Atoi(os.Getenv("LZX_CMP_STRIDE"))
	stride = max(stride, 1)
	level := LevelBest
	if v, err := strconv.Atoi(os.Getenv("LZX_CMP_LEVEL")); err == nil {
		level = v
	}
	w := wimtest.Read(t, path)
	c, err := NewCompressorLevel(w.ChunkSize, level)
	if err != nil {
		t.Fatal(err)
	}
	configure(c, os.Getenv("LZX_CONF"))
	kindFilter := os.Getenv("LZX_KIND")
	dec := NewDecompressor()
	buf := make([]byte, w.ChunkSize)
	plain := make([]byte, w.ChunkSize)
	type tally struct {
		chunks, in, theirs, ours int
		theirBlocks, ourBlocks   [4]int
	}
	kinds := map[string]*tally{}
	var total tally
	var el time.Duration
	sum := fnv.New64a()
	k := 0
	for bi, b := range w.Blobs {
		if !b.Res.Compressed() || b.Res.Flags&wimtest.ResSolid != 0 {
			continue
		}
		for ci, ch := range w.Chunks(t, b.Res) {
			k++
			if k%stride != 0 {
				continue
			}
			p := plain[:ch.Size]
			dec.blockTypes = [4]int{}
			if ch.Raw() {
				copy(p, ch.Stored)
			} else if err := dec.DecompressChunk(p, ch.Stored, w.ChunkSize); err != nil {
				t.Fatalf("blob %d chunk %d: %v", bi, ci, err)
			}
			kind := dataKind(p)
			if ch.Size < w.ChunkSize {
				kind += "/short"
			}
			if kindFilter != "" && kind != kindFilter {
				continue
			}
			theirBlocks := dec.blockTypes
			dec.blockTypes = [4]int{}
			start := cpuTime()
			n := c.Compress(buf[:ch.Size-1], p)
			el += cpuTime() - start
			if n > 0 {
				sum.Write(buf[:n])
			}
			if n == 0 {
				n = ch.Size
			} else if err := dec.DecompressChunk(make([]byte, ch.Size), buf[:n], w.ChunkSize); err != nil {
				t.Fatalf("blob %d chunk %d: ours does not decode: %v", bi, ci, err)
			}
			if kinds[kind] == nil {
				kinds[kind] = &tally{}
			}
			for _, tl := range []*tally{kinds[kind], &total} {
				tl.chunks++
				tl.in += ch.Size
				tl.theirs += len(ch.Stored)
				tl.ours += n
				for b := range 4 {
					tl.theirBlocks[b] += theirBlocks[b]
					tl.ourBlocks[b] += dec.blockTypes[b]
				}
			}
		}
	}
	for name, tl := range kinds {
		t.Logf("%-14s %6d chunks %11d in %10d wimlib %10d ours %.5fx; blocks (verbatim, aligned, stored) wimlib %v ours %v", name, tl.chunks, tl.in, tl.theirs, tl.ours,
			float64(tl.ours)/float64(tl.theirs), tl.theirBlocks[1:], tl.ourBlocks[1:])
	}
	t.Logf("%-14s %6d chunks %11d in %10d wimlib %10d ours %.5fx; %.2f MB/s CPU (%v)", "total", total.chunks, total.in, total.theirs, total.ours,
		float64(total.ours)/float64(total.theirs), float64(total.in)/el.Seconds()/1e6, el.Round(time.Millisecond))
	t.Logf("output hash %x", sum.Sum64())
}

// dataKind names what a chunk mostly holds: text (printable ASCII and
// whitespace), zeros, or other binary data.
func dataKind(p []byte) string {
	text, zero := 0, 0
	for _, b := range p {
		switch {
		case b == 0:
			zero++
		case b >= 0x20 && b < 0x7f, b == '\n', b == '\t', b == '\r':
			text++
		}
	}
	switch {
	case text*10 >= 9*len(p):
		return "text"
	case zero*2 >= len(p):
		return "zeros"
	}
	return "binary"
}

// configure sets LevelBest's knobs from "name=value,..." (sp, grain,
// passes, optlens, hbase, hsym).
func configure(c *Compressor, conf string) {
	for _, kv := range splitComma(conf) {
		k, v, _ := strings.Cut(kv, "=")
		f, _ := strconv.ParseFloat(v, 64)
		n := int(f)
		switch k {
		case "sp":
			c.splitPasses = n
		case "grain":
			c.splitGrain = n
		case "passes":
			c.opt.passes = n
		case "optlens":
			c.bw.optimalLens = n != 0
		case "hbase":
			headerBase = f
		case "hsym":
			headerPerSym = f
		}
	}
}

// TestCompareTime times LevelBest configurations (LZX_TIME="a;b;...",
// each as for configure) on every LZX_CMP_STRIDE-th chunk of the WIM at
// LZX_CMP, alternating them LZX_TIME_REPS times in one process, and
// reports the smallest CPU time and the output size of each.
func TestCompareTime(t *testing.T) {
	path, confs := os.Getenv("LZX_CMP"), os.Getenv("LZX_TIME")
	if path == "" || confs == "" {
		t.Skip("set LZX_CMP and LZX_TIME")
	}
	stride, _ := strconv.Atoi(os.Getenv("LZX_CMP_STRIDE"))
	stride = max(stride, 1)
	reps, _ := strconv.Atoi(os.Getenv("LZX_TIME_REPS"))
	reps = max(reps, 1)
	w := wimtest.Read(t, path)
	dec := NewDecompressor()
	var chunks [][]byte
	k := 0
	for _, b := range w.Blobs {
		if !b.Res.Compressed() || b.Res.Flags&wimtest.ResSolid != 0 {
			continue
		}
		for _, ch := range w.Chunks(t, b.Res) {
			if k++; k%stride != 0 {
				continue
			}
			p := make([]byte, ch.Size)
			if ch.Raw() {
				copy(p, ch.Stored)
			} else if err := dec.DecompressChunk(p, ch.Stored, w.ChunkSize); err != nil {
				t.Fatal(err)
			}
			chunks = append(chunks, p)
		}
	}
	names := strings.Split(confs, ";")
	best := make([]time.Duration, len(names))
	size := make([]int, len(names))
	buf := make([]byte, w.ChunkSize)
	for range reps {
		for i, conf := range names {
			c, _ := NewCompressorLevel(w.ChunkSize, LevelBest)
			hb, hs := headerBase, headerPerSym
			configure(c, conf)
			start := cpuTime()
			n := 0
			for _, p := range chunks {
				m := c.Compress(buf[:len(p)-1], p)
				if m == 0 {
					m = len(p)
				}
				n += m
			}
			el := cpuTime() - start
			headerBase, headerPerSym = hb, hs
			if best[i] == 0 || el < best[i] {
				best[i] = el
			}
			size[i] = n
		}
	}
	for i, conf := range names {
		t.Logf("%-40q %10d bytes %.5fx  %v CPU  %.3fx time", conf, size[i], float64(size[i])/float64(size[0]), best[i].Round(time.Millisecond), best[i].Seconds()/best[0].Seconds())
	}
}
