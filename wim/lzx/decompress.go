package lzx

import (
	"encoding/binary"
	"fmt"
)

// mainRootBits is the size of the main code's first-level table.
const mainRootBits = 11

// Decompressor decodes LZX chunks. It keeps its tables between calls so that
// after the first chunk it allocates nothing. It is not safe for concurrent use.
type Decompressor struct {
	mainLens    [maxMainSyms]uint8
	lengthLens  [numLengthSyms]uint8
	alignedLens [numAlignedSyms]uint8
	pretreeLens [numPretreeSyms]uint8

	main, length, aligned, pretree decodeTable
	r                              bitReader

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
				if err := d.aligned.build(d.alignedLens[:], 7); err != nil {
					return fmt.Errorf("aligned offset code at output offset %d: %w", pos, err)
				}
			}
			if err := d.readLens(d.mainLens[:numChars]); err != nil {
				return fmt.Errorf("main code at output offset %d: %w", pos, err)
			}
			if err := d.readLens(d.mainLens[numChars:numMain]); err != nil {
				return fmt.Errorf("main code at output offset %d: %w", pos, err)
			}
			if err := d.main.build(d.mainLens[:numMain], mainRootBits); err != nil {
				return fmt.Errorf("main code at output offset %d: %w", pos, err)
			}
			if err := d.readLens(d.lengthLens[:]); err != nil {
				return fmt.Errorf("length code at output offset %d: %w", pos, err)
			}
			if err := d.length.build(d.lengthLens[:], 10); err != nil {
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
// pretree, updating lens in place.
func (d *Decompressor) readLens(lens []uint8) error {
	r := &d.r
	r.ensure(48)
	for i := range d.pretreeLens {
		if i == 12 {
			r.ensure(32)
		}
		d.pretreeLens[i] = uint8(r.bits(4))
	}
	if err := d.pretree.build(d.pretreeLens[:], 6); err != nil {
		return fmt.Errorf("pretree: %w", err)
	}
	for i := 0; i < len(lens); {
		r.ensure(32)
		sym, err := d.pretree.decode(r)
		if err != nil {
			return fmt.Errorf("pretree: %w", err)
		}
		switch {
		case sym <= 16:
			lens[i] = uint8((int(lens[i]) - sym + 17) % 17)
			i++
		case sym == 17, sym == 18:
			var run int
			if sym == 17 {
				run = 4 + int(r.bits(4))
			} else {
				run = 20 + int(r.bits(5))
			}
			if i+run > len(lens) {
				return corruptf("zero run of %d passes %d lengths", run, len(lens))
			}
			clear(lens[i : i+run])
			i += run
		default: // 19: a run of one value
			run := 4 + int(r.bits(1))
			if i+run > len(lens) {
				return corruptf("run of %d passes %d lengths", run, len(lens))
			}
			r.ensure(16)
			z, err := d.pretree.decode(r)
			if err != nil {
				return fmt.Errorf("pretree: %w", err)
			}
			if z > 16 {
				return corruptf("pretree symbol %d inside a run", z)
			}
			v := uint8((int(lens[i]) - z + 17) % 17)
			for j := i; j < i+run; j++ {
				lens[j] = v
			}
			i += run
		}
	}
	return nil
}

// decodeBlock decodes the literals and matches of a verbatim or aligned
// block until pos reaches blockEnd (a match may carry it past).
func (d *Decompressor) decodeBlock(dst []byte, pos, blockEnd int, aligned bool, r0, r1, r2 uint32) (int, uint32, uint32, uint32, error) {
	// The bit reader's state lives in locals here, the innermost loop of
	// decoding, and goes back to d.r at the end.
	src, in, buf, count := d.r.src, d.r.pos, d.r.buf, d.r.count
	var err error
	mainTable := d.main.entries
	mainRoot := (*[1 << mainRootBits]uint32)(mainTable[:1<<mainRootBits])
	mainMax, mainSub := d.main.maxLen, uint32(1)<<d.main.subBits-1
	lengthTable := d.length.entries
	lengthRoot, lengthMax, lengthSub := d.length.rootBits, d.length.maxLen, uint32(1)<<d.length.subBits-1
loop:
	for pos < blockEnd {
		// A main and a length code take at most 32 bits.
		if count < 32 {
			if in+8 <= len(src) {
				v := binary.LittleEndian.Uint64(src[in:])
				v = v>>32 | v<<32
				v = (v>>16)&0x0000ffff0000ffff | (v&0x0000ffff0000ffff)<<16
				words := (64 - count) / 16
				n := words * 16
				buf |= v >> (64 - n) << (64 - count - n)
				count += n
				in += int(2 * words)
			} else {
				buf, count, in = refillSlow(src, in, buf, count)
			}
		}
		e := mainRoot[buf>>(64-mainRootBits)]
		if e&linkFlag != 0 {
			e = mainTable[int(e>>8)+int(uint32(buf>>(64-mainMax))&mainSub)]
		}
		n := uint(e & 0x1f)
		if n == 0 {
			err = corruptf("invalid main code word at output offset %d", pos)
			break loop
		}
		buf <<= n
		count -= n
		sym := int(e >> 8)
		if sym < numChars {
			dst[pos] = byte(sym)
			pos++
			continue
		}
		sym -= numChars
		length := sym&7 + minMatch
		if sym&7 == numPrimaryLengths {
			e := lengthTable[buf>>(64-lengthRoot)]
			if e&linkFlag != 0 {
				e = lengthTable[int(e>>8)+int(uint32(buf>>(64-lengthMax))&lengthSub)]
			}
			n := uint(e & 0x1f)
			if n == 0 {
				err = corruptf("invalid length code word at output offset %d", pos)
				break loop
			}
			buf <<= n
			count -= n
			length += int(e >> 8)
		}
		slot := sym >> 3
		var offset uint32
		switch slot {
		case 0:
			offset = r0
		case 1:
			offset = r1
			r1 = r0
			r0 = offset
		case 2:
			offset = r2
			r2 = r0
			r0 = offset
		default:
			// Extra bits take at most 17 bits, or 14 + a 7-bit aligned code.
			if count < 21 {
				buf, count, in = refillWords(src, in, buf, count)
			}
			eb := uint(extraBits[slot])
			var extra uint32
			if aligned && eb >= 3 {
				if eb > 3 {
					extra = uint32(buf>>(64-(eb-3))) << 3
					buf <<= eb - 3
					count -= eb - 3
				}
				t := &d.aligned
				a := t.entries[buf>>(64-t.rootBits)]
				if a&0x1f == 0 {
					err = corruptf("invalid aligned offset code word at output offset %d", pos)
					break loop
				}
				buf <<= a & 0x1f
				count -= uint(a & 0x1f)
				extra |= a >> 8
			} else if eb > 0 {
				extra = uint32(buf >> (64 - eb))
				buf <<= eb
				count -= eb
			}
			offset = positionBase[slot] + extra - 2
			r2 = r1
			r1 = r0
			r0 = offset
		}
		if offset == 0 || int(offset) > pos {
			err = corruptf("match offset %d at output offset %d reaches before the chunk", offset, pos)
			break loop
		}
		if length > len(dst)-pos {
			err = corruptf("match of %d bytes at output offset %d passes the chunk end %d", length, pos, len(dst))
			break loop
		}
		from := pos - int(offset)
		if offset >= 8 && pos+length+8 <= len(dst) {
			// Eight bytes at a time; the tail past length is rewritten later.
			for i := 0; i < length; i += 8 {
				binary.LittleEndian.PutUint64(dst[pos+i:], binary.LittleEndian.Uint64(dst[from+i:]))
			}
		} else if int(offset) >= length {
			copy(dst[pos:pos+length], dst[from:from+length])
		} else {
			for i := 0; i < length; i++ {
				dst[pos+i] = dst[from+i]
			}
		}
		pos += length
	}
	d.r.pos, d.r.buf, d.r.count = in, buf, count
	return pos, r0, r1, r2, err
}
