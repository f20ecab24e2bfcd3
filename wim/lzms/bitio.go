package lzms

import "encoding/binary"

// bitReader reads the backward stream: 16-bit little-endian units from the
// end of the block towards its start, each from bit 15 down. Past the start
// it supplies zero bits, as the reference decoder does; the decoded data is
// validated by the match checks and, in a WIM, by the blob's SHA-1.
type bitReader struct {
	src []byte
	pos int    // the next unit is src[pos-2:pos]
	buf uint64 // bits, most significant first
	n   uint   // valid bits in buf
	// past counts the zero units supplied beyond the start of the block.
	past int
}

func (br *bitReader) init(src []byte) {
	*br = bitReader{src: src, pos: len(src)}
	br.refill()
}

// refill makes at least 49 bits available.
func (br *bitReader) refill() {
	if br.n <= 48 {
		br.fill()
	}
}

// need makes at least k <= 49 bits available: fill only when fewer are
// left, so that one fill serves several codewords.
func (br *bitReader) need(k uint) {
	if br.n < k {
		br.fill()
	}
}

func (br *bitReader) fill() {
	if br.pos >= 8 {
		// The next four units at once, most significant first: as many
		// whole ones as fit are taken; the bits of a part taken below
		// them are the next unit's own, so ORing it in again later is
		// harmless.
		v := binary.LittleEndian.Uint64(br.src[br.pos-8 : br.pos])
		br.buf |= v >> br.n
		k := (64 - br.n) >> 4
		br.n += k << 4
		br.pos -= int(k) << 1
		return
	}
	for br.n <= 48 {
		var u uint64
		if br.pos >= 2 {
			u = uint64(binary.LittleEndian.Uint16(br.src[br.pos-2:]))
			br.pos -= 2
		} else {
			br.past++
		}
		br.buf |= u << (48 - br.n)
		br.n += 16
	}
}

// unitsConsumed is how many units the bits consumed so far occupy.
func (br *bitReader) unitsConsumed() int {
	bits := (len(br.src)-br.pos)*8 + br.past*16 - int(br.n)
	return (bits + 15) / 16
}

func (br *bitReader) consume(k uint) {
	br.buf <<= k
	br.n -= k
}

// bits reads a raw field of k <= 30 bits, most significant bit first.
func (br *bitReader) bits(k uint) uint32 {
	if k == 0 {
		return 0
	}
	br.need(k)
	v := uint32(br.buf >> (64 - k))
	br.consume(k)
	return v
}

// rangeDecoder reads the forward stream of binary decisions.
type rangeDecoder struct {
	src  []byte
	next int // byte offset of the next unit
	rng  uint32
	code uint32
}

func (rd *rangeDecoder) init(src []byte) {
	rd.src = src
	rd.rng = 0xffffffff
	rd.code = uint32(binary.LittleEndian.Uint16(src))<<16 | uint32(binary.LittleEndian.Uint16(src[2:]))
	rd.next = 4
}

// normalize reads the next unit into the range decoder, as decode does
// when the range is down to 16 bits.
func (rd *rangeDecoder) normalize() {
	rd.rng <<= 16
	var u uint32
	if rd.next+2 <= len(rd.src) {
		u = uint32(binary.LittleEndian.Uint16(rd.src[rd.next:]))
	}
	rd.next += 2
	rd.code = rd.code<<16 | u
}

// probEntry is an adaptive probability: the last 64 bits coded with it and
// how many of them are 0.
type probEntry struct {
	hist  uint64
	zeros uint32
}

// prob is the probability of a 0, in 64ths, clamped to 1..63.
func (e *probEntry) prob() uint32 {
	p := e.zeros
	if p == 0 {
		return 1
	}
	if p == probDenominator {
		return probDenominator - 1
	}
	return p
}

// probOfZeros is prob() as a table, for the decoder's hot loop (indexes
// above probDenominator are never used).
var probOfZeros = func() (t [128]uint8) {
	for z := range probDenominator + 1 {
		t[z] = uint8((&probEntry{zeros: uint32(z)}).prob())
	}
	return t
}()

func (e *probEntry) update(bit uint32) {
	e.zeros += uint32(e.hist>>63) - bit
	e.hist = e.hist<<1 | uint64(bit)
}

// decisionClass is one of the eight kinds of binary decision: a table of
// entries selected by the class's own last few bits.
type decisionClass struct {
	ctx     uint32
	mask    uint32
	entries [64]probEntry
}

func (c *decisionClass) reset(ctxBits uint) {
	c.ctx = 0
	c.mask = 1<<ctxBits - 1
	for i := range c.entries[:1<<ctxBits] {
		c.entries[i] = probEntry{hist: initialHist, zeros: initialZeros}
	}
}

// decode is the decoder's hot path: small enough to be inlined, the range
// decoder's renormalisation apart.
func (c *decisionClass) decode(rd *rangeDecoder) uint32 {
	if rd.rng <= 0xffff {
		rd.normalize()
	}
	e := &c.entries[c.ctx&63]
	bound := (rd.rng >> probBits) * uint32(probOfZeros[e.zeros&127])
	bit := uint32(0)
	if rd.code < bound {
		rd.rng = bound
	} else {
		rd.code -= bound
		rd.rng -= bound
		bit = 1
	}
	e.zeros += uint32(e.hist>>63) - bit
	e.hist = e.hist<<1 | uint64(bit)
	c.ctx = (c.ctx<<1 | bit) & c.mask
	return bit
}

// The decision classes, in the order of the format description's table.
const (
	classMain = iota
	classMatch
	classLZ
	classLZRep0
	classLZRep1
	classDelta
	classDeltaRep0
	classDeltaRep1
	numClasses
)

var classCtxBits = [numClasses]uint{4, 5, 6, 6, 6, 6, 6, 6}
