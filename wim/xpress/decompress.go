package xpress

import (
	"encoding/binary"
	"fmt"
)

// Decompressor decodes XPRESS chunks. The zero value is not usable; call
// NewDecompressor. It keeps its decoding table between calls so that
// decoding allocates nothing.
type Decompressor struct {
	table [decodeTableLen]uint16
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

	// The bit reader follows [MS-XCA] exactly: 16-bit little-endian words,
	// most significant bit first, keeping between 16 and 32 bits buffered
	// and loading the next word as soon as fewer than 16 remain. The extra
	// length bytes come from the byte position just past the loaded words,
	// so the refill timing is part of the format.
	pos := tableBytes
	bits := uint32(binary.LittleEndian.Uint16(src[pos:]))<<16 | uint32(binary.LittleEndian.Uint16(src[pos+2:]))
	pos += 4
	avail := 32      // valid bits at the top of bits
	missingBits := 0 // zero bits supplied for words past the end of src

	out := 0
	for out < len(dst) {
		entry := table[bits>>(32-primaryBits)]
		if entry&secondaryFlag != 0 {
			entry = table[uint32(entry&^secondaryFlag)+(bits>>(32-maxCodeLen))&(1<<secondaryBits-1)]
		}
		n := int(entry & 15)
		bits <<= n
		avail -= n
		if avail < 16 {
			if pos+2 <= len(src) {
				bits |= (uint32(src[pos]) | uint32(src[pos+1])<<8) << (16 - avail)
			} else {
				missingBits += 16
			}
			pos += 2
			avail += 16
		}
		sym := int(entry >> 4)
		if sym < numLiterals {
			dst[out] = byte(sym)
			out++
			continue
		}
		sym -= numLiterals
		length := sym & 15
		offsetBits := sym >> 4
		if length == 15 {
			if pos >= len(src) {
				return fmt.Errorf("%w: match length byte past the end of input at output offset %d", ErrCorrupt, out)
			}
			length = int(src[pos])
			pos++
			if length == 255 {
				if pos+2 > len(src) {
					return fmt.Errorf("%w: match length word past the end of input at output offset %d", ErrCorrupt, out)
				}
				length = int(binary.LittleEndian.Uint16(src[pos:]))
				pos += 2
				if length == 0 {
					if pos+4 > len(src) {
						return fmt.Errorf("%w: match length dword past the end of input at output offset %d", ErrCorrupt, out)
					}
					length = int(binary.LittleEndian.Uint32(src[pos:]))
					pos += 4
				}
				if length < 15 || length > len(dst) {
					return fmt.Errorf("%w: invalid long match length %d at output offset %d", ErrCorrupt, length, out)
				}
				length -= 15
			}
			length += 15
		}
		length += minMatchLen
		offset := int(bits>>(32-offsetBits)) | 1<<offsetBits
		bits <<= offsetBits
		avail -= offsetBits
		if avail < 16 {
			if pos+2 <= len(src) {
				bits |= (uint32(src[pos]) | uint32(src[pos+1])<<8) << (16 - avail)
			} else {
				missingBits += 16
			}
			pos += 2
			avail += 16
		}
		if offset > out {
			return fmt.Errorf("%w: match offset %d before the start of output at offset %d", ErrCorrupt, offset, out)
		}
		if length > len(dst)-out {
			return fmt.Errorf("%w: match of length %d at output offset %d runs past the chunk end %d", ErrCorrupt, length, out, len(dst))
		}
		if offset >= 8 && out+length+8 <= len(dst) {
			// Common case: copy eight bytes at a time; with offset >= 8 each
			// load reads bytes already written. Up to 7 bytes past the match
			// are overwritten and rewritten later.
			from := out - offset
			for k := 0; k < length; k += 8 {
				binary.LittleEndian.PutUint64(dst[out+k:], binary.LittleEndian.Uint64(dst[from+k:]))
			}
		} else {
			copyMatch(dst, out, offset, length)
		}
		out += length
	}
	if missingBits > avail {
		return fmt.Errorf("%w: input truncated (%d bytes)", ErrCorrupt, len(src))
	}
	return nil
}

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
