package lzx

// bitWriter writes LZX's bitstream: bits most significant first, packed into
// 16-bit little-endian words. Writing past the end of dst sets full instead
// of growing it.
type bitWriter struct {
	dst   []byte
	n     int
	buf   uint64 // pending bits in the low count bits
	count uint
	full  bool
}

func (w *bitWriter) init(dst []byte) {
	*w = bitWriter{dst: dst}
}

// write appends the low nbits (<= 32) bits of v.
func (w *bitWriter) write(v uint32, nbits uint) {
	w.buf = w.buf<<nbits | uint64(v)
	w.count += nbits
	for w.count >= 16 {
		w.count -= 16
		word := uint16(w.buf >> w.count)
		if w.n+2 > len(w.dst) {
			w.full = true
			return
		}
		w.dst[w.n] = byte(word)
		w.dst[w.n+1] = byte(word >> 8)
		w.n += 2
	}
}

// bits is how many bits have been written.
func (w *bitWriter) bits() int { return w.n*8 + int(w.count) }

// writeBytes appends raw bytes; the stream must be at a 16-bit boundary.
func (w *bitWriter) writeBytes(p []byte) {
	if w.n+len(p) > len(w.dst) {
		w.full = true
		return
	}
	copy(w.dst[w.n:], p)
	w.n += len(p)
}

// flush pads the last word with zero bits and returns the length written, or
// 0 if dst was too small.
func (w *bitWriter) flush() int {
	if w.count > 0 {
		w.write(0, 16-w.count)
	}
	if w.full {
		return 0
	}
	return w.n
}
