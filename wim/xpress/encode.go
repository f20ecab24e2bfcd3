package xpress

import "encoding/binary"

// encode writes the code-length table and the Huffman-coded sequences; the
// caller has checked with encodedSize that they fit in dst.
//
// The bit stream is 16-bit little-endian words, most significant bit
// first, with extra length bytes placed where the decoder will look for
// them. The decoder always holds the word being read and the next one, so
// the writer keeps two word slots reserved ahead of the byte position: a
// byte written now lands after both. A full word stays pending until a bit
// of the following word arrives: the decoder loads a new word only then,
// and extra length bytes written in between must land before it.
func (c *Compressor) encode(dst []byte) int {
	for i := 0; i < tableBytes; i++ {
		dst[i] = c.lens[2*i] | c.lens[2*i+1]<<4
	}
	var acc uint64 // pending bits, right-aligned
	count := 0     // number of pending bits
	cur, next, pos := tableBytes, tableBytes+2, tableBytes+4
	for _, s := range c.seqs {
		sym := s.symbol
		acc = acc<<c.lens[sym] | uint64(c.codes[sym])
		count += int(c.lens[sym])
		if s.offset != 0 {
			offsetBits := int(sym-numLiterals) >> 4
			if l := s.length - minMatchLen; l >= 15 {
				// The extra length bytes follow the word slots reserved so
				// far: flush what the symbol completed first.
				for count > 16 {
					count -= 16
					binary.LittleEndian.PutUint16(dst[cur:], uint16(acc>>count))
					cur, next, pos = next, pos, pos+2
				}
				if l-15 < 255 {
					dst[pos] = byte(l - 15)
					pos++
				} else {
					dst[pos] = 255
					binary.LittleEndian.PutUint16(dst[pos+1:], uint16(l))
					pos += 3
				}
			}
			acc = acc<<offsetBits | uint64(uint32(s.offset)&(1<<offsetBits-1))
			count += offsetBits
		}
		for count > 16 {
			count -= 16
			binary.LittleEndian.PutUint16(dst[cur:], uint16(acc>>count))
			cur, next, pos = next, pos, pos+2
		}
	}
	acc = acc<<c.lens[numLiterals] | uint64(c.codes[numLiterals])
	count += int(c.lens[numLiterals])
	for count > 16 {
		count -= 16
		binary.LittleEndian.PutUint16(dst[cur:], uint16(acc>>count))
		cur, next, pos = next, pos, pos+2
	}
	// Pad the last word with zeros, fill the reserved slot and append one
	// more zero word. The [MS-XCA] decoder never loads that last word, but
	// a decoder that reads ahead may, and wimlib's output has the same slack.
	binary.LittleEndian.PutUint16(dst[cur:], uint16(acc<<(16-count)))
	binary.LittleEndian.PutUint16(dst[next:], 0)
	binary.LittleEndian.PutUint16(dst[pos:], 0)
	return pos + 2
}
