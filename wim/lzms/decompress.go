package lzms

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
			src := pos - int(off)
			if int(off) >= int(length) {
				copy(dst[pos:pos+int(length)], dst[src:])
			} else {
				for i := 0; i < int(length); i++ {
					dst[pos+i] = dst[src+i]
				}
			}
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
			o, sp := int(off), int(span)
			for q := pos; q < pos+int(length); q++ {
				dst[q] = dst[q-o] + dst[q-sp] - dst[q-o-sp]
			}
			pos += int(length)
			dNew, hasDNew = item, true
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

func (d *Decompressor) decodeLength() uint32 {
	s := d.length.decode(&d.br)
	return lengthBase[s] + d.br.bits(uint(lengthExtra[s]))
}
