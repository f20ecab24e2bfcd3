package xpress

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
	searchDepth = 24
	lazyDepth   = 12
	// A match this long ends the search.
	niceMatchLen = 48
	// Matches at least this long are taken without looking one byte ahead.
	lazyMatchLen = 24
	// Estimated cost in bits of a literal and of a match symbol, for
	// weighing a match's length against its offset bits.
	literalBits = 6
	symbolBits  = 8
	// A match found one byte later must save this many more bits to be
	// preferred (the current match may be followed by another one).
	lazyBias = 1
	// After 1<<missShift failed searches in a row only every other
	// position is searched, after twice as many every third, and so on:
	// data that does not match costs less time.
	missShift = 5
)

const (
	hash4Bits = 15
	hash3Bits = 12
)

// sequence is one parsed item: a literal byte (offset 0) or a match.
type sequence struct {
	length uint32 // match length; 0 for a literal
	offset uint16 // the offset's low bits (below its leading 1); 0 for a literal
	symbol uint16 // Huffman symbol (the byte, for a literal)
}

// Compressor compresses WIM chunks with XPRESS Huffman. Use one per
// goroutine; it reuses its buffers between chunks.
type Compressor struct {
	maxChunk int
	// Chains of earlier positions with the same 4-byte hash: head4 holds
	// position+1 of the latest (0: none), prev[p] position+1 of the one
	// before p. head3 remembers the latest position+1 for each 3-byte hash,
	// for matches of exactly the minimum length. Positions past 65532 are
	// never inserted (four bytes must follow), so position+1 fits 16 bits.
	head4 [1 << hash4Bits]uint16
	head3 [1 << hash3Bits]uint16
	prev  *[MaxChunkSize]uint16
	// win holds the chunk being compressed. Indexed by 16-bit positions, a
	// fixed-size array needs no bounds checks in the match finder.
	win     *window
	seqs    []sequence
	freq    [numSymbols]uint32
	lens    [numSymbols]uint8
	codes   [numSymbols]uint16
	enc     [numSymbols]uint64 // encode's table
	builder codeBuilder
	// goSearch makes parse use bestMatch even where an assembly version
	// exists: for the tests that hold the two to the same output.
	goSearch bool
}

// NewCompressor returns a Compressor for chunks of at most maxChunk bytes
// (1 .. 64 KiB).
func NewCompressor(maxChunk int) (*Compressor, error) {
	if maxChunk < 1 || maxChunk > MaxChunkSize {
		return nil, fmt.Errorf("xpress: chunk size %d outside 1..%d", maxChunk, MaxChunkSize)
	}
	return &Compressor{
		maxChunk: maxChunk,
		prev:     new([MaxChunkSize]uint16),
		win:      new(window),
		seqs:     make([]sequence, 0, maxChunk),
	}, nil
}

// Compress writes the compressed form of src (at most maxChunk bytes) to dst
// and returns its length, or 0 when it does not fit in dst; the caller then
// stores the chunk uncompressed.
func (c *Compressor) Compress(dst, src []byte) int {
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
	if encodedSize(&c.freq, &c.lens, extraBytes) > len(dst) {
		return 0
	}
	canonicalCodes(&c.lens, &c.codes)
	return c.encode(dst)
}

// extraLengthBytes is the number of bytes a match length needs after its
// symbol: none below 18, one below 270, three above.
func extraLengthBytes(length uint32) int {
	switch l := length - minMatchLen; {
	case l < 15:
		return 0
	case l-15 < 255:
		return 1
	}
	return 3
}

// encodedSize returns the length of the stream encode writes: the table,
// the 16-bit words (the writer always holds two word slots, opens one more
// each time a word overflows, and ends with a slack word) and the extra
// length bytes.
func encodedSize(freq *[numSymbols]uint32, lens *[numSymbols]uint8, extraBytes int) int {
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

// matchSymbol returns the Huffman symbol of a match: 256 + the offset's bit
// length (high nibble) and min(length-3, 15) (low nibble).
func matchSymbol(length, offset uint32) int {
	l := length - minMatchLen
	if l > 15 {
		l = 15
	}
	return numLiterals + (bits.Len32(offset)-1)<<4 + int(l)
}

// window is a chunk's bytes, followed by slack so that a 4- or 8-byte load
// at any 16-bit position stays inside the array.
type window [MaxChunkSize + 8]byte

// load32 returns the four bytes at position p (p < MaxChunkSize).
func (w *window) load32(p int) uint32 {
	return binary.LittleEndian.Uint32(w[uint16(p):])
}

// load64 returns the eight bytes at position p (p < MaxChunkSize).
func (w *window) load64(p int) uint64 {
	return binary.LittleEndian.Uint64(w[uint16(p):])
}

// matchLen returns how many bytes at a and b agree, up to limit bytes
// (a < b, b+limit <= the chunk length).
func (w *window) matchLen(a, b, limit int) int {
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
func (c *Compressor) insert(w *window, i int) int {
	v := w.load32(i)
	h4 := (v * 0x9E3779B1) >> (32 - hash4Bits)
	h3 := ((v << 8) * 0x9E3779B1) >> (32 - hash3Bits)
	c.prev[uint16(i)] = c.head4[h4]
	c.head4[h4] = uint16(i + 1)
	cand3 := int(c.head3[h3]) - 1
	c.head3[h3] = uint16(i + 1)
	return cand3
}

// gain estimates the bits a match saves over coding its bytes as literals.
func gain(length, offset int) int {
	g := length*literalBits - symbolBits - (bits.Len32(uint32(offset)) - 1)
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
// saves. It returns length 0 when no match of at least minLen bytes saves
// more than minGain bits.
func (c *Compressor) bestMatch(w *window, n, i, minGain, minLen, depth, cand3 int) (length, offset, bestGain int) {
	limit := n - i
	best := max(minMatchLen, minLen) - 1 // a match must be longer
	bestGain = minGain
	if cand3 >= 0 && best < minMatchLen && w.load32(cand3)&0xFFFFFF == w.load32(i)&0xFFFFFF {
		if g := gain(minMatchLen, i-cand3); g > bestGain {
			best, offset, bestGain = minMatchLen, i-cand3, g
		}
	}
	if limit < 4 {
		if offset == 0 {
			return 0, 0, minGain
		}
		return best, offset, bestGain
	}
	nice := min(niceMatchLen, limit)
	want := w.load32(i)
	// A match no longer than shortest saves at most minGain bits even at
	// offset 1: skip candidates that cannot beat it (the lazy step asks for
	// more than the current match saves). At least minMatchLen: a chain
	// candidate must then agree on four bytes, and cand+best-3 >= cand.
	// (When the 3-byte candidate was taken, minGain < 10 and shortest <= 2:
	// best stays its length.)
	shortest := (minGain + symbolBits) / literalBits
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
			if g := gain(l, i-cand); g > bestGain {
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
func (c *Compressor) parse(src []byte) (extraBytes int) {
	clear(c.head4[:])
	clear(c.head3[:])
	w := c.win
	n := copy(w[:], src)
	head4, head3, prev, freq := &c.head4, &c.head3, c.prev, &c.freq
	// The match search in assembly where there is one (search_amd64.s);
	// bestMatch is the oracle it is tested against, and the search of
	// the last three bytes (no chain to walk).
	asm := haveBestMatchAsm && !c.goSearch
	// One sequence per input byte at most: stored by index, not appended.
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
			h4 := (v * 0x9E3779B1) >> (32 - hash4Bits)
			h3 := ((v << 8) * 0x9E3779B1) >> (32 - hash3Bits)
			prev[uint16(next)] = head4[h4]
			head4[h4] = uint16(next + 1)
			head3[h3] = uint16(next + 1)
		}
		var length, offset, g int
		if i <= hashEnd {
			cand3 := c.insert(w, i)
			next = i + 1
			if asm {
				length, offset, g = bestMatchAsm(w, prev, n, i, 0, 0, searchDepth, cand3)
			} else {
				length, offset, g = c.bestMatch(w, n, i, 0, 0, searchDepth, cand3)
			}
		} else if i+minMatchLen <= n {
			length, offset, g = c.bestMatch(w, n, i, 0, 0, 0, int(head3[hash3tail(src, i)])-1)
		}
		if length == 0 {
			// In data that does not match, look less often.
			misses++
			end := min(i+1+misses>>missShift, n)
			for ; i < end; i++ {
				b := w[uint16(i)]
				seqs[k] = sequence{symbol: uint16(b)}
				k++
				freq[b]++
			}
			continue
		}
		misses = 0
		// Lazy evaluation: while the next position has a better match, emit
		// a literal instead and take that one.
		for length < lazyMatchLen && i+1 <= hashEnd {
			j := i + 1
			cand3 := c.insert(w, j)
			next = j + 1
			// Only a match at j that reaches past the end of this one is
			// taken instead (one ending at the same byte rarely saves more,
			// and would need a much nearer offset): the four bytes that end
			// one past this match must have been seen before, and a
			// candidate is tested on them first.
			if e := i + length - 3; e <= hashEnd && head4[(w.load32(e)*0x9E3779B1)>>(32-hash4Bits)] == 0 {
				break
			}
			var l2, o2, g2 int
			if asm {
				l2, o2, g2 = bestMatchAsm(w, prev, n, j, g+lazyBias, length, lazyDepth, cand3)
			} else {
				l2, o2, g2 = c.bestMatch(w, n, j, g+lazyBias, length, lazyDepth, cand3)
			}
			if l2 == 0 {
				break
			}
			b := w[uint16(i)]
			seqs[k] = sequence{symbol: uint16(b)}
			k++
			freq[b]++
			i = j
			length, offset, g = l2, o2, g2
		}
		sym := matchSymbol(uint32(length), uint32(offset))
		// The offset without its leading 1 bit: the bits the encoder writes.
		seqs[k] = sequence{length: uint32(length), offset: uint16(offset) &^ (0x8000 >> bits.LeadingZeros16(uint16(offset))), symbol: uint16(sym)}
		k++
		freq[sym&(numSymbols-1)]++
		extraBytes += extraLengthBytes(uint32(length))
		i += length
	}
	c.seqs = seqs[:k]
	return extraBytes
}

// hash3tail is insert's 3-byte hash for the last three bytes of the input.
func hash3tail(b []byte, i int) uint32 {
	v := uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16
	return ((v << 8) * 0x9E3779B1) >> (32 - hash3Bits)
}
