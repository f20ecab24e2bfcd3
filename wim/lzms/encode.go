package lzms

import (
	"encoding/binary"
	"sync"
)

// bitWriter produces the backward stream: bits appended most significant
// first, each 16 of them one unit, stored from the end of out downwards.
type bitWriter struct {
	out  []byte
	pos  int // units are written at out[pos-2:pos]
	buf  uint64
	n    uint
	full bool // ran into the forward stream
}

func (bw *bitWriter) init(out []byte) {
	*bw = bitWriter{out: out, pos: len(out) &^ 1}
}

// write appends the low k bits of v (k <= 32).
func (bw *bitWriter) write(v uint32, k uint) {
	bw.buf = bw.buf<<k | uint64(v)&(1<<k-1)
	bw.n += k
	for bw.n >= 16 {
		bw.n -= 16
		bw.put(uint16(bw.buf >> bw.n))
	}
}

func (bw *bitWriter) put(u uint16) {
	if bw.pos < 2 {
		bw.full = true
		return
	}
	bw.pos -= 2
	binary.LittleEndian.PutUint16(bw.out[bw.pos:], u)
}

// flush pads the last unit with zero bits.
func (bw *bitWriter) flush() {
	if bw.n > 0 {
		bw.put(uint16(bw.buf << (16 - bw.n)))
		bw.n = 0
	}
}

// rangeEncoder produces the forward stream (format description, 9.3).
type rangeEncoder struct {
	out      []byte
	pos      int // bytes written
	limit    int // the forward stream must stay below this byte offset
	low      uint64
	rng      uint32
	cache    uint16
	pending  int
	first    bool
	overflow bool
}

func (re *rangeEncoder) init(out []byte) {
	*re = rangeEncoder{out: out, limit: len(out), rng: 0xffffffff, pending: 1, first: true}
}

func (re *rangeEncoder) emit(u uint16) {
	if re.first {
		re.first = false
		return
	}
	if re.pos+2 > re.limit {
		re.overflow = true
		return
	}
	binary.LittleEndian.PutUint16(re.out[re.pos:], u)
	re.pos += 2
}

func (re *rangeEncoder) shiftLow() {
	if re.low < 0xffff0000 || re.low >= 1<<32 {
		carry := uint16(re.low >> 32)
		re.emit(re.cache + carry)
		for ; re.pending > 1; re.pending-- {
			re.emit(0xffff + carry)
		}
		re.pending = 0
		re.cache = uint16(re.low >> 16)
	}
	re.pending++
	re.low = (re.low & 0xffff) << 16
}

func (re *rangeEncoder) encode(bit, p uint32) {
	if re.rng <= 0xffff {
		re.rng <<= 16
		re.shiftLow()
	}
	bound := (re.rng >> probBits) * p
	if bit == 0 {
		re.rng = bound
	} else {
		re.low += uint64(bound)
		re.rng -= bound
	}
}

func (re *rangeEncoder) flush() {
	for range 4 {
		re.shiftLow()
	}
}

func (c *decisionClass) encode(re *rangeEncoder, bit uint32) {
	e := &c.entries[c.ctx]
	re.encode(bit, e.prob())
	e.update(bit)
	c.ctx = (c.ctx<<1 | bit) & c.mask
}

// canonicalCodes assigns codewords from lengths: shorter codewords first,
// equal lengths in increasing symbol order.
func canonicalCodes(lens []uint8, codes []uint16) {
	var count [maxCodeLen + 1]uint16
	for _, l := range lens {
		count[l]++
	}
	var next [maxCodeLen + 1]uint16
	for l := 2; l <= maxCodeLen; l++ {
		next[l] = (next[l-1] + count[l-1]) << 1
	}
	for s, l := range lens {
		codes[s] = next[l]
		next[l]++
	}
}

// huffEncoder writes symbols of one adaptive code.
type huffEncoder struct {
	adaptiveCode
	codes [maxOffsetSlots]uint16
}

func (e *huffEncoder) reset(n, period int) {
	e.adaptiveCode.reset(n, period)
	canonicalCodes(e.lens[:n], e.codes[:n])
}

// encode writes sym and updates the code.
func (e *huffEncoder) encode(bw *bitWriter, sym int) {
	bw.write(uint32(e.codes[sym]), uint(e.lens[sym]))
	if e.count(sym) {
		canonicalCodes(e.lens[:e.n], e.codes[:e.n])
	}
}

// lengthSlot returns the slot of a length l >= 1.
func lengthSlot(l uint32) int {
	if l < uint32(len(lengthSlotSmall)) {
		return int(lengthSlotSmall[l])
	}
	s := numLengthSlots - 1
	for lengthBase[s] > l {
		s--
	}
	return s
}

// offsetSlotSmall maps offsets below 1<<16 to their slot; offsetSlotBig
// maps offset>>11 to the slot of the bucket's first offset for offsets up
// to MaxChunkSize (every slot from 0xE4A5 up spans at least 1<<11 values,
// so the answer is that slot or the next).
var (
	offsetSlotSmall [1 << 16]uint16
	offsetSlotBig   [MaxChunkSize>>11 + 1]uint16
)

// offsetSlotTablesOnce fills the tables the first time a compressor is
// made: only the encoder uses them, and building them at package init cost
// every reseal process (most never compress LZMS) about 1.5 ms at start.
var offsetSlotTablesOnce sync.Once

// initOffsetSlotTables runs once, from NewCompressorLevel, after the base
// tables (built by lzms.go's init).
func initOffsetSlotTables() {
	s := 0
	for v := 1; v < len(offsetSlotSmall); v++ {
		for offsetBase[s+1] <= uint32(v) {
			s++
		}
		offsetSlotSmall[v] = uint16(s)
	}
	for b := range offsetSlotBig {
		offsetSlotBig[b] = uint16(offsetSlotSearch(uint32(b) << 11))
	}
}

// offsetSlot returns the slot of an offset v >= 1.
func offsetSlot(v uint32) int {
	if v < 1<<16 {
		return int(offsetSlotSmall[v])
	}
	if b := v >> 11; b < uint32(len(offsetSlotBig)) {
		s := int(offsetSlotBig[b])
		if offsetBase[s+1] <= v {
			s++
		}
		return s
	}
	return offsetSlotSearch(v)
}
