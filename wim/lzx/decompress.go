package lzx

import (
	"encoding/binary"
	"fmt"
)

// The sizes of the first-level tables of the main and length codes: enough
// bits that nearly every symbol is one lookup.
const (
	mainRootBits    = 12
	lengthRootBits  = 10
	pretreeRootBits = 6
)

// Decompressor decodes LZX chunks. It keeps its tables between calls so that
// after the first chunk it allocates nothing. It is not safe for concurrent use.
type Decompressor struct {
	mainLens    [maxMainSyms]uint8
	lengthLens  [numLengthSyms]uint8
	alignedLens [numAlignedSyms]uint8
	pretreeLens [numPretreeSyms]uint8

	// The root tables of the main, length and aligned codes (fixed
	// arrays: indexing them by the top bits of the buffer needs no bounds
	// check) and their sub-tables.
	mainRoot                  [1 << mainRootBits]uint32
	lengthRoot                [1 << lengthRootBits]uint32
	alignedRoot               [1 << maxAlignedCodeLen]uint32
	main, length, alignedCode fastTable
	pretreeRoot               [1 << pretreeRootBits]uint32
	pretree                   fastTable

	// The repeated offsets and the first slot with an aligned offset code
	// word, while decodeBlock runs.
	reps        [3]uint32
	alignedFrom uint
	r           bitReader

	// blockTypes counts the blocks decoded by type, for the tests.
	blockTypes [4]int
}

// NewDecompressor returns a reusable decoder.
func NewDecompressor() *Decompressor { return &Decompressor{} }

// Decompress decodes one WIM LZX chunk from src into exactly len(dst) bytes.
// See DecompressChunk for the window it assumes.
func Decompress(dst, src []byte) error {
	return NewDecompressor().Decompress(dst, src)
}

// DecompressChunk decodes one chunk of a WIM whose chunk size is chunkSize
// from src into exactly len(dst) bytes.
func DecompressChunk(dst, src []byte, chunkSize int) error {
	return NewDecompressor().DecompressChunk(dst, src, chunkSize)
}

// Decompress decodes one WIM LZX chunk from src into exactly len(dst) bytes.
// The window is derived from len(dst); if that fails and len(dst) is smaller
// than MaxChunkSize, each larger window is tried, because the short last
// chunk of a resource is compressed with the window of the WIM's chunk size.
func (d *Decompressor) Decompress(dst, src []byte) error {
	if len(dst) > MaxChunkSize {
		return fmt.Errorf("lzx: chunk of %d bytes is larger than %d", len(dst), MaxChunkSize)
	}
	order := windowOrder(len(dst))
	err := d.decompress(dst, src, order)
	if err == nil {
		return nil
	}
	for o := order + 1; o <= 21; o++ {
		if d.decompress(dst, src, o) == nil {
			return nil
		}
	}
	return err
}

// DecompressChunk decodes one chunk of a WIM whose chunk size is chunkSize
// (which decides the LZX window) from src into exactly len(dst) bytes.
func (d *Decompressor) DecompressChunk(dst, src []byte, chunkSize int) error {
	if chunkSize <= 0 || chunkSize > MaxChunkSize {
		return fmt.Errorf("lzx: chunk size %d out of range 1..%d", chunkSize, MaxChunkSize)
	}
	if len(dst) > chunkSize {
		return fmt.Errorf("lzx: chunk of %d bytes is larger than the chunk size %d", len(dst), chunkSize)
	}
	return d.decompress(dst, src, windowOrder(chunkSize))
}

func (d *Decompressor) decompress(dst, src []byte, order int) error {
	numMain := numChars + 8*numPositionSlots(order)
	clear(d.mainLens[:])
	clear(d.lengthLens[:])
	r := &d.r
	r.init(src, 0)
	r0, r1, r2 := uint32(1), uint32(1), uint32(1)
	pos := 0
	blockEnd := 0
	for pos < len(dst) {
		r.ensure(32)
		blockType := r.bits(3)
		var size int
		if r.bits(1) == 1 {
			size = defaultBlockSize
		} else {
			size = int(r.bits(16))
			if order >= 16 {
				size = size<<8 | int(r.bits(8))
			}
		}
		if size == 0 {
			return corruptf("empty block at output offset %d", pos)
		}
		blockEnd += size
		if blockEnd > len(dst) {
			return corruptf("block of %d bytes at output offset %d passes the chunk end %d", size, pos, len(dst))
		}
		if pos >= blockEnd {
			return corruptf("match ran past a whole block at output offset %d", pos)
		}
		d.blockTypes[blockType&3]++
		switch blockType {
		case blockVerbatim, blockAligned:
			aligned := blockType == blockAligned
			if aligned {
				for i := range d.alignedLens {
					d.alignedLens[i] = uint8(r.bits(3))
				}
				if err := d.alignedCode.build(d.alignedRoot[:], d.alignedLens[:], maxAlignedCodeLen, numAlignedSyms); err != nil {
					return fmt.Errorf("aligned offset code at output offset %d: %w", pos, err)
				}
			}
			if err := d.readLens(d.mainLens[:numChars]); err != nil {
				return fmt.Errorf("main code at output offset %d: %w", pos, err)
			}
			if err := d.readLens(d.mainLens[numChars:numMain]); err != nil {
				return fmt.Errorf("main code at output offset %d: %w", pos, err)
			}
			if err := d.main.build(d.mainRoot[:], d.mainLens[:numMain], mainRootBits, numChars); err != nil {
				return fmt.Errorf("main code at output offset %d: %w", pos, err)
			}
			if err := d.readLens(d.lengthLens[:]); err != nil {
				return fmt.Errorf("length code at output offset %d: %w", pos, err)
			}
			if err := d.length.build(d.lengthRoot[:], d.lengthLens[:], lengthRootBits, numLengthSyms); err != nil {
				return fmt.Errorf("length code at output offset %d: %w", pos, err)
			}
			var err error
			pos, r0, r1, r2, err = d.decodeBlock(dst, pos, blockEnd, aligned, r0, r1, r2)
			if err != nil {
				return err
			}
		case blockUncompressed:
			if pos != blockEnd-size {
				return corruptf("match ran into an uncompressed block at output offset %d", pos)
			}
			// 1 to 16 bits of padding align the stream to 16 bits.
			c := r.consumedBits()
			c += 16 - c%16
			p := c / 8
			if p+12 > len(src) {
				return corruptf("uncompressed block header at input offset %d is truncated", p)
			}
			r0 = binary.LittleEndian.Uint32(src[p:])
			r1 = binary.LittleEndian.Uint32(src[p+4:])
			r2 = binary.LittleEndian.Uint32(src[p+8:])
			p += 12
			if p+size > len(src) {
				return corruptf("uncompressed block of %d bytes at input offset %d is truncated", size, p)
			}
			copy(dst[pos:], src[p:p+size])
			pos += size
			p += size + size&1
			r.init(src, p)
		default:
			return corruptf("invalid block type %d at output offset %d", blockType, pos)
		}
	}
	if r.overrun() {
		return corruptf("input truncated: %d bytes decode to %d", len(src), len(dst))
	}
	undoE8(dst)
	return nil
}

// readLens reads code lengths coded as deltas from the previous ones with a
// pretree, updating lens in place. Like decodeBlock it keeps the bit
// reader in locals, with at least 32 bits at the top of each item: a
// pretree code word (<= 15 bits) and what follows it (a run length of up to
// 5 bits, or 1 bit and a second code word) never need another refill.
func (d *Decompressor) readLens(lens []uint8) error {
	r := &d.r
	r.ensure(48)
	for i := range d.pretreeLens {
		if i == 12 {
			r.ensure(32)
		}
		d.pretreeLens[i] = uint8(r.bits(4))
	}
	if err := d.pretree.build(d.pretreeRoot[:], d.pretreeLens[:], pretreeRootBits, numPretreeSyms); err != nil {
		return fmt.Errorf("pretree: %w", err)
	}
	src, in, buf, count := r.src, r.pos, r.buf, r.count
	var err error
	for i := 0; i < len(lens); {
		if count < 32 {
			if in+4 <= len(src) {
				buf |= uint64(swapWords(binary.LittleEndian.Uint32(src[in:in+4]))) << ((32 - count) & 63)
				count += 32
				in += 4
			} else {
				buf, count, in = refillSlow(src, in, buf, count)
			}
		}
		sym, n := d.pretreeSymbol(buf)
		if n == 0 {
			err = fmt.Errorf("pretree: %w", corruptf("invalid Huffman code word"))
			break
		}
		buf <<= n
		count -= n
		switch {
		case sym <= 16:
			lens[i] = uint8((int(lens[i]) - sym + 17) % 17)
			i++
		case sym == 17, sym == 18:
			var run int
			if sym == 17 {
				run = 4 + int(buf>>60)
				buf <<= 4
				count -= 4
			} else {
				run = 20 + int(buf>>59)
				buf <<= 5
				count -= 5
			}
			if i+run > len(lens) {
				err = corruptf("zero run of %d passes %d lengths", run, len(lens))
				break
			}
			clear(lens[i : i+run])
			i += run
		default: // 19: a run of one value
			run := 4 + int(buf>>63)
			buf <<= 1
			count--
			if i+run > len(lens) {
				err = corruptf("run of %d passes %d lengths", run, len(lens))
				break
			}
			z, n := d.pretreeSymbol(buf)
			if n == 0 {
				err = fmt.Errorf("pretree: %w", corruptf("invalid Huffman code word"))
				break
			}
			buf <<= n
			count -= n
			if z > 16 {
				err = corruptf("pretree symbol %d inside a run", z)
				break
			}
			v := uint8((int(lens[i]) - z + 17) % 17)
			for j := i; j < i+run; j++ {
				lens[j] = v
			}
			i += run
		}
		if err != nil {
			break
		}
	}
	r.pos, r.buf, r.count = in, buf, count
	return err
}

// pretreeSymbol decodes the pretree symbol at the top of buf and returns it
// with its code length, 0 for a bit pattern that is no code word.
func (d *Decompressor) pretreeSymbol(buf uint64) (sym int, n uint) {
	e := d.pretreeRoot[buf>>(64-pretreeRootBits)]
	if e >= entryLink {
		if e >= entryInvalid {
			return 0, 0
		}
		e = d.pretree.link(e, buf)
		if e >= entryMatch {
			return 0, 0
		}
	}
	return int(e >> 8), uint(e & 31)
}

// decodeBlock decodes the literals and matches of a verbatim or aligned
// block until pos reaches blockEnd (a match may carry it past).
//
// The bit reader's state lives in locals here and goes back to d.r at the
// end. It holds at least 32 bits at the top of each symbol (a main and a
// length code word) and at least 21 before a match's offset bits (17
// verbatim bits, or 14 and an aligned code word). Matches that start at
// least maxMatch+16 bytes before the chunk end are copied in whole 8-byte
// words, overwriting bytes after the match that later symbols rewrite.
// The loop keeps few values live, so that Go keeps the bit reader, pos and
// the slices in registers: the sub-tables, the length and aligned tables,
// the repeated offsets and the block type are read through d.
func (d *Decompressor) decodeBlock(dst []byte, pos, blockEnd int, aligned bool, r0, r1, r2 uint32) (int, uint32, uint32, uint32, error) {
	src, in, buf, count := d.r.src, d.r.pos, d.r.buf, d.r.count
	mainRoot := &d.mainRoot
	// Offsets of slots with at least alignedFrom extra bits end in an
	// aligned offset code word.
	d.alignedFrom = 32
	if aligned {
		d.alignedFrom = 3
	}
	d.reps = [3]uint32{r0, r1, r2}
	var err error
loop:
	for pos < blockEnd {
		if count < 32 {
			if in+4 <= len(src) {
				buf |= uint64(swapWords(binary.LittleEndian.Uint32(src[in:in+4]))) << ((32 - count) & 63)
				count += 32
				in += 4
			} else {
				buf, count, in = refillSlow(src, in, buf, count)
			}
		}
		e := mainRoot[buf>>(64-mainRootBits)]
		n := uint(e & 31)
		if e < entryMatch {
			dst[pos] = byte(e >> 8)
			pos++
			buf <<= n & 63
			count -= n
			continue
		}
		if e >= entryLink {
			if e >= entryInvalid {
				err = corruptf("invalid main code word at output offset %d", pos)
				break loop
			}
			e = d.main.link(e, buf)
			n = uint(e & 31)
			if e < entryMatch {
				dst[pos] = byte(e >> 8)
				pos++
				buf <<= n & 63
				count -= n
				continue
			}
			if e >= entryLink {
				err = corruptf("invalid main code word at output offset %d", pos)
				break loop
			}
		}
		buf <<= n & 63
		count -= n
		sym := e >> 8
		length := int(sym&7) + minMatch
		if sym&7 == numPrimaryLengths {
			le := d.lengthRoot[buf>>(64-lengthRootBits)]
			if le >= entryLink {
				if le < entryInvalid {
					le = d.length.link(le, buf)
				}
			}
			if le >= entryMatch {
				err = corruptf("invalid length code word at output offset %d", pos)
				break loop
			}
			buf <<= le & 31
			count -= uint(le & 31)
			length += int(le >> 8)
		}
		slot := sym >> 3 & 63
		var offset uint32
		reps := &d.reps
		switch slot {
		case 0:
			offset = reps[0]
		case 1:
			offset = reps[1]
			reps[1] = reps[0]
			reps[0] = offset
		case 2:
			offset = reps[2]
			reps[2] = reps[0]
			reps[0] = offset
		default:
			if count < 21 {
				if in+4 <= len(src) {
					buf |= uint64(swapWords(binary.LittleEndian.Uint32(src[in:in+4]))) << ((32 - count) & 63)
					count += 32
					in += 4
				} else {
					buf, count, in = refillSlow(src, in, buf, count)
				}
			}
			eb := uint(slotExtraBits[slot])
			offset = slotOffsetBase[slot]
			if eb >= d.alignedFrom {
				if eb > 3 {
					offset += uint32(buf>>((67-eb)&63)) << 3
					buf <<= (eb - 3) & 63
					count -= eb - 3
				}
				a := d.alignedRoot[buf>>(64-maxAlignedCodeLen)]
				if a >= entryMatch {
					err = corruptf("invalid aligned offset code word at output offset %d", pos)
					break loop
				}
				buf <<= a & 31
				count -= uint(a & 31)
				offset += a >> 8
			} else {
				// eb may be 0: two shifts, each < 64 (which Go would
				// otherwise check for).
				offset += uint32(buf >> 1 >> ((63 - eb) & 63))
				buf <<= eb & 63
				count -= eb
			}
			reps[2] = reps[1]
			reps[1] = reps[0]
			reps[0] = offset
		}
		if offset-1 >= uint32(pos) {
			// Offset 0 (from an uncompressed block's header) wraps around.
			err = corruptf("match offset %d at output offset %d reaches before the chunk", offset, pos)
			break loop
		}
		from := pos - int(offset)
		if pos < len(dst)-maxMatch-16 {
			switch {
			case offset >= 8:
				// Most matches are short: 16 bytes without a loop.
				binary.LittleEndian.PutUint64(dst[pos:], binary.LittleEndian.Uint64(dst[from:]))
				binary.LittleEndian.PutUint64(dst[pos+8:], binary.LittleEndian.Uint64(dst[from+8:]))
				for i := 16; i < length; i += 8 {
					binary.LittleEndian.PutUint64(dst[pos+i:], binary.LittleEndian.Uint64(dst[from+i:]))
				}
			case offset == 1:
				v := uint64(dst[from]) * 0x0101010101010101
				for i := 0; i < length; i += 8 {
					binary.LittleEndian.PutUint64(dst[pos+i:], v)
				}
			default:
				for i := range length {
					dst[pos+i] = dst[from+i]
				}
			}
		} else {
			if length > len(dst)-pos {
				err = corruptf("match of %d bytes at output offset %d passes the chunk end %d", length, pos, len(dst))
				break loop
			}
			if int(offset) >= length {
				copy(dst[pos:pos+length], dst[from:from+length])
			} else {
				for i := range length {
					dst[pos+i] = dst[from+i]
				}
			}
		}
		pos += length
	}
	d.r.pos, d.r.buf, d.r.count = in, buf, count
	return pos, d.reps[0], d.reps[1], d.reps[2], err
}

// swapWords turns two little-endian 16-bit words read as one 32-bit value
// into the order their bits are read: the first word on top.
func swapWords(x uint32) uint32 { return x<<16 | x>>16 }

// slotOffsetBase and slotExtraBits describe the position slots for the
// decoder: the match offset of slot s (>= 3) is slotOffsetBase[s] plus
// slotExtraBits[s] bits. Sized 64 so that a 6-bit slot needs no bounds check.
var (
	slotOffsetBase [64]uint32
	slotExtraBits  [64]uint8
)

func init() {
	// As positionBase and extraBits, which another file's init fills.
	base := uint32(0)
	for s := range 51 {
		eb := 0
		if s >= 4 {
			eb = min((s-2)/2, 17)
		}
		if s >= 3 {
			slotOffsetBase[s] = base - 2
			slotExtraBits[s] = uint8(eb)
		}
		base += 1 << eb
	}
}
