package xpress

// The encoder as it was before the change TestCompressAB measures (main at
// the start of the change), renamed, with its own constants and tables.

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// Match finder and parser parameters, tuned against wimlib's default XPRESS
// compressor on Go sources and binaries in 32 KiB chunks (docs/codecs.md):
// with these our output is no larger than wimlib's, also on executables,
// which need the deeper chains (depth 16/8 was 1.001x wimlib's size there).
const (
	// Chain depth at each position, and when looking one byte ahead.
	oldSearchDepth = 24
	oldLazyDepth   = 12
	// A match this long ends the search.
	oldNiceMatchLen = 48
	// Matches at least this long are taken without looking one byte ahead.
	oldLazyMatchLen = 24
	// Estimated cost in bits of a literal and of a match symbol, for
	// weighing a match's length against its offset bits.
	oldLiteralBits = 6
	oldSymbolBits  = 8
	// A match found one byte later must save this many more bits to be
	// preferred (the current match may be followed by another one).
	oldLazyBias = 1
	// After 1<<oldMissShift failed searches in a row only every other
	// position is searched, after twice as many every third, and so on:
	// data that does not match costs less time.
	oldMissShift = 5
)

const (
	oldHash4Bits = 15
	oldHash3Bits = 12
)

// oldSequence is one parsed item: a literal byte (offset 0) or a match.
type oldSequence struct {
	length uint32 // match length, or the literal byte
	offset uint16 // 0 for a literal
	symbol uint16 // Huffman symbol
}

// oldCompressor compresses WIM chunks with XPRESS Huffman. Use one per
// goroutine; it reuses its buffers between chunks.
type oldCompressor struct {
	maxChunk int
	// Chains of earlier positions with the same 4-byte hash: head4 holds
	// position+1 of the latest (0: none), prev[p] position+1 of the one
	// before p. head3 remembers the latest position+1 for each 3-byte hash,
	// for matches of exactly the minimum length. Positions past 65532 are
	// never inserted (four bytes must follow), so position+1 fits 16 bits.
	head4 [1 << oldHash4Bits]uint16
	head3 [1 << oldHash3Bits]uint16
	prev  *[MaxChunkSize]uint16
	// win holds the chunk being compressed. Indexed by 16-bit positions, a
	// fixed-size array needs no bounds checks in the match finder.
	win     *oldWindow
	seqs    []oldSequence
	freq    [numSymbols]uint32
	lens    [numSymbols]uint8
	codes   [numSymbols]uint16
	builder codeBuilder
}

// oldNewCompressor returns a oldCompressor for chunks of at most maxChunk bytes
// (1 .. 64 KiB).
func oldNewCompressor(maxChunk int) (*oldCompressor, error) {
	if maxChunk < 1 || maxChunk > MaxChunkSize {
		return nil, fmt.Errorf("xpress: chunk size %d outside 1..%d", maxChunk, MaxChunkSize)
	}
	return &oldCompressor{
		maxChunk: maxChunk,
		prev:     new([MaxChunkSize]uint16),
		win:      new(oldWindow),
		seqs:     make([]oldSequence, 0, maxChunk),
	}, nil
}

// Compress writes the compressed form of src (at most maxChunk bytes) to dst
// and returns its length, or 0 when it does not fit in dst; the caller then
// stores the chunk uncompressed.
func (c *oldCompressor) Compress(dst, src []byte) int {
	if len(src) == 0 || len(src) > c.maxChunk || len(dst) < tableBytes+4 {
		return 0
	}
	c.freq = [numSymbols]uint32{}
	extraBytes := c.parse(src)
	// End-of-data symbol: not needed by decoders that know the chunk size,
	// but Microsoft's and wimlib's compressors write it, so we do too.
	c.freq[numLiterals]++
	c.builder.buildLengths(&c.freq, &c.lens)
	// The exact output size is known before encoding: skip the work when the
	// chunk will be stored raw anyway.
	if oldEncodedSize(&c.freq, &c.lens, extraBytes) > len(dst) {
		return 0
	}
	canonicalCodes(&c.lens, &c.codes)
	return c.encode(dst)
}

// oldExtraLengthBytes is the number of bytes a match length needs after its
// symbol: none below 18, one below 270, three above.
func oldExtraLengthBytes(length uint32) int {
	switch l := length - minMatchLen; {
	case l < 15:
		return 0
	case l-15 < 255:
		return 1
	}
	return 3
}

// oldEncodedSize returns the length of the stream encode writes: the table,
// the 16-bit words (the writer always holds two word slots, opens one more
// each time a word overflows, and ends with a slack word) and the extra
// length bytes.
func oldEncodedSize(freq *[numSymbols]uint32, lens *[numSymbols]uint8, extraBytes int) int {
	bits := 0
	for sym, f := range freq {
		if f != 0 {
			offsetBits := 0
			if sym >= numLiterals {
				offsetBits = (sym - numLiterals) >> 4
			}
			bits += int(f) * (int(lens[sym]) + offsetBits)
		}
	}
	words := 3 // two slots always reserved, and the trailing slack word
	if bits > 16 {
		words += (bits - 1) / 16
	}
	return tableBytes + 2*words + extraBytes
}

// oldMatchSymbol returns the Huffman symbol of a match: 256 + the offset's bit
// length (high nibble) and min(length-3, 15) (low nibble).
func oldMatchSymbol(length, offset uint32) int {
	l := length - minMatchLen
	if l > 15 {
		l = 15
	}
	return numLiterals + (bits.Len32(offset)-1)<<4 + int(l)
}

// oldWindow is a chunk's bytes, followed by slack so that a 4- or 8-byte load
// at any 16-bit position stays inside the array.
type oldWindow [MaxChunkSize + 8]byte

// load32 returns the four bytes at position p (p < MaxChunkSize).
func (w *oldWindow) load32(p int) uint32 {
	return binary.LittleEndian.Uint32(w[uint16(p):])
}

// load64 returns the eight bytes at position p (p < MaxChunkSize).
func (w *oldWindow) load64(p int) uint64 {
	return binary.LittleEndian.Uint64(w[uint16(p):])
}

// matchLen returns how many bytes at a and b agree, up to limit bytes
// (a < b, b+limit <= the chunk length).
func (w *oldWindow) matchLen(a, b, limit int) int {
	n := 0
	for n+8 <= limit {
		x := w.load64(a+n) ^ w.load64(b+n)
		if x != 0 {
			return n + bits.TrailingZeros64(x)/8
		}
		n += 8
	}
	for n < limit && w[uint16(a+n)] == w[uint16(b+n)] {
		n++
	}
	return n
}

// insert adds position i (i+4 <= chunk length) to the hash tables and
// returns the latest earlier position with the same 3-byte hash, or -1.
func (c *oldCompressor) insert(w *oldWindow, i int) int {
	v := w.load32(i)
	h4 := (v * 0x9E3779B1) >> (32 - oldHash4Bits)
	h3 := ((v << 8) * 0x9E3779B1) >> (32 - oldHash3Bits)
	c.prev[uint16(i)] = c.head4[h4]
	c.head4[h4] = uint16(i + 1)
	cand3 := int(c.head3[h3]) - 1
	c.head3[h3] = uint16(i + 1)
	return cand3
}

// oldGain estimates the bits a match saves over coding its bytes as literals.
func oldGain(length, offset int) int {
	g := length*oldLiteralBits - oldSymbolBits - (bits.Len32(uint32(offset)) - 1)
	if length >= minMatchLen+15 {
		g -= 8
	}
	return g
}

// bestMatch searches for the best earlier match at position i of a chunk
// of n bytes; i must be inserted already. cand3 is the latest earlier
// position with the same 3-byte hash (or -1), for matches of exactly the
// minimum length, which the 4-byte chains miss. Among candidates it prefers
// the longer match unless the extra offset bits cost more than the length
// saves. It returns length 0 when no match saves more than minGain bits.
func (c *oldCompressor) bestMatch(w *oldWindow, n, i, minGain, depth, cand3 int) (length, offset, bestGain int) {
	limit := n - i
	best := minMatchLen - 1
	bestGain = minGain
	if cand3 >= 0 && w.load32(cand3)&0xFFFFFF == w.load32(i)&0xFFFFFF {
		if g := oldGain(minMatchLen, i-cand3); g > bestGain {
			best, offset, bestGain = minMatchLen, i-cand3, g
		}
	}
	if limit < 4 {
		if offset == 0 {
			return 0, 0, minGain
		}
		return best, offset, bestGain
	}
	nice := min(oldNiceMatchLen, limit)
	want := w.load32(i)
	// A match no longer than shortest saves at most minGain bits even at
	// offset 1: skip candidates that cannot beat it (the lazy step asks for
	// more than the current match saves). At least minMatchLen: a chain
	// candidate must then agree on four bytes, and cand+best-3 >= cand.
	shortest := (minGain + oldSymbolBits) / oldLiteralBits
	best = max(best, minMatchLen, shortest)
	prev := c.prev
	for cand := int(prev[uint16(i)]) - 1; cand >= 0 && depth > 0; cand, depth = int(prev[uint16(cand)])-1, depth-1 {
		// Most candidates fail on the four bytes that end one past the best
		// length so far: test them first (they overlap the first four
		// while best < 7).
		if w.load32(cand+best-3) != w.load32(i+best-3) || w.load32(cand) != want {
			continue
		}
		l := 4 + w.matchLen(cand+4, i+4, limit-4)
		if l > best {
			if g := oldGain(l, i-cand); g > bestGain {
				best, offset, bestGain = l, i-cand, g
				if l >= nice {
					break
				}
			}
		}
	}
	if offset == 0 {
		return 0, 0, minGain
	}
	return best, offset, bestGain
}

// parse splits src into literals and matches with one-step lazy
// evaluation: a match is deferred when the next position starts one that
// saves more bits. It counts the symbols in c.freq and returns the number
// of extra length bytes.
func (c *oldCompressor) parse(src []byte) (extraBytes int) {
	clear(c.head4[:])
	clear(c.head3[:])
	w := c.win
	n := copy(w[:], src)
	head4, head3, prev, freq := &c.head4, &c.head3, c.prev, &c.freq
	// One oldSequence per input byte at most: stored by index, not appended.
	seqs := c.seqs[:n]
	k := 0
	hashEnd := n - 4 // last position with four bytes to hash
	next := 0        // positions before next are in the hash tables
	i := 0
	misses := 0
	for i < n {
		// Bring the hash tables up to i-1.
		for end := min(i, hashEnd+1); next < end; next++ {
			v := w.load32(next)
			h4 := (v * 0x9E3779B1) >> (32 - oldHash4Bits)
			h3 := ((v << 8) * 0x9E3779B1) >> (32 - oldHash3Bits)
			prev[uint16(next)] = head4[h4]
			head4[h4] = uint16(next + 1)
			head3[h3] = uint16(next + 1)
		}
		var length, offset, g int
		if i <= hashEnd {
			cand3 := c.insert(w, i)
			next = i + 1
			length, offset, g = c.bestMatch(w, n, i, 0, oldSearchDepth, cand3)
		} else if i+minMatchLen <= n {
			length, offset, g = c.bestMatch(w, n, i, 0, 0, int(head3[oldHash3tail(src, i)])-1)
		}
		if length == 0 {
			// In data that does not match, look less often.
			misses++
			end := min(i+1+misses>>oldMissShift, n)
			for ; i < end; i++ {
				b := w[uint16(i)]
				seqs[k] = oldSequence{length: uint32(b), symbol: uint16(b)}
				k++
				freq[b]++
			}
			continue
		}
		misses = 0
		// Lazy evaluation: while the next position has a better match, emit
		// a literal instead and take that one.
		for length < oldLazyMatchLen && i+1 <= hashEnd {
			j := i + 1
			cand3 := c.insert(w, j)
			next = j + 1
			l2, o2, g2 := c.bestMatch(w, n, j, g+oldLazyBias, oldLazyDepth, cand3)
			if l2 == 0 {
				break
			}
			b := w[uint16(i)]
			seqs[k] = oldSequence{length: uint32(b), symbol: uint16(b)}
			k++
			freq[b]++
			i = j
			length, offset, g = l2, o2, g2
		}
		sym := oldMatchSymbol(uint32(length), uint32(offset))
		seqs[k] = oldSequence{length: uint32(length), offset: uint16(offset), symbol: uint16(sym)}
		k++
		freq[sym&(numSymbols-1)]++
		extraBytes += oldExtraLengthBytes(uint32(length))
		i += length
	}
	c.seqs = seqs[:k]
	return extraBytes
}

// oldHash3tail is insert's 3-byte hash for the last three bytes of the input.
func oldHash3tail(b []byte, i int) uint32 {
	v := uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16
	return ((v << 8) * 0x9E3779B1) >> (32 - oldHash3Bits)
}

// encode writes the code-length table and the Huffman-coded sequences; the
// caller has checked with oldEncodedSize that they fit in dst.
//
// The bit stream is 16-bit little-endian words, most significant bit
// first, with extra length bytes placed where the decoder will look for
// them. The decoder always holds the word being read and the next one, so
// the writer keeps two word slots reserved ahead of the byte position: a
// byte written now lands after both. A full word stays pending until a bit
// of the following word arrives: the decoder loads a new word only then,
// and extra length bytes written in between must land before it.
func (c *oldCompressor) encode(dst []byte) int {
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
