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
	// One table word per symbol: its code followed by room for its offset
	// bits, above the total bit count (at most 30) in the low 6 bits.
	enc := &c.enc
	for sym := range numSymbols {
		offsetBits := uint64(sym>>4) & 15 & -uint64(sym>>8)
		enc[sym] = uint64(c.codes[sym])<<offsetBits<<6 | (uint64(c.lens[sym]) + offsetBits)
	}
	var acc uint64   // pending bits, right-aligned
	count := uint(0) // number of pending bits
	cur, next, pos := tableBytes, tableBytes+2, tableBytes+4
	for _, s := range c.seqs {
		e := enc[s.symbol&(numSymbols-1)]
		if s.length >= minMatchLen+15 {
			// The extra length bytes follow the word slots reserved so
			// far: flush what the symbol completes first.
			offsetBits := uint(s.symbol>>4) & 15
			n := uint(e&63) - offsetBits
			acc = acc<<(n&63) | e>>6>>(offsetBits&63)
			count += n
			for count > 16 {
				count -= 16
				binary.LittleEndian.PutUint16(dst[cur:], uint16(acc>>(count&63)))
				cur, next, pos = next, pos, pos+2
			}
			if l := s.length - minMatchLen - 15; l < 255 {
				dst[pos] = byte(l)
				pos++
			} else {
				dst[pos] = 255
				binary.LittleEndian.PutUint16(dst[pos+1:], uint16(s.length-minMatchLen))
				pos += 3
			}
			acc = acc<<(offsetBits&63) | uint64(s.offset)
			count += offsetBits
		} else {
			n := uint(e & 63)
			acc = acc<<n | e>>6 | uint64(s.offset)
			count += n
		}
		// Flush two words at a time once a bit of a third has arrived: a
		// symbol adds at most 30 bits, so at most 62 are pending. Until an
		// extra length byte is written the word slots are consecutive
		// (cur, next, then pos on), so flushing late places every word
		// where flushing at once would have.
		if count > 32 {
			count -= 32
			binary.LittleEndian.PutUint16(dst[cur:], uint16(acc>>((count+16)&63)))
			binary.LittleEndian.PutUint16(dst[next:], uint16(acc>>(count&63)))
			cur, next, pos = pos, pos+2, pos+4
		}
	}
	for count > 16 {
		count -= 16
		binary.LittleEndian.PutUint16(dst[cur:], uint16(acc>>count))
		cur, next, pos = next, pos, pos+2
	}
	acc = acc<<c.lens[numLiterals] | uint64(c.codes[numLiterals])
	count += uint(c.lens[numLiterals])
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
