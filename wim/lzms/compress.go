package lzms

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
)

// Compression levels. Every level parses near-optimally; they differ in
// how hard they search for LZ and delta matches (figures in
// docs/codec-lzms.md).
const (
	// LevelFast: shallow match search, short "nice" matches.
	LevelFast = 1
	// LevelDefault: close to wimlib's default LZMS size.
	LevelDefault = 2
	// LevelBest: deeper search, every delta power up to 128-byte spans.
	LevelBest = 3
)

// Compressor compresses WIM chunks with LZMS. It is not safe for concurrent
// use; make one per goroutine. Its memory is MemoryFor(the largest chunk
// compressed): the filtered copy of the chunk, the binary trees of the
// match finder, and the hash heads.
type Compressor struct {
	maxChunk  int
	depth     int // match finder nodes visited per position
	niceLen   int // a match this long ends the search and is taken
	data      []byte
	head      []int32 // per hash of three bytes: the newest position
	hashShift uint    // 32 - log2(len(head))
	son       []int32 // per position in the window: the two subtrees of its binary tree node
	window    int     // positions the match finder remembers (a power of two)
	// deltaPowers is how many delta powers (spans 1, 2, 4, ...) are searched.
	deltaPowers int
	deltaBelow  int       // delta matches are searched where the longest LZ match is shorter
	longInsert  int       // positions of a taken nice-length match put in the match finder
	deltaHead   [][]int32 // per power: last position with a given delta hash
	nodes       []optNode
	prices      *priceTable
	matches     []lzMatch
	path        []int32
	longOff     uint32
	x86         x86State
	st          encoderState
}

const (
	// maxWindow bounds the match finder's memory: 8 bytes a position.
	// A 16 MiB window (128 MiB of trees for a 64 MiB chunk) made 32 MB of
	// Go tool binaries 5.7% bigger (docs/codec-lzms.md), so the whole
	// chunk is kept; the bound is on how many compressors run at once
	// (wim's solid writer).
	maxWindow = MaxChunkSize
	// bigChunk: chunks larger than this (solid ones: 64 MiB by default)
	// get a shallower search at LevelDefault.
	bigChunk      = 4 << 20
	minMatch      = 3
	deltaHashBits = 14
	minDeltaMatch = 4
)

// MemoryFor is about how many bytes a Compressor made for chunks of n bytes
// holds once it has compressed one that big: 9n (580 MiB for a 64 MiB solid
// chunk) plus its hash tables.
func MemoryFor(n int) int64 {
	w := min(1<<bits.Len(uint(max(n, 1)-1)), maxWindow)
	heads := 1 << min(max(bits.Len(uint(n))-4, 16), 20)
	return int64(n) + 8*int64(w) + 4*int64(heads) + 6<<16
}

// NewCompressor returns a compressor at LevelDefault for chunks of at most
// maxChunk bytes (at most MaxChunkSize).
func NewCompressor(maxChunk int) (*Compressor, error) {
	return NewCompressorLevel(maxChunk, LevelDefault)
}

// NewCompressorLevel is NewCompressor with a compression level (LevelFast
// LevelDefault or LevelBest).
func NewCompressorLevel(maxChunk, level int) (*Compressor, error) {
	if maxChunk <= 0 || maxChunk > MaxChunkSize {
		return nil, fmt.Errorf("lzms: chunk size %d out of range 1..%d", maxChunk, MaxChunkSize)
	}
	offsetSlotTablesOnce.Do(initOffsetSlotTables)
	// Fast and Default neither put the positions inside a taken
	// nice-length match into the match finder (that data was seen just
	// before) nor look for delta matches where an LZ match of 12 bytes was
	// found: 27% less CPU for 0.16% more bytes (docs/codec-lzms.md).
	c := &Compressor{maxChunk: maxChunk, deltaBelow: 12, longInsert: 0, window: maxWindow}
	switch level {
	case LevelFast:
		c.depth, c.niceLen, c.deltaPowers = 8, 32, 6
	case LevelDefault:
		c.depth, c.niceLen, c.deltaPowers = 32, 96, 6
		if maxChunk > bigChunk {
			// Solid-sized chunks: every tree step is a cache miss, and
			// half the depth costs about 1.2% in size for about a
			// quarter less CPU (docs/codec-lzms.md).
			c.depth = 16
		}
	case LevelBest:
		c.depth, c.niceLen, c.deltaPowers = 48, 128, numDeltaPowers
		c.deltaBelow, c.longInsert = 32, math.MaxInt
	default:
		return nil, fmt.Errorf("lzms: compression level %d out of range %d..%d", level, LevelFast, LevelBest)
	}
	return c, nil
}

// Compress writes the compressed form of src into dst and returns its
// length, or 0 when it does not fit in len(dst), is not smaller than src, or
// src is shorter than MinCompressSize (the caller then stores the chunk
// raw: in a WIM a chunk whose stored size equals its size is raw). len(src)
// must not exceed the compressor's chunk size.
func (c *Compressor) Compress(dst, src []byte) int {
	n := c.compress(dst, src)
	if n >= len(src) {
		return 0
	}
	return n
}

func (c *Compressor) compress(dst, src []byte) int {
	n := len(src)
	if n < MinCompressSize || n > c.maxChunk || len(dst) < 8 {
		return 0
	}
	if cap(c.data) < n {
		c.data = make([]byte, n)
		adviseHugePages(c.data)
	}
	if w := min(1<<bits.Len(uint(n-1)), c.window); len(c.son) < 2*w {
		c.son = make([]int32, 2*w)
		adviseHugePages(c.son)
	}
	if c.head == nil {
		// Larger chunks get more hash buckets, so that each tree stays
		// shallow: 2^16 up to 1 MiB chunks, 2^20 from 16 MiB.
		c.hashShift = uint(32 - min(max(bits.Len(uint(c.maxChunk))-4, 16), 20))
		c.head = make([]int32, 1<<(32-c.hashShift))
		adviseHugePages(c.head)
		c.deltaHead = make([][]int32, c.deltaPowers)
		for p := range c.deltaHead {
			c.deltaHead[p] = make([]int32, 1<<deltaHashBits)
		}
	}
	data := c.data[:n]
	copy(data, src)
	x86Filter(data, &c.x86, true)

	limit := len(dst) &^ 1
	st := &c.st
	// Both streams are written into dst, the forward one from its start and
	// the backward one from its end; if they meet, the block does not fit
	// (checked below) and what they overwrote does not matter.
	st.init(dst[:limit], dst[:limit], n)
	c.parseOptimal(data)
	st.re.flush()
	st.bw.flush()
	if st.re.overflow || st.bw.full {
		return 0
	}
	fwd := st.re.pos
	bwd := limit - st.bw.pos
	if fwd+bwd > limit {
		return 0
	}
	copy(dst[fwd:], dst[st.bw.pos:limit])
	return fwd + bwd
}

// encoderState mirrors every piece of adaptive state the decoder keeps.
type encoderState struct {
	re        rangeEncoder
	bw        bitWriter
	classes   [numClasses]decisionClass
	literal   huffEncoder
	offset    huffEncoder
	length    huffEncoder
	dOffset   huffEncoder
	dPower    huffEncoder
	lzq       [numRepeats + 1]uint32
	lzPending uint32
	dq        [numRepeats + 1]deltaItem
	dPending  deltaItem
	hasDPend  bool
}

func (st *encoderState) init(fwd, back []byte, usize int) {
	st.re.init(fwd)
	st.bw.init(back)
	for i := range st.classes {
		st.classes[i].reset(classCtxBits[i])
	}
	nslots := numOffsetSlots(usize)
	st.literal.reset(numLiterals, literalPeriod)
	st.offset.reset(nslots, offsetPeriod)
	st.length.reset(numLengthSlots, lengthPeriod)
	st.dOffset.reset(nslots, offsetPeriod)
	st.dPower.reset(numDeltaPowers, powerPeriod)
	st.lzq = [numRepeats + 1]uint32{1, 2, 3, 4}
	st.lzPending = 0
	st.dq = [numRepeats + 1]deltaItem{{0, 1}, {0, 2}, {0, 3}, {0, 4}}
	st.hasDPend = false
}

func (st *encoderState) endItem(lzNew uint32, dNew deltaItem, hasDNew bool) {
	if st.lzPending != 0 {
		copy(st.lzq[1:], st.lzq[:numRepeats])
		st.lzq[0] = st.lzPending
	}
	st.lzPending = lzNew
	if st.hasDPend {
		copy(st.dq[1:], st.dq[:numRepeats])
		st.dq[0] = st.dPending
	}
	st.dPending, st.hasDPend = dNew, hasDNew
}

func (st *encoderState) encodeLiteral(b byte) {
	st.classes[classMain].encode(&st.re, 0)
	st.literal.encode(&st.bw, int(b))
	st.endItem(0, deltaItem{}, false)
}

func (st *encoderState) encodeLength(l uint32) {
	s := lengthSlot(l)
	st.length.encode(&st.bw, s)
	st.bw.write(l-lengthBase[s], uint(lengthExtra[s]))
}

// encodeLZ codes an LZ match: as a repeat when rep >= 0 (lzq[rep] must be
// off), else with an explicit offset.
func (st *encoderState) encodeLZ(off, length uint32, rep int) {
	cl := &st.classes
	cl[classMain].encode(&st.re, 1)
	cl[classMatch].encode(&st.re, 0)
	if rep < 0 {
		cl[classLZ].encode(&st.re, 0)
		s := offsetSlot(off)
		st.offset.encode(&st.bw, s)
		st.bw.write(off-offsetBase[s], uint(offsetExtra[s]))
	} else {
		cl[classLZ].encode(&st.re, 1)
		if rep == 0 {
			cl[classLZRep0].encode(&st.re, 0)
		} else {
			cl[classLZRep0].encode(&st.re, 1)
			cl[classLZRep1].encode(&st.re, uint32(rep-1))
		}
		copy(st.lzq[rep:], st.lzq[rep+1:])
	}
	st.encodeLength(length)
	st.endItem(off, deltaItem{}, false)
}

// encodeDelta codes a delta match, as a repeat when rep >= 0.
func (st *encoderState) encodeDelta(item deltaItem, length uint32, rep int) {
	cl := &st.classes
	cl[classMain].encode(&st.re, 1)
	cl[classMatch].encode(&st.re, 1)
	if rep < 0 {
		cl[classDelta].encode(&st.re, 0)
		st.dPower.encode(&st.bw, int(item.power))
		s := offsetSlot(item.raw)
		st.dOffset.encode(&st.bw, s)
		st.bw.write(item.raw-offsetBase[s], uint(offsetExtra[s]))
	} else {
		cl[classDelta].encode(&st.re, 1)
		if rep == 0 {
			cl[classDeltaRep0].encode(&st.re, 0)
		} else {
			cl[classDeltaRep0].encode(&st.re, 1)
			cl[classDeltaRep1].encode(&st.re, uint32(rep-1))
		}
		copy(st.dq[rep:], st.dq[rep+1:])
	}
	st.encodeLength(length)
	st.endItem(0, item, true)
}

// bitCost[p] is the cost in 1/16 bit of coding a 0 with probability p/64.
var bitCost [probDenominator]uint32

func init() {
	for p := 1; p < probDenominator; p++ {
		bitCost[p] = uint32(math.Round(-math.Log2(float64(p)/probDenominator) * 16))
	}
}

// decisionCost is the cost in 1/16 bit of coding bit in class c now.
func (st *encoderState) decisionCost(c int, bit uint32) uint32 {
	cl := &st.classes[c]
	p := cl.entries[cl.ctx].prob()
	if bit != 0 {
		p = probDenominator - p
	}
	return bitCost[p]
}

func hash3(b []byte, i int, shift uint) uint32 {
	v := uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16
	return (v * 0x9E3779B1) >> shift
}

func matchLen(data []byte, a, b, limit int) int {
	n := 0
	for n+8 <= limit {
		x := binary.LittleEndian.Uint64(data[a+n:]) ^ binary.LittleEndian.Uint64(data[b+n:])
		if x != 0 {
			return n + bits.TrailingZeros64(x)/8
		}
		n += 8
	}
	for n < limit && data[a+n] == data[b+n] {
		n++
	}
	return n
}

// insert adds position i to the match finder and the delta tables.
func (c *Compressor) insert(data []byte, i int) {
	if i+minMatch > len(data) {
		return
	}
	if c.deltaPowers > 0 {
		c.insertDelta(data, i)
	}
	c.insertLZ(data, i)
}

// insertLZ adds position i to the match finder only.
func (c *Compressor) insertLZ(data []byte, i int) {
	if i+minMatch > len(data) {
		return
	}
	c.btFind(data, i, nil, false)
}

// deltaHash hashes the three byte differences at span 1<<power starting at
// i, and i's alignment within the span, so that a position found by it lies
// a multiple of the span away.
func deltaHash(data []byte, i int, power uint) uint32 {
	span := 1 << power
	d0 := data[i] - data[i-span]
	d1 := data[i+1] - data[i+1-span]
	d2 := data[i+2] - data[i+2-span]
	v := uint32(d0) | uint32(d1)<<8 | uint32(d2)<<16 | uint32(i&(span-1))<<24
	return (v * 0x9E3779B1) >> (32 - deltaHashBits)
}

// deltaLen is how many bytes from i have the same differences at span as
// those off bytes earlier.
func deltaLen(data []byte, i, off, span, limit int) int {
	n := 0
	for n < limit {
		q := i + n
		if data[q]-data[q-span] != data[q-off]-data[q-off-span] {
			break
		}
		n++
	}
	return n
}

// insertDelta records position i in the delta tables.
func (c *Compressor) insertDelta(data []byte, i int) {
	if i+3 > len(data) {
		return
	}
	for p := 0; p < c.deltaPowers; p++ {
		if i < 1<<p {
			break
		}
		c.deltaHead[p][deltaHash(data, i, uint(p))] = int32(i)
	}
}
