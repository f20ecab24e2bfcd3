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
	br.refill()
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

// decode returns one bit whose probability of being 0 is p/64.
func (rd *rangeDecoder) decode(p uint32) uint32 {
	if rd.rng <= 0xffff {
		rd.rng <<= 16
		var u uint32
		if rd.next+2 <= len(rd.src) {
			u = uint32(binary.LittleEndian.Uint16(rd.src[rd.next:]))
		}
		rd.next += 2
		rd.code = rd.code<<16 | u
	}
	bound := (rd.rng >> probBits) * p
	if rd.code < bound {
		rd.rng = bound
		return 0
	}
	rd.code -= bound
	rd.rng -= bound
	return 1
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

func (c *decisionClass) decode(rd *rangeDecoder) uint32 {
	e := &c.entries[c.ctx]
	bit := rd.decode(e.prob())
	e.update(bit)
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
