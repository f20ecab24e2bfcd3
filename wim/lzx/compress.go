package lzx

import (
	"encoding/binary"
	"fmt"
)

// Compression levels: how hard the compressor searches.
const (
	// LevelFast parses lazily with hash chains: about four times as fast
	// as LevelDefault, 4% (32 KiB chunks) to 9% (1 MiB) larger output.
	LevelFast = 1
	// LevelDefault parses near-optimally in one pass priced by a greedy
	// parse's codes: within 1% of wimlib's default LZX size.
	LevelDefault = 2
	// LevelBest searches deeper, takes no match unexamined for being long,
	// keeps every offset of the longest length, parses six times, each
	// pass priced by the codes of the one before, and splits blocks where
	// the data changes: about 1.2% smaller than LevelDefault for 5-6x its
	// time.
	LevelBest = 3
)

// Compressor compresses WIM chunks with LZX. It is not safe for concurrent
// use; make one per goroutine.
type Compressor struct {
	maxChunk int
	order    int
	data     []byte // the chunk after E8 translation
	items    []item
	bw       blockWriter
	mf       hashChains
	opt      optimalParser
	saved    blockWriterState
	fast     bool // lazy parsing instead of near-optimal parsing
	// blockSize is how many bytes each block codes with its own Huffman codes.
	blockSize int
	// best codes each block as one block or several (compressBest).
	best      bool
	segs      []segment
	partItems []item // the items of the blocks of a split
	// splitPasses is how many searches each block of a split gets (none:
	// never split).
	splitPasses int
	// splitGrain: candidate block boundaries are this many bytes apart.
	splitGrain int
	// The buffers of splitPlan.
	itemPos, grainItem, bounds, from []int
	freq                             []int32
	cost                             []float64
}

// NewCompressor returns a compressor for chunks of at most maxChunk bytes.
// maxChunk is the WIM chunk size: it decides the LZX window, which must be
// the same for every chunk of a WIM, the short last one included.
func NewCompressor(maxChunk int) (*Compressor, error) {
	return NewCompressorLevel(maxChunk, LevelDefault)
}

// NewCompressorLevel is NewCompressor with a compression level
// (LevelFast, LevelDefault or LevelBest).
func NewCompressorLevel(maxChunk, level int) (*Compressor, error) {
	if maxChunk <= 0 || maxChunk > MaxChunkSize {
		return nil, fmt.Errorf("lzx: chunk size %d out of range 1..%d", maxChunk, MaxChunkSize)
	}
	c := &Compressor{maxChunk: maxChunk, order: windowOrder(maxChunk), blockSize: defaultBlockSize}
	if c.order >= 16 {
		// Larger windows have 24-bit block sizes; 64 KiB blocks measured
		// 0.5% smaller than 32 KiB ones on 1 MiB chunks of code and text.
		c.blockSize = 1 << 16
	}
	switch level {
	case LevelFast:
		c.fast = true
	case LevelDefault:
		c.opt.niceLen, c.opt.depth, c.opt.passes, c.opt.chain = 64, 32, 1, true
		if c.order >= 16 {
			// Larger windows hold more candidates worth the search: on
			// 1 MiB chunks this is 0.4% smaller for 4% more time.
			c.opt.niceLen, c.opt.depth = 128, 64
		}
	case LevelBest:
		c.opt.niceLen, c.opt.depth, c.opt.passes, c.opt.chain = maxMatch, 64, 6, true
		// Every offset as long as the longest so far, not only the
		// nearest: 0.26% smaller on code, 0.07% on text, for ~45% more
		// time (at LevelDefault: 0.2% smaller on code, 0.03% on text,
		// ~25% more time, which is why it does not). With it, depth 128
		// found nothing that 64 does not, and six passes are 0.03%
		// smaller than four.
		c.opt.bt.equalLens = true
		// Fractional prices from the previous pass's frequencies: 0.02%
		// smaller on code, 0.1% on text (at LevelDefault, priced by
		// the greedy parse: +0.01% on code, -0.06% on text).
		c.opt.entropy = true
		c.best = true
		c.splitPasses, c.splitGrain = 4, 128
		c.bw.optimalLens = true
	default:
		return nil, fmt.Errorf("lzx: compression level %d out of range %d..%d", level, LevelFast, LevelBest)
	}
	return c, nil
}

// Compress writes the compressed form of src into dst and returns its
// length, or 0 when it does not fit in len(dst) or is not smaller than src
// (the caller then stores the chunk raw: in a WIM a chunk whose stored size
// equals its size is raw). len(src) must not exceed the compressor's chunk
// size.
func (c *Compressor) Compress(dst, src []byte) int {
	n := c.compress(dst, src)
	if n >= len(src) {
		return 0
	}
	return n
}

// compress is Compress without the check that the output is smaller.
func (c *Compressor) compress(dst, src []byte) int {
	if len(src) == 0 || len(src) > c.maxChunk {
		return 0
	}
	c.data = append(c.data[:0], src...)
	doE8(c.data)
	if c.fast {
		c.mf.reset(c.data)
	} else {
		c.opt.bt.reset(c.data)
	}
	c.bw.reset(dst, c.order)
	reps := [3]uint32{1, 1, 1}
	for start := 0; start < len(c.data); start += c.blockSize {
		end := min(start+c.blockSize, len(c.data))
		if c.best {
			if reps = c.compressBest(start, end, reps); c.bw.w.full {
				return 0
			}
			continue
		}
		c.items = c.items[:0]
		startReps := reps
		if c.fast {
			reps = c.parseLazy(start, end, reps)
		} else {
			reps = c.parseOptimal(start, end, reps)
		}
		raw := c.bw.uncompressedBits(end - start)
		c.bw.save(&c.saved)
		before := c.bw.w.bits()
		c.bw.writeBlock(c.items, end-start)
		if raw >= 0 && (c.bw.w.full || c.bw.w.bits()-before > raw) {
			// The block does not shrink: store it, keeping the offsets.
			c.bw.restore(&c.saved)
			c.bw.writeUncompressedBlock(c.data[start:end], startReps)
			reps = startReps
		}
		if c.bw.w.full {
			return 0
		}
	}
	return c.bw.w.flush()
}

// parseOptimal parses data[start:end] into c.items with near-optimal
// parsing: the first pass is priced by the codes of a greedy parse, each
// further pass by the codes of the pass before.
func (c *Compressor) parseOptimal(start, end int, reps [3]uint32) [3]uint32 {
	p := &c.opt
	p.findMatches(start, end)
	c.items = p.greedy(c.data, start, end, reps, c.items[:0])
	c.bw.buildCodes(c.items)
	p.costsFromCodes(&c.bw)
	var out [3]uint32
	for pass := 0; ; pass++ {
		c.items, out = p.parse(c.data, start, end, reps, c.items[:0])
		if pass == p.passes-1 {
			return out
		}
		c.bw.buildCodes(c.items)
		p.costsFromCodes(&c.bw)
	}
}

// matchLen returns how many bytes at a and b agree, up to limit.
func matchLen(data []byte, a, b, limit int) int {
	n := 0
	for n+8 <= limit {
		x := binary.LittleEndian.Uint64(data[a+n:]) ^ binary.LittleEndian.Uint64(data[b+n:])
		if x != 0 {
			return n + trailingZeroBytes(x)
		}
		n += 8
	}
	for n < limit && data[a+n] == data[b+n] {
		n++
	}
	return n
}

// parseLazy parses data[start:end] into c.items with lazy matching: a match
// is taken unless the next position starts a longer one.
func (c *Compressor) parseLazy(start, end int, reps [3]uint32) [3]uint32 {
	data := c.data
	i := start
	c.mf.skipTo(i)
	for i < end {
		length, rep, offset := c.bestMatch(i, end, reps)
		if length < minMatch {
			c.items = append(c.items, literalItem(data[i]))
			i++
			continue
		}
		if length < 64 && i+1 < end {
			nl, _, _ := c.bestMatch(i+1, end, reps)
			if nl > length+1 || (nl > length && rep < 0) {
				c.items = append(c.items, literalItem(data[i]))
				i++
				continue
			}
		}
		c.items = append(c.items, matchItem(length, rep, offset))
		reps = updateReps(reps, rep, offset)
		i += length
	}
	return reps
}

// updateReps applies a match's offset to the repeated offsets the way the
// decoder does.
func updateReps(reps [3]uint32, rep int, offset uint32) [3]uint32 {
	switch rep {
	case 0:
	case 1:
		reps[0], reps[1] = reps[1], reps[0]
	case 2:
		reps[0], reps[2] = reps[2], reps[0]
	default:
		reps = [3]uint32{offset, reps[0], reps[1]}
	}
	return reps
}

// bestMatch finds a good match at i: the longest repeated-offset match, or
// a longer match from the hash chains. rep is -1 for an explicit offset.
func (c *Compressor) bestMatch(i, end int, reps [3]uint32) (length, rep int, offset uint32) {
	limit := min(maxMatch, end-i)
	if limit < minMatch {
		return 0, -1, 0
	}
	for r, off := range reps {
		if int(off) > i {
			continue
		}
		if l := matchLen(c.data, i, i-int(off), limit); l > length {
			length, rep, offset = l, r, off
		}
	}
	c.mf.skipTo(i)
	ml, moff := c.mf.longest(i, limit, 32)
	// An explicit offset costs many more bits than a repeated one.
	if ml >= 3 && ml > length+1 {
		return ml, -1, uint32(moff)
	}
	if length < minMatch {
		return 0, -1, 0
	}
	return length, rep, offset
}
