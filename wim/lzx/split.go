package lzx

import (
	"math"
	"sync"
)

// LevelBest codes each block as one block or as several, whichever takes
// fewer bits: where the data changes (code to tables, text to code), codes
// of its own for each part pay for their extra header.

// segment is a stretch of a block parsed into its own LZX block.
type segment struct {
	start, end int
	items      []item
	in, out    [3]uint32 // repeated offsets before and after
}

// parseRange parses data[start:end] (inside the block whose matches were
// found from blockStart) with passes searches, the first priced by the
// codes of seed, or of a greedy parse when seed is nil, and appends the
// items to buf.
func (c *Compressor) parseRange(blockStart, start, end int, reps [3]uint32, passes int, seed, buf []item) ([]item, [3]uint32) {
	p := &c.opt
	all := p.matchStart
	p.matchStart = all[start-blockStart:]
	defer func() { p.matchStart = all }()
	base := len(buf)
	if seed == nil {
		buf = p.greedy(c.data, start, end, reps, buf)
		seed = buf[base:]
	}
	c.bw.buildCodes(seed)
	p.costsFromCodes(&c.bw)
	var out [3]uint32
	for pass := 0; ; pass++ {
		buf, out = p.parse(c.data, start, end, reps, buf[:base])
		if pass == passes-1 {
			return buf, out
		}
		c.bw.buildCodes(buf[base:])
		p.costsFromCodes(&c.bw)
	}
}

// writeSegment codes one segment as a block, or stores it when that is
// smaller, and returns the repeated offsets after it.
func (c *Compressor) writeSegment(s *segment) [3]uint32 {
	raw := c.bw.uncompressedBits(s.end - s.start)
	c.bw.save(&c.saved)
	before := c.bw.w.bits()
	c.bw.writeBlock(s.items, s.end-s.start)
	if raw >= 0 && (c.bw.w.full || c.bw.w.bits()-before > raw) {
		c.bw.restore(&c.saved)
		// The stored block's header sets the repeated offsets: to those
		// the next segment was parsed with.
		c.bw.writeUncompressedBlock(c.data[s.start:s.end], s.out)
	}
	return s.out
}

// trialBits is how many bits the segments take when coded from the
// current position; the writer is left as it was.
func (c *Compressor) trialBits(segs []segment) int {
	var st blockWriterState
	c.bw.save(&st)
	before := c.bw.w.bits()
	for i := range segs {
		c.writeSegment(&segs[i])
	}
	n := c.bw.w.bits() - before
	if c.bw.w.full {
		n = 1 << 30 // more bits than any chunk (at most 2 MiB) can take; fits a 32-bit int
	}
	c.bw.restore(&st)
	return n
}

// compressBest codes data[start:end] at LevelBest and returns the repeated
// offsets after it: the block is parsed whole, a split into several blocks
// is estimated from those items (splitPlan), and when one is expected to
// pay, its blocks are parsed again each with its own codes and kept if
// they take fewer bits than the whole.
func (c *Compressor) compressBest(start, end int, reps [3]uint32) [3]uint32 {
	p := &c.opt
	p.findMatches(start, end)
	if len(c.segs) == 0 {
		c.segs = make([]segment, 1)
	}
	whole := &c.segs[0]
	*whole = segment{start: start, end: end, in: reps}
	whole.items, whole.out = c.parseRange(start, start, end, reps, p.passes, nil, c.items[:0])
	c.items = whole.items
	var bounds []int
	if c.splitPasses > 0 {
		bounds = c.splitPlan(whole.items, start, end)
	}
	best := c.segs[:1]
	if len(bounds) > 2 {
		nseg := len(bounds) - 1
		for len(c.segs) < 1+nseg {
			c.segs = append(c.segs, segment{})
		}
		whole, best = &c.segs[0], c.segs[:1]
		parts := c.segs[1 : 1+nseg]
		// The parts' items share one buffer, so that memory stays bounded
		// by the block's size however the blocks were split before.
		r, buf := reps, c.partItems[:0]
		for k := range parts {
			s := &parts[k]
			s.start, s.end, s.in = c.itemPos[bounds[k]], c.itemPos[bounds[k+1]], r
			seed := whole.items[bounds[k]:bounds[k+1]]
			n := len(buf)
			buf, s.out = c.parseRange(start, s.start, s.end, r, c.splitPasses, seed, buf)
			s.items, r = buf[n:], s.out
		}
		c.partItems = buf
		if c.trialBits(parts) < c.trialBits(best) {
			best = parts
		}
	}
	for i := range best {
		reps = c.writeSegment(&best[i])
	}
	return reps
}

// itemLen is how many bytes an item codes.
func itemLen(it item) int {
	if it.mainSym < numChars {
		return 1
	}
	l := int(it.mainSym-numChars)&7 + minMatch
	if it.lenSym >= 0 {
		l += int(it.lenSym)
	}
	return l
}

// Header cost model of splitPlan, in bits: a block's code lengths took
// about headerBase + headerPerSym bits per used main or length symbol on
// code and text (least squares over the blocks of a 23 MB sample).
var (
	headerBase   = 574.0 + 3 + 17
	headerPerSym = 2.56
)

// xlog2x[f] is f*log2(f): the entropy of a block's symbols is
// n*log2(n) - sum of f*log2(f) over their frequencies f.
var xlog2x = sync.OnceValue(func() []float32 {
	t := make([]float32, 1<<16+1)
	for f := 2; f < len(t); f++ {
		t[f] = float32(float64(f) * math.Log2(float64(f)))
	}
	return t
})

// splitPlan estimates, from the items of a block coded whole, where block
// boundaries would save bits: each stretch of splitGrain bytes is a
// candidate, a block is priced by the entropy of its symbols under its own
// codes plus a header cost that grows with the symbols it uses, and the
// cheapest sequence of blocks is found by dynamic programming. It returns
// the chosen boundaries as item indices (0 and len(items) included); just
// those two when one block is cheapest.
func (c *Compressor) splitPlan(items []item, start, end int) []int {
	flog := xlog2x()
	// Item positions and the first item of each grain.
	c.itemPos = c.itemPos[:0]
	c.grainItem = c.grainItem[:0]
	pos := start
	for i, it := range items {
		for len(c.grainItem)*c.splitGrain <= pos-start {
			c.grainItem = append(c.grainItem, i)
		}
		c.itemPos = append(c.itemPos, pos)
		pos += itemLen(it)
	}
	c.itemPos = append(c.itemPos, pos)
	c.grainItem = append(c.grainItem, len(items))
	k := len(c.grainItem) - 1 // grains
	if k < 2 {
		return c.bounds[:0]
	}
	numMain := c.bw.numMain
	if cap(c.freq) < numMain+numLengthSyms {
		c.freq = make([]int32, numMain+numLengthSyms)
	}
	freq := c.freq[:numMain+numLengthSyms]
	if cap(c.cost) < k+1 {
		c.cost = make([]float64, k+1)
		c.from = make([]int, k+1)
	}
	cost, from := c.cost[:k+1], c.from[:k+1]
	for j := range cost {
		cost[j] = math.Inf(1)
	}
	cost[0] = 0
	for i := 0; i < k; i++ {
		clear(freq)
		var sMain, sLen float64 // sums of f*log2(f)
		nMain, nLen, used := 0, 0, 0
		for j := i + 1; j <= k; j++ {
			for _, it := range items[c.grainItem[j-1]:c.grainItem[j]] {
				f := freq[it.mainSym]
				if f == 0 {
					used++
				}
				sMain += float64(flog[f+1] - flog[f])
				freq[it.mainSym] = f + 1
				nMain++
				if it.lenSym >= 0 {
					s := numMain + int(it.lenSym)
					f := freq[s]
					if f == 0 {
						used++
					}
					sLen += float64(flog[f+1] - flog[f])
					freq[s] = f + 1
					nLen++
				}
			}
			bits := float64(flog[nMain]) - sMain + float64(flog[nLen]) - sLen + headerBase + headerPerSym*float64(used)
			if cc := cost[i] + bits; cc < cost[j] {
				cost[j], from[j] = cc, i
			}
		}
	}
	c.bounds = c.bounds[:0]
	for j := k; j > 0; j = from[j] {
		c.bounds = append(c.bounds, c.grainItem[j])
	}
	c.bounds = append(c.bounds, 0)
	for a, b := 0, len(c.bounds)-1; a < b; a, b = a+1, b-1 {
		c.bounds[a], c.bounds[b] = c.bounds[b], c.bounds[a]
	}
	return c.bounds
}
