package lzms

// The decoder as it was before the batched match copies and the faster
// bit reader: kept as the reference the fuzz target and
// TestDecoderMatchesReference hold the decoder to.

import (
	"encoding/binary"
	"slices"
)

type refDecompressor struct {
	rd      refRangeDecoder
	br      refBitReader
	classes [numClasses]decisionClass
	literal refHuffDecoder
	offset  refHuffDecoder
	length  refHuffDecoder
	dOffset refHuffDecoder
	dPower  refHuffDecoder
	x86     x86State
}

// Decompress is the decoder as it was before the batched version.
func (d *refDecompressor) Decompress(dst, src []byte) error {
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
		if refClassDecode(&cl[classMain], rd) == 0 {
			dst[pos] = byte(d.literal.decode(br))
			pos++
		} else if refClassDecode(&cl[classMatch], rd) == 0 {
			var off uint32
			if refClassDecode(&cl[classLZ], rd) == 0 {
				s := d.offset.decode(br)
				off = offsetBase[s] + br.bits(uint(offsetExtra[s]))
			} else {
				k := 0
				if refClassDecode(&cl[classLZRep0], rd) != 0 {
					k = 1 + int(refClassDecode(&cl[classLZRep1], rd))
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
			if refClassDecode(&cl[classDelta], rd) == 0 {
				item.power = uint32(d.dPower.decode(br))
				s := d.dOffset.decode(br)
				item.raw = offsetBase[s] + br.bits(uint(offsetExtra[s]))
			} else {
				k := 0
				if refClassDecode(&cl[classDeltaRep0], rd) != 0 {
					k = 1 + int(refClassDecode(&cl[classDeltaRep1], rd))
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
	refX86Filter(dst, &d.x86, false)
	return nil
}

func (d *refDecompressor) decodeLength() uint32 {
	s := d.length.decode(&d.br)
	return lengthBase[s] + d.br.bits(uint(lengthExtra[s]))
}

// refBitReader reads the backward stream: 16-bit little-endian units from the
// end of the block towards its start, each from bit 15 down. Past the start
// it supplies zero bits, as the reference decoder does; the decoded data is
// validated by the match checks and, in a WIM, by the blob's SHA-1.
type refBitReader struct {
	src []byte
	pos int    // the next unit is src[pos-2:pos]
	buf uint64 // bits, most significant first
	n   uint   // valid bits in buf
	// past counts the zero units supplied beyond the start of the block.
	past int
}

func (br *refBitReader) init(src []byte) {
	*br = refBitReader{src: src, pos: len(src)}
	br.refill()
}

// refill makes at least 49 bits available.
func (br *refBitReader) refill() {
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
func (br *refBitReader) unitsConsumed() int {
	bits := (len(br.src)-br.pos)*8 + br.past*16 - int(br.n)
	return (bits + 15) / 16
}

func (br *refBitReader) consume(k uint) {
	br.buf <<= k
	br.n -= k
}

// bits reads a raw field of k <= 30 bits, most significant bit first.
func (br *refBitReader) bits(k uint) uint32 {
	if k == 0 {
		return 0
	}
	br.refill()
	v := uint32(br.buf >> (64 - k))
	br.consume(k)
	return v
}

// refRangeDecoder reads the forward stream of binary decisions.
type refRangeDecoder struct {
	src  []byte
	next int // byte offset of the next unit
	rng  uint32
	code uint32
}

func (rd *refRangeDecoder) init(src []byte) {
	rd.src = src
	rd.rng = 0xffffffff
	rd.code = uint32(binary.LittleEndian.Uint16(src))<<16 | uint32(binary.LittleEndian.Uint16(src[2:]))
	rd.next = 4
}

// decode returns one bit whose probability of being 0 is p/64.
func (rd *refRangeDecoder) decode(p uint32) uint32 {
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

func refClassDecode(c *decisionClass, rd *refRangeDecoder) uint32 {
	e := &c.entries[c.ctx]
	bit := rd.decode(e.prob())
	e.update(bit)
	c.ctx = (c.ctx<<1 | bit) & c.mask
	return bit
}

// refHuffDecoder decodes symbols of one adaptive code: a direct table for
// codewords of up to tableBits bits, a canonical search for longer ones.
type refHuffDecoder struct {
	refAdaptiveCode
	table  [tableSize]uint16 // symbol<<4 | length, or 0 for a longer codeword
	first  [maxCodeLen + 1]uint32
	counts [maxCodeLen + 1]uint32
	offset [maxCodeLen + 1]uint16
	sorted [maxOffsetSlots]uint16 // symbols by (length, symbol)
}

func (d *refHuffDecoder) reset(n, period int) {
	d.refAdaptiveCode.reset(n, period)
	d.buildTable()
}

func (d *refHuffDecoder) buildTable() {
	lens := d.lens[:d.n]
	var count [maxCodeLen + 1]uint32
	for _, l := range lens {
		count[l]++
	}
	d.counts = count
	var next [maxCodeLen + 1]uint32
	var off uint16
	for l := 1; l <= maxCodeLen; l++ {
		if l > 1 {
			next[l] = (next[l-1] + count[l-1]) << 1
		}
		d.first[l] = next[l]
		d.offset[l] = off
		off += uint16(count[l])
	}
	clear(d.table[:])
	pos := d.offset
	for s, l := range lens {
		d.sorted[pos[l]] = uint16(s)
		pos[l]++
		cw := next[l]
		next[l]++
		if int(l) <= tableBits {
			shift := tableBits - int(l)
			e := uint16(s)<<4 | uint16(l)
			t := d.table[cw<<shift : (cw+1)<<shift]
			for i := range t {
				t[i] = e
			}
		}
	}
}

// decode reads one symbol and updates the code.
func (d *refHuffDecoder) decode(br *refBitReader) int {
	br.refill()
	peek := uint32(br.buf >> (64 - maxCodeLen))
	e := d.table[peek>>(maxCodeLen-tableBits)]
	var sym int
	if e != 0 {
		br.consume(uint(e & 15))
		sym = int(e >> 4)
	} else {
		sym = d.decodeLong(br, peek)
	}
	if d.count(sym) {
		d.buildTable()
	}
	return sym
}

func (d *refHuffDecoder) decodeLong(br *refBitReader, peek uint32) int {
	for l := tableBits + 1; l <= maxCodeLen; l++ {
		c := peek >> (maxCodeLen - l)
		if c-d.first[l] < d.counts[l] {
			br.consume(uint(l))
			return int(d.sorted[uint32(d.offset[l])+c-d.first[l]])
		}
	}
	// Unreachable: the codes are complete. Consume the lot so that a broken
	// invariant cannot loop.
	br.consume(maxCodeLen)
	return 0
}

// refAdaptiveCode is the state both directions keep for one of the five
// adaptive Huffman codes: symbol frequencies and the countdown to the next
// rebuild (format description, sections 4.2 to 4.4).
type refAdaptiveCode struct {
	n         int // alphabet size
	period    int
	remaining int
	freq      [maxOffsetSlots]uint32
	lens      [maxOffsetSlots]uint8
	builder   refLengthBuilder
}

// reset starts the code of a new block: every frequency 1, code built.
func (c *refAdaptiveCode) reset(n, period int) {
	c.n, c.period, c.remaining = n, period, period
	c.builder.n = 0 // a new block: sort from scratch
	for i := range c.freq[:n] {
		c.freq[i] = 1
	}
	c.builder.build(c.freq[:n], c.lens[:n])
}

// count records one use of sym and reports whether the code was rebuilt
// (its lengths changed) as a result.
func (c *refAdaptiveCode) count(sym int) bool {
	c.freq[sym]++
	c.remaining--
	if c.remaining != 0 {
		return false
	}
	c.builder.build(c.freq[:c.n], c.lens[:c.n])
	for i := range c.freq[:c.n] {
		c.freq[i] = c.freq[i]>>1 + 1
	}
	c.remaining = c.period
	return true
}

// refLengthBuilder computes codeword lengths exactly as the format requires,
// every tie-break included; it keeps its scratch space between calls.
type refLengthBuilder struct {
	n      int                    // alphabet size of the previous build (0: none)
	leaves [maxOffsetSlots]uint32 // freq<<10 | symbol, sorted
	weight [maxOffsetSlots]uint32 // internal nodes
	parent [maxOffsetSlots]uint16
	depth  [maxOffsetSlots]uint8
}

// build sets lens[s] for every symbol from freq (len(freq) >= 2, every
// frequency at least 1 and below 1<<22).
func (b *refLengthBuilder) build(freq []uint32, lens []uint8) {
	n := len(freq)
	leaves := b.leaves[:n]
	if b.n != n {
		for s, f := range freq {
			leaves[s] = f<<10 | uint32(s)
		}
		slices.Sort(leaves)
		b.n = n
	} else {
		// Frequencies change little between rebuilds: re-key the previous
		// order and insertion-sort it, close to linear.
		for k, l := range leaves {
			s := l & 1023
			leaves[k] = freq[s]<<10 | s
		}
		for k := 1; k < n; k++ {
			v := leaves[k]
			j := k
			for j > 0 && leaves[j-1] > v {
				leaves[j] = leaves[j-1]
				j--
			}
			leaves[j] = v
		}
	}

	// Two-queue merge: a leaf wins ties against an internal node.
	i, j, created := 0, 0, 0
	take := func() uint32 {
		if i < n && (j == created || leaves[i]>>10 <= b.weight[j]) {
			i++
			return leaves[i-1] >> 10
		}
		b.parent[j] = uint16(created)
		j++
		return b.weight[j-1]
	}
	for created < n-1 {
		w := take()
		w += take()
		b.weight[created] = w
		created++
	}

	// Count codeword lengths from the root down, capping at 15 bits.
	var count [maxCodeLen + 2]int
	count[1] = 2
	root := n - 2
	b.depth[root] = 0
	for m := n - 3; m >= 0; m-- {
		d := b.depth[b.parent[m]] + 1
		b.depth[m] = d
		l := int(d)
		if l >= maxCodeLen {
			l = maxCodeLen - 1
			for count[l] == 0 {
				l--
			}
		}
		count[l]--
		count[l+1] += 2
	}

	// The longest codewords go to the least frequent leaves.
	k := 0
	for l := maxCodeLen; l >= 1; l-- {
		for ; count[l] > 0; count[l]-- {
			lens[leaves[k]&1023] = uint8(l)
			k++
		}
	}
}

// refX86Filter is x86Filter as it was before the word-at-a-time scan; it converts the relative targets of some x86 call, lea, mov and
// lock-add instructions to absolute ones (encode) and back (decode), only
// near places where a target was recently seen twice, i.e. in machine code.
func refX86Filter(buf []byte, xs *x86State, encode bool) {
	n := len(buf)
	if n <= 17 {
		return
	}
	// Positions are recorded as base+position, with base past every
	// position of the previous blocks by more than the target window, so
	// that entries left from them never count as seen.
	if xs.base > 1<<30-int32(n) || !xs.ready {
		for i := range xs.seen {
			xs.seen[i] = -65536
		}
		xs.base, xs.ready = 0, true
	}
	base := xs.base
	xs.base += int32(n) + 65536
	seen := &xs.seen
	anchor := int32(-1024)
	end := n - 16
	for i := 1; i < end; {
		// Most bytes cannot start a recognised instruction: skip them.
		for i < end && !x86Opcode[buf[i]] {
			i++
		}
		if i >= end {
			break
		}
		var oplen int
		var reach int32
		switch buf[i] {
		case 0xe8:
			oplen, reach = 1, 511
		case 0xe9:
			i += 5
			continue
		case 0xff:
			if buf[i+1] != 0x15 {
				i++
				continue
			}
			oplen, reach = 2, 1023
		case 0xf0:
			if buf[i+1] != 0x83 || buf[i+2] != 0x05 {
				i++
				continue
			}
			oplen, reach = 3, 1023
		case 0x48:
			if !(buf[i+1] == 0x8d && buf[i+2]&7 == 5) && !(buf[i+1] == 0x8b && (buf[i+2] == 0x05 || buf[i+2] == 0x0d)) {
				i++
				continue
			}
			oplen, reach = 3, 1023
		case 0x4c:
			if buf[i+1] != 0x8d || buf[i+2]&7 != 5 {
				i++
				continue
			}
			oplen, reach = 3, 1023
		default:
			i++
			continue
		}
		j := i + oplen
		v := binary.LittleEndian.Uint32(buf[j:])
		translate := int32(i)-anchor <= reach
		var key uint32
		if encode {
			key = (uint32(i) + v) & 0xffff
			if translate {
				binary.LittleEndian.PutUint32(buf[j:], v+uint32(i))
			}
		} else {
			if translate {
				v -= uint32(i)
				binary.LittleEndian.PutUint32(buf[j:], v)
			}
			key = (uint32(i) + v) & 0xffff
		}
		last := int32(j + 3)
		if base+last-seen[key] <= 65535 {
			anchor = last
		}
		seen[key] = base + last
		i = j + 4
	}
}

// x86Opcode marks the bytes that may start a recognised instruction.
var x86Opcode = [256]bool{0xe8: true, 0xe9: true, 0xff: true, 0xf0: true, 0x48: true, 0x4c: true}
