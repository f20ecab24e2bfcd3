package lzms

import "encoding/binary"

// Decompressor decodes LZMS blocks. The zero value is ready to use; it keeps
// its tables between calls so that decoding allocates nothing.
type Decompressor struct {
	rd      rangeDecoder
	br      bitReader
	classes [numClasses]decisionClass
	literal huffDecoder
	offset  huffDecoder
	length  huffDecoder
	dOffset huffDecoder
	dPower  huffDecoder
	x86     x86State
	ops     [matchBatch]matchOp
	touched byte // keeps copyMatches' touching loads from being optimised away
}

// NewDecompressor returns a reusable decoder (not safe for concurrent use).
func NewDecompressor() *Decompressor { return new(Decompressor) }

// Decompress decodes one block.
func Decompress(dst, src []byte) error {
	return NewDecompressor().Decompress(dst, src)
}

// maxDecodeSize bounds the blocks Decompress accepts: 1 GiB, the largest
// chunk size any WIM writer is known to use.
const maxDecodeSize = 1 << 30

// deltaItem is a delta match source: a power (span 1<<power) and a raw
// offset (distance raw<<power).
type deltaItem struct {
	power uint32
	raw   uint32
}

// Decompress decodes src, one LZMS block, into exactly len(dst) bytes. It
// returns an error wrapping ErrCorrupt when src is malformed.
//
// Decoding an item needs nothing of the output, only the two streams: the
// matches are decoded a batch at a time, their sources touched together so
// that the cache misses of far offsets (up to 64 MiB back in a solid chunk)
// overlap instead of following one another, and only then copied, in
// order. Literals go to dst at once: no match of the batch writes where a
// literal is.
func (d *Decompressor) Decompress(dst, src []byte) error {
	usize := len(dst)
	if usize == 0 {
		return nil
	}
	if len(src) < 4 || len(src)%2 != 0 {
		return corruptf("compressed size %d is odd or below 4 bytes", len(src))
	}
	if usize > maxDecodeSize {
		return corruptf("block of %d bytes is larger than %d", usize, maxDecodeSize)
	}
	// A solid chunk's matches reach up to 64 MiB back: with 4 KiB pages
	// most far ones also miss the TLB, and the buffer costs a fault per
	// page when first written (docs/codec-lzms.md).
	adviseHugePages(dst)
	d.rd.init(src)
	d.br.init(src)
	for i := range d.classes {
		d.classes[i].reset(classCtxBits[i])
	}
	nslots := numOffsetSlots(usize)
	d.literal.reset(numLiterals, literalPeriod)
	d.offset.reset(nslots, offsetPeriod)
	d.length.reset(numLengthSlots, lengthPeriod)
	d.dOffset.reset(nslots, offsetPeriod)
	d.dPower.reset(numDeltaPowers, powerPeriod)

	lzq := [numRepeats + 1]uint32{1, 2, 3, 4}
	dq := [numRepeats + 1]deltaItem{{0, 1}, {0, 2}, {0, 3}, {0, 4}}
	var lzPending uint32 // 0: none
	var dPending deltaItem
	hasDPending := false

	rd, br, cl := &d.rd, &d.br, &d.classes
	ops := d.ops[:0]
	pos := 0
	for pos < usize {
		// Either stream far past its end means the data ran out: stop now
		// rather than decode zeros into a large block (the exact check is
		// after the loop).
		if br.past > 4 || rd.next > len(src)+8 {
			return corruptf("compressed data ends at output position %d of %d", pos, usize)
		}
		var lzNew uint32
		var dNew deltaItem
		hasDNew := false
		if cl[classMain].decode(rd) == 0 {
			dst[pos] = byte(d.literal.decode(br))
			pos++
		} else if cl[classMatch].decode(rd) == 0 {
			var off uint32
			if cl[classLZ].decode(rd) == 0 {
				s := d.offset.decode(br)
				off = offsetBase[s] + br.bits(uint(offsetExtra[s]))
			} else {
				k := 0
				if cl[classLZRep0].decode(rd) != 0 {
					k = 1 + int(cl[classLZRep1].decode(rd))
				}
				off = lzq[k]
				copy(lzq[k:], lzq[k+1:])
			}
			length := d.decodeLength()
			if uint64(off) > uint64(pos) || uint64(length) > uint64(usize-pos) {
				return corruptf("LZ match at %d: offset %d, length %d in a block of %d bytes", pos, off, length, usize)
			}
			ops = append(ops, matchOp{pos: uint32(pos), off: off, length: length})
			pos += int(length)
			lzNew = off
		} else {
			var item deltaItem
			if cl[classDelta].decode(rd) == 0 {
				item.power = uint32(d.dPower.decode(br))
				s := d.dOffset.decode(br)
				item.raw = offsetBase[s] + br.bits(uint(offsetExtra[s]))
			} else {
				k := 0
				if cl[classDeltaRep0].decode(rd) != 0 {
					k = 1 + int(cl[classDeltaRep1].decode(rd))
				}
				item = dq[k]
				copy(dq[k:], dq[k+1:])
			}
			length := d.decodeLength()
			span := uint64(1) << item.power
			off := uint64(item.raw) << item.power
			if off>>32 != 0 || off+span > uint64(pos) || uint64(length) > uint64(usize-pos) {
				return corruptf("delta match at %d: power %d, raw offset %d, length %d in a block of %d bytes", pos, item.power, item.raw, length, usize)
			}
			ops = append(ops, matchOp{pos: uint32(pos), off: uint32(off), length: length, span: uint32(span)})
			pos += int(length)
			dNew, hasDNew = item, true
		}
		if len(ops) == len(d.ops) {
			d.copyMatches(dst, ops)
			ops = ops[:0]
		}
		// Delayed insertion: the source of this item joins its queue only
		// at the end of the next one.
		if lzPending != 0 {
			copy(lzq[1:], lzq[:numRepeats])
			lzq[0] = lzPending
		}
		lzPending = lzNew
		if hasDPending {
			copy(dq[1:], dq[:numRepeats])
			dq[0] = dPending
		}
		dPending, hasDPending = dNew, hasDNew
	}
	d.copyMatches(dst, ops)
	// The two streams share the buffer and must not cross. The reference
	// decoder reads zeros past either end instead; streams written as the
	// format describes never need to, wimlib's included (docs/codec-lzms.md),
	// and refusing them catches truncated or overlong data before the
	// container's checksum would.
	if fwd, bwd := d.rd.next/2, d.br.unitsConsumed(); fwd+bwd > len(src)/2 {
		return corruptf("the forward (%d units) and backward (%d units) streams overlap in a block of %d units", fwd, bwd, len(src)/2)
	}
	x86Filter(dst, &d.x86, false)
	return nil
}

// matchOp is a decoded match whose bytes are not written yet: an LZ match
// (span 0) copies length bytes from off back; a delta match adds the
// difference of the bytes span apart, off back.
type matchOp struct {
	pos, off, length, span uint32
}

// matchBatch is how many matches are decoded before their bytes are
// written: enough for the misses on their sources to overlap.
const matchBatch = 32

// copyMatches writes the bytes of ops, which were checked against dst
// when decoded (each source lies before its position, each match ends
// within dst), in order.
func (d *Decompressor) copyMatches(dst []byte, ops []matchOp) {
	// Touch every source first: the loads are independent, so their cache
	// misses are waited for together.
	var touch byte
	for _, m := range ops {
		touch += dst[m.pos-m.off]
	}
	d.touched += touch
	for _, m := range ops {
		pos, off, length := int(m.pos), int(m.off), int(m.length)
		if m.span != 0 {
			o, sp := off, int(m.span)
			out := dst[pos : pos+length]
			for q := range out {
				p := pos + q
				out[q] = dst[p-o] + dst[p-sp] - dst[p-o-sp]
			}
			continue
		}
		copyMatch(dst, pos, off, length)
	}
}

// copyMatch copies length bytes from pos-off to pos, front to back (the
// source may overlap what is being written: a run).
func copyMatch(dst []byte, pos, off, length int) {
	src := pos - off
	switch {
	case off >= length:
		copy(dst[pos:pos+length], dst[src:src+length])
	case off >= 8:
		// Overlapping by at least 8: whole words, each reading bytes
		// already written, then the rest.
		end := pos + length
		for ; pos+8 <= end; pos, src = pos+8, src+8 {
			binary.LittleEndian.PutUint64(dst[pos:], binary.LittleEndian.Uint64(dst[src:]))
		}
		for ; pos < end; pos, src = pos+1, src+1 {
			dst[pos] = dst[src]
		}
	default:
		out := dst[pos : pos+length]
		in := dst[src : src+length]
		for i := range out {
			out[i] = in[i]
		}
	}
}

func (d *Decompressor) decodeLength() uint32 {
	s := d.length.decode(&d.br)
	return lengthBase[s] + d.br.bits(uint(lengthExtra[s]))
}
