package xpress

import "encoding/binary"

// bitWriter produces the XPRESS bit stream: 16-bit little-endian words,
// most significant bit first, with extra length bytes placed where the
// decoder will look for them. The decoder always holds the word being read
// and the next one, so the writer keeps two word slots reserved ahead of the
// byte position: a byte written now lands after both.
type bitWriter struct {
	dst      []byte
	acc      uint32 // pending bits, right-aligned
	count    int    // number of pending bits (<= 16)
	curWord  int    // slot for the word being filled
	nextWord int    // slot reserved for the following word
	pos      int    // next free byte
	overflow bool
}

func (w *bitWriter) init(dst []byte, start int) {
	*w = bitWriter{dst: dst, curWord: start, nextWord: start + 2, pos: start + 4}
	if start+4 > len(dst) {
		w.overflow = true
	}
}

// writeBits appends the n low bits of v (n <= 15). A full word stays pending
// until a bit of the following word arrives: the decoder loads a new word
// only then, and extra length bytes written in between must land before it.
func (w *bitWriter) writeBits(v uint32, n int) {
	w.acc = w.acc<<n | v
	w.count += n
	if w.count > 16 {
		w.count -= 16
		w.putWord(w.curWord, uint16(w.acc>>w.count))
		w.curWord = w.nextWord
		w.nextWord = w.pos
		w.pos += 2
	}
}

func (w *bitWriter) putWord(at int, v uint16) {
	if at+2 > len(w.dst) {
		w.overflow = true
		return
	}
	binary.LittleEndian.PutUint16(w.dst[at:], v)
}

func (w *bitWriter) writeByte(b byte) {
	if w.pos >= len(w.dst) {
		w.overflow = true
		w.pos++
		return
	}
	w.dst[w.pos] = b
	w.pos++
}

func (w *bitWriter) writeUint16(v uint16) {
	w.putWord(w.pos, v)
	w.pos += 2
}

// finish pads the last word with zeros, fills the reserved slot and appends
// one more zero word; it returns the stream length, or 0 on overflow. The
// [MS-XCA] decoder never loads that last word, but a decoder that reads
// ahead may, and wimlib's output has the same slack.
func (w *bitWriter) finish() int {
	w.putWord(w.curWord, uint16(w.acc<<(16-w.count))) // count == 16: shift by 0
	w.putWord(w.nextWord, 0)
	w.writeUint16(0)
	if w.overflow || w.pos > len(w.dst) {
		return 0
	}
	return w.pos
}

// encode writes the code-length table and the Huffman-coded sequences.
func (c *Compressor) encode(dst []byte) int {
	for i := 0; i < tableBytes; i++ {
		dst[i] = c.lens[2*i] | c.lens[2*i+1]<<4
	}
	var w bitWriter
	w.init(dst, tableBytes)
	for _, s := range c.seqs {
		if w.overflow {
			return 0
		}
		sym := int(s.symbol)
		if s.offset == 0 {
			w.writeBits(uint32(c.codes[sym]), int(c.lens[sym]))
			continue
		}
		w.writeBits(uint32(c.codes[sym]), int(c.lens[sym]))
		if l := s.length - minMatchLen; l >= 15 {
			if l-15 < 255 {
				w.writeByte(byte(l - 15))
			} else {
				w.writeByte(255)
				w.writeUint16(uint16(l))
			}
		}
		offsetBits := (sym - numLiterals) >> 4
		w.writeBits(uint32(s.offset)&(1<<offsetBits-1), offsetBits)
	}
	w.writeBits(uint32(c.codes[numLiterals]), int(c.lens[numLiterals]))
	return w.finish()
}
