package xpress

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// Match finder parameters. The chain depth and "nice" length trade speed for
// ratio; the values were tuned against wimlib's default XPRESS compressor on
// a tree of Go sources and binaries (see docs/codecs.md).
const (
	hash4Bits = 15
	hash3Bits = 12
	// Chain depth at each position, and when looking one byte ahead.
	maxChainDepth  = 8
	lazyChainDepth = 4
	// A match this long ends the search.
	niceMatchLen = 32
	// Matches at least this long are taken without looking one byte ahead.
	lazyMatchLen = 16
	// A match of the minimum length far back costs more bits than the three
	// literals it replaces.
	maxFarMinMatchOffset = 1 << 11
)

// sequence is one parsed item: a literal byte (offset 0) or a match.
type sequence struct {
	length uint32 // match length, or the literal byte
	offset uint16 // 0 for a literal
	symbol uint16 // Huffman symbol
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
	head4   [1 << hash4Bits]uint16
	head3   [1 << hash3Bits]uint16
	prev    []uint16
	seqs    []sequence
	freq    [numSymbols]uint32
	lens    [numSymbols]uint8
	codes   [numSymbols]uint16
	builder codeBuilder
}

// NewCompressor returns a Compressor for chunks of at most maxChunk bytes
// (1 .. 64 KiB).
func NewCompressor(maxChunk int) (*Compressor, error) {
	if maxChunk < 1 || maxChunk > MaxChunkSize {
		return nil, fmt.Errorf("xpress: chunk size %d outside 1..%d", maxChunk, MaxChunkSize)
	}
	return &Compressor{
		maxChunk: maxChunk,
		prev:     make([]uint16, maxChunk),
		seqs:     make([]sequence, 0, maxChunk+1),
	}, nil
}

// Compress writes the compressed form of src (at most maxChunk bytes) to dst
// and returns its length, or 0 when it does not fit in dst; the caller then
// stores the chunk uncompressed.
func (c *Compressor) Compress(dst, src []byte) int {
	if len(src) == 0 || len(src) > c.maxChunk || len(dst) < tableBytes+4 {
		return 0
	}
	c.parse(src)
	c.freq = [numSymbols]uint32{}
	extraBytes := 0
	for _, s := range c.seqs {
		c.freq[s.symbol]++
		if s.offset != 0 {
			extraBytes += extraLengthBytes(s.length)
		}
	}
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

func hash4(b []byte, i int) uint32 {
	return (binary.LittleEndian.Uint32(b[i:]) * 0x9E3779B1) >> (32 - hash4Bits)
}

func hash3(b []byte, i int) uint32 {
	return ((binary.LittleEndian.Uint32(b[i:]) << 8) * 0x9E3779B1) >> (32 - hash3Bits)
}

// matchLen returns how many bytes at a and b agree, up to limit bytes
// (b > a, b+limit <= len(src)).
func matchLen(src []byte, a, b, limit int) int {
	n := 0
	for n+8 <= limit {
		x := binary.LittleEndian.Uint64(src[a+n:]) ^ binary.LittleEndian.Uint64(src[b+n:])
		if x != 0 {
			return n + bits.TrailingZeros64(x)/8
		}
		n += 8
	}
	for n < limit && src[a+n] == src[b+n] {
		n++
	}
	return n
}

// insert adds position i (i+4 <= len(src)) to the hash tables.
func (c *Compressor) insert(src []byte, i int) {
	h := hash4(src, i)
	c.prev[i] = c.head4[h]
	c.head4[h] = uint16(i + 1)
	c.head3[hash3(src, i)] = uint16(i + 1)
}

// longestMatch searches for the longest earlier match at position i, whose
// 3-byte hash must not be inserted yet (so head3 still names an earlier
// position) and whose chain entry must be. It returns length 0 when nothing
// reaches minMatchLen or improves on atLeast.
func (c *Compressor) longestMatch(src []byte, i, atLeast, depth int, cand3 int) (length, offset int) {
	limit := len(src) - i
	nice := min(niceMatchLen, limit)
	best := max(atLeast, minMatchLen-1)
	if best >= limit {
		return 0, 0
	}
	// A near match of exactly three bytes, which the 4-byte chains miss.
	if best < minMatchLen && cand3 >= 0 && i-cand3 <= maxFarMinMatchOffset &&
		src[cand3] == src[i] && src[cand3+1] == src[i+1] && src[cand3+2] == src[i+2] {
		best, offset = minMatchLen, i-cand3
	}
	if limit < 4 {
		if offset == 0 {
			return 0, 0
		}
		return best, offset
	}
	want := binary.LittleEndian.Uint32(src[i:])
	for cand := int(c.prev[i]) - 1; cand >= 0 && depth > 0; cand, depth = int(c.prev[cand])-1, depth-1 {
		if src[cand+best] == src[i+best] && binary.LittleEndian.Uint32(src[cand:]) == want {
			n := 4 + matchLen(src, cand+4, i+4, limit-4)
			if n > best {
				best, offset = n, i-cand
				if n >= nice {
					break
				}
			}
		}
	}
	if offset == 0 {
		return 0, 0
	}
	return best, offset
}

// parse splits src into literals and matches with a hash-chain match finder
// and one-step lazy evaluation: a match is deferred when the next position
// starts a longer one.
func (c *Compressor) parse(src []byte) {
	clear(c.head4[:])
	clear(c.head3[:])
	seqs := c.seqs[:0]
	n := len(src)
	hashEnd := n - 4 // last position with four bytes to hash
	next := 0        // positions before next are in the hash tables
	i := 0
	for i < n {
		// Search at i: bring the hash tables up to i-1, look up the 3-byte
		// candidate, insert i, walk its chain.
		for ; next < i && next <= hashEnd; next++ {
			c.insert(src, next)
		}
		var length, offset int
		if i <= hashEnd {
			cand3 := int(c.head3[hash3(src, i)]) - 1
			c.insert(src, i)
			next = i + 1
			length, offset = c.longestMatch(src, i, 0, maxChainDepth, cand3)
		} else if i+minMatchLen <= n {
			length, offset = c.longestMatch(src, i, 0, 0, int(c.head3[hash3tail(src, i)])-1)
		}
		if length == 0 {
			seqs = append(seqs, sequence{length: uint32(src[i]), symbol: uint16(src[i])})
			i++
			continue
		}
		// Lazy evaluation: while the next position has a longer match, emit
		// a literal instead and take that one.
		for length < lazyMatchLen && i+1 <= hashEnd {
			j := i + 1
			cand3 := int(c.head3[hash3(src, j)]) - 1
			c.insert(src, j)
			next = j + 1
			l2, o2 := c.longestMatch(src, j, length, lazyChainDepth, cand3)
			if l2 == 0 {
				break
			}
			seqs = append(seqs, sequence{length: uint32(src[i]), symbol: uint16(src[i])})
			i = j
			length, offset = l2, o2
		}
		seqs = append(seqs, sequence{length: uint32(length), offset: uint16(offset),
			symbol: uint16(matchSymbol(uint32(length), uint32(offset)))})
		i += length
	}
	c.seqs = seqs
}

// hash3tail is hash3 for the last three bytes of the input.
func hash3tail(b []byte, i int) uint32 {
	v := uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16
	return ((v << 8) * 0x9E3779B1) >> (32 - hash3Bits)
}
