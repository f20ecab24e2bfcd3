package xpress

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
)

// decompressReference is the previous decoder (16..32-bit reader that follows
// [MS-XCA] step by step), kept for tests: FuzzXpressDecompress checks that
// the fast decoder agrees with it on every input, errors included.
func (d *Decompressor) decompressReference(dst, src []byte) error {
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

// TestDecoderMatchesReference compares the fast decoder with the reference
// one on real chunks cut at every length near their end (where the reader
// supplies zero words and extra length bytes may lie past the input) and
// with single bytes changed, so that both readers' handling of the end of
// input and of extra length bytes is held to the same results.
func TestDecoderMatchesReference(t *testing.T) {
	c, _ := NewCompressor(MaxChunkSize)
	fast, ref := NewDecompressor(), NewDecompressor()
	rng := rand.New(rand.NewPCG(3, 4))
	for name, data := range testInputs(t) {
		for _, n := range []int{1, 17, 300, 4096, 32768, MaxChunkSize} {
			n = min(n, len(data))
			buf := make([]byte, n+1024)
			k := c.Compress(buf, data[:n])
			if k == 0 {
				continue
			}
			got, want := make([]byte, n), make([]byte, n)
			check := func(src []byte, what string) {
				err := fast.Decompress(got, src)
				errRef := ref.decompressReference(want, src)
				if fmt.Sprint(err) != fmt.Sprint(errRef) {
					t.Fatalf("%s/%d %s: decoder says %v, reference %v", name, n, what, err, errRef)
				}
				if err == nil && !bytes.Equal(got, want) {
					t.Fatalf("%s/%d %s: outputs differ", name, n, what)
				}
			}
			check(buf[:k], "whole")
			for cut := max(tableBytes, k-40); cut < k; cut++ {
				check(buf[:cut], fmt.Sprintf("cut at %d", cut))
			}
			for range 200 {
				src := bytes.Clone(buf[:k])
				src[tableBytes+rng.IntN(k-tableBytes)] ^= byte(1 + rng.IntN(255))
				check(src, "mutated")
			}
		}
	}
}
