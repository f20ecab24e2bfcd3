package lzx

import "encoding/binary"

// bitReader reads LZX's bitstream: 16-bit little-endian words whose bits are
// taken most significant first. Past the end of the input it supplies zero
// words, and overrun reports whether any of them was actually consumed.
type bitReader struct {
	src   []byte
	pos   int    // next byte of src to load (may pass len(src) by the zero words supplied)
	buf   uint64 // bits, left-aligned
	count uint   // valid bits in buf
}

func (r *bitReader) init(src []byte, pos int) {
	r.src = src
	r.pos = pos
	r.buf = 0
	r.count = 0
}

// refill makes at least 48 bits available.
func (r *bitReader) refill() {
	r.buf, r.count, r.pos = refillWords(r.src, r.pos, r.buf, r.count)
}

// refillWords adds whole 16-bit words to buf (count valid bits, left-aligned)
// until it holds more than 48 bits, reading src from pos.
func refillWords(src []byte, pos int, buf uint64, count uint) (uint64, uint, int) {
	if pos+8 <= len(src) {
		// Load four words at once and take as many as fit in buf.
		v := binary.LittleEndian.Uint64(src[pos:])
		v = v>>32 | v<<32
		v = (v>>16)&0x0000ffff0000ffff | (v&0x0000ffff0000ffff)<<16
		words := (64 - count) / 16
		n := words * 16
		return buf | v>>(64-n)<<(64-count-n), count + n, pos + int(2*words)
	}
	return refillSlow(src, pos, buf, count)
}

// refillSlow is refillWords near the end of the input, where it supplies
// zero words past the end.
func refillSlow(src []byte, pos int, buf uint64, count uint) (uint64, uint, int) {
	for count <= 48 {
		var w uint64
		if pos+1 < len(src) {
			w = uint64(binary.LittleEndian.Uint16(src[pos:]))
		} else if pos < len(src) {
			w = uint64(src[pos])
		}
		pos += 2
		buf |= w << (48 - count)
		count += 16
	}
	return buf, count, pos
}

// ensure makes at least n (<= 48) bits available.
func (r *bitReader) ensure(n uint) {
	if r.count < n {
		r.refill()
	}
}

func (r *bitReader) peek(n uint) uint32 { return uint32(r.buf >> (64 - n)) }

func (r *bitReader) consume(n uint) {
	r.buf <<= n
	r.count -= n
}

// bits reads n (<= 32) bits.
func (r *bitReader) bits(n uint) uint32 {
	if n == 0 {
		return 0
	}
	r.ensure(n)
	v := r.peek(n)
	r.consume(n)
	return v
}

// consumedBits is how many bits have been read so far from the start of src.
func (r *bitReader) consumedBits() int { return r.pos*8 - int(r.count) }

// overrun reports whether bits beyond the end of the input were read.
func (r *bitReader) overrun() bool { return r.consumedBits() > len(r.src)*8 }
