package xpress

import (
	"encoding/binary"
	"fmt"
)

// Decompressor decodes XPRESS chunks. The zero value is not usable; call
// NewDecompressor. It keeps its decoding table between calls so that
// decoding allocates nothing.
type Decompressor struct {
	table       [decodeTableLen]uint16
	missingBits uint // zero bits supplied for words past the end of the input
}

// NewDecompressor returns a reusable decoder (not safe for concurrent use).
func NewDecompressor() *Decompressor { return new(Decompressor) }

// Decompress decodes one chunk: src must produce exactly len(dst) bytes.
func Decompress(dst, src []byte) error {
	return NewDecompressor().Decompress(dst, src)
}

// Decompress decodes src, one WIM chunk, into exactly len(dst) bytes. It
// returns an error wrapping ErrCorrupt when src is malformed or too short.
func (d *Decompressor) Decompress(dst, src []byte) error {
	if len(dst) == 0 {
		return nil
	}
	if len(src) < tableBytes+4 {
		return fmt.Errorf("%w: %d bytes is shorter than the Huffman table and first bits", ErrCorrupt, len(src))
	}
	if err := buildDecodeTable(&d.table, src[:tableBytes]); err != nil {
		return err
	}
	table := &d.table

	// [MS-XCA]'s bit reader holds 16 to 31 bits of 16-bit little-endian
	// words (most significant bit first) and loads one word whenever fewer
	// than 16 remain; extra match length bytes are read from the byte just
	// past its last loaded word. This reader holds up to 64 bits and loads
	// two words at a time, one bounds check per refill. It has loaded the
	// same words as [MS-XCA]'s reader plus bitCount/16-1 more (their bit
	// counts agree modulo 16 and the standard one keeps 16..31), so the
	// standard byte position is recomputed only for the rare extra length
	// bytes, and the reader is then cut back to the standard state.
	pos := tableBytes + 4
	bitBuf := uint64(swapWords(binary.LittleEndian.Uint32(src[tableBytes:]))) << 32
	bitCount := uint(32) // valid bits at the top of bitBuf
	d.missingBits = 0

	out := 0
	for out < len(dst) {
		if bitCount < 32 {
			// Two words: with at least 32 bits buffered, a symbol (<= 15
			// bits) and its offset bits (<= 15) need no further check.
			if pos+4 <= len(src) {
				bitBuf |= uint64(swapWords(binary.LittleEndian.Uint32(src[pos:pos+4]))) << (32 - bitCount)
			} else {
				bitBuf |= d.tailWords(src, pos) << (32 - bitCount)
			}
			pos += 4
			bitCount += 32
		}
		entry := table[bitBuf>>(64-primaryBits)]
		if entry < numLiterals<<4 {
			// A literal with a code of at most primaryBits: the common case.
			n := uint(entry & 15)
			bitBuf <<= n
			bitCount -= n
			dst[out] = byte(entry >> 4)
			out++
			continue
		}
		if entry&secondaryFlag != 0 {
			entry = table[uint(entry&^secondaryFlag)+uint(bitBuf>>(64-maxCodeLen))&(1<<secondaryBits-1)]
		}
		n := uint(entry & 15)
		bitBuf <<= n
		bitCount -= n
		sym := int(entry >> 4)
		if sym < numLiterals {
			dst[out] = byte(sym)
			out++
			continue
		}
		sym -= numLiterals
		length := sym & 15
		offsetBits := uint(sym >> 4)
		if length == 15 {
			// The standard reader holds 16 + bitCount%16 bits here (16..31,
			// the same count modulo 16); the words beyond are dropped and
			// reloaded after the length bytes.
			stdCount := 16 + bitCount%16
			p := pos - int(bitCount-stdCount)/8
			if p >= len(src) {
				return fmt.Errorf("%w: match length byte past the end of input at output offset %d", ErrCorrupt, out)
			}
			length = int(src[p])
			p++
			if length == 255 {
				if p+2 > len(src) {
					return fmt.Errorf("%w: match length word past the end of input at output offset %d", ErrCorrupt, out)
				}
				length = int(binary.LittleEndian.Uint16(src[p:]))
				p += 2
				if length == 0 {
					if p+4 > len(src) {
						return fmt.Errorf("%w: match length dword past the end of input at output offset %d", ErrCorrupt, out)
					}
					length = int(binary.LittleEndian.Uint32(src[p:]))
					p += 4
				}
				if length < 15 || length > len(dst) {
					return fmt.Errorf("%w: invalid long match length %d at output offset %d", ErrCorrupt, length, out)
				}
				length -= 15
			}
			length += 15
			// p <= len(src), so every word the standard reader loaded was
			// real: no missing bits remain.
			pos = p
			bitCount = stdCount
			bitBuf &^= ^uint64(0) >> stdCount
			d.missingBits = 0
		}
		length += minMatchLen
		offset := int(bitBuf>>1>>(63-offsetBits)) | 1<<offsetBits
		bitBuf <<= offsetBits
		bitCount -= offsetBits
		if offset > out {
			return fmt.Errorf("%w: match offset %d before the start of output at offset %d", ErrCorrupt, offset, out)
		}
		if length > len(dst)-out {
			return fmt.Errorf("%w: match of length %d at output offset %d runs past the chunk end %d", ErrCorrupt, length, out, len(dst))
		}
		if out+length+16 <= len(dst) {
			// Away from the chunk end, copy whole 8-byte words: up to 15
			// bytes past the match are overwritten, and rewritten later.
			m := dst[out : out+length+16]
			from := out - offset
			switch {
			case offset >= 8:
				// Each load reads bytes already written. Most matches are
				// short: the first 16 bytes are copied without a loop.
				binary.LittleEndian.PutUint64(m, binary.LittleEndian.Uint64(dst[from:]))
				binary.LittleEndian.PutUint64(m[8:], binary.LittleEndian.Uint64(dst[from+8:]))
				for k := 16; k < length; k += 8 {
					binary.LittleEndian.PutUint64(m[k:], binary.LittleEndian.Uint64(dst[from+k:]))
				}
			case offset == 1:
				v := uint64(dst[from]) * 0x0101010101010101
				for k := 0; k < length; k += 8 {
					binary.LittleEndian.PutUint64(m[k:], v)
				}
			default:
				copyMatch(dst, out, offset, length)
			}
		} else {
			copyMatch(dst, out, offset, length)
		}
		out += length
	}
	if d.missingBits > bitCount {
		return fmt.Errorf("%w: input truncated (%d bytes)", ErrCorrupt, len(src))
	}
	return nil
}

// tailWords returns the two words at src[pos:] as the top of a 32-bit value,
// supplying zero words (and counting them in d.missingBits) past the end.
// Kept out of Decompress, the rare case, so its loop keeps its variables in
// registers.
//
//go:noinline
func (d *Decompressor) tailWords(src []byte, pos int) uint64 {
	var w uint64
	for k := range 2 {
		w <<= 16
		if pos+2*k+2 <= len(src) {
			w |= uint64(src[pos+2*k]) | uint64(src[pos+2*k+1])<<8
		} else {
			d.missingBits += 16
		}
	}
	return w
}

// swapWords turns two little-endian 16-bit words read as one 32-bit value
// into the order the bits are consumed: the first word on top.
func swapWords(x uint32) uint32 { return x<<16 | x>>16 }

// copyMatch copies length bytes from offset bytes back to dst[out:]; the
// regions overlap when offset < length, which repeats the pattern.
func copyMatch(dst []byte, out, offset, length int) {
	from := out - offset
	if offset >= length {
		copy(dst[out:out+length], dst[from:from+length])
		return
	}
	if offset == 1 {
		b := dst[from]
		s := dst[out : out+length]
		for i := range s {
			s[i] = b
		}
		return
	}
	// Copy the pattern in growing steps: each copy doubles what is available.
	end := out + length
	for out < end {
		n := copy(dst[out:end], dst[from:out])
		out += n
	}
}
