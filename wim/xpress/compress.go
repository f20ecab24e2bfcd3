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
	hashBits      = 15
	maxChainDepth = 24
	niceMatchLen  = 64
	// A match of the minimum length far back costs more bits than the three
	// literals it replaces.
	maxFarMinMatchOffset = 1 << 11
)

// sequence is one parsed item: a literal byte (offset 0) or a match.
type sequence struct {
	length uint32 // match length, or the literal byte
	offset uint32 // 0 for a literal
}

// Compressor compresses WIM chunks with XPRESS Huffman. Use one per
// goroutine; it reuses its buffers between chunks.
type Compressor struct {
	maxChunk int
	head     [1 << hashBits]int32
	prev     []int32
	seqs     []sequence
	freq     [numSymbols]uint32
	lens     [numSymbols]uint8
	codes    [numSymbols]uint16
	builder  codeBuilder
}

// NewCompressor returns a Compressor for chunks of at most maxChunk bytes
// (1 .. 64 KiB).
func NewCompressor(maxChunk int) (*Compressor, error) {
	if maxChunk < 1 || maxChunk > MaxChunkSize {
		return nil, fmt.Errorf("xpress: chunk size %d outside 1..%d", maxChunk, MaxChunkSize)
	}
	return &Compressor{
		maxChunk: maxChunk,
		prev:     make([]int32, maxChunk),
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
	for _, s := range c.seqs {
		if s.offset == 0 {
			c.freq[s.length]++
		} else {
			c.freq[matchSymbol(s.length, s.offset)]++
		}
	}
	// End-of-data symbol: not needed by decoders that know the chunk size,
	// but Microsoft's and wimlib's compressors write it, so we do too.
	c.freq[numLiterals]++
	c.builder.buildLengths(&c.freq, &c.lens)
	canonicalCodes(&c.lens, &c.codes)
	return c.encode(dst)
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

func hash3(b []byte, i int) uint32 {
	v := uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16
	return (v * 0x9E3779B1) >> (32 - hashBits)
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

// insert adds position i to the hash chains.
func (c *Compressor) insert(src []byte, i int) {
	h := hash3(src, i)
	c.prev[i] = c.head[h]
	c.head[h] = int32(i)
}

// longestMatch searches the chain of position i (already inserted) for the
// longest earlier match; it returns length 0 when none reaches minMatchLen
// or improves on atLeast.
func (c *Compressor) longestMatch(src []byte, i, atLeast, depth int) (length, offset int) {
	limit := len(src) - i
	if limit < minMatchLen {
		return 0, 0
	}
	nice := niceMatchLen
	if nice > limit {
		nice = limit
	}
	best := atLeast
	if best < minMatchLen-1 {
		best = minMatchLen - 1
	}
	if best >= limit {
		return 0, 0
	}
	for cand := int(c.prev[i]); cand >= 0 && depth > 0; cand, depth = int(c.prev[cand]), depth-1 {
		if i-cand > maxOffset {
			break
		}
		if src[cand+best] != src[i+best] || src[cand] != src[i] {
			continue
		}
		n := matchLen(src, cand, i, limit)
		if n > best {
			if n == minMatchLen && i-cand > maxFarMinMatchOffset {
				continue
			}
			best, offset = n, i-cand
			if n >= nice {
				break
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
	for i := range c.head {
		c.head[i] = -1
	}
	seqs := c.seqs[:0]
	n := len(src)
	hashEnd := n - minMatchLen // last position with three bytes to hash
	next := 0                  // positions before next are in the hash chains
	insertUpTo := func(p int) {
		if p > hashEnd {
			p = hashEnd
		}
		for ; next <= p; next++ {
			c.insert(src, next)
		}
	}
	i := 0
	for i < n {
		if i > hashEnd {
			seqs = append(seqs, sequence{length: uint32(src[i])})
			i++
			continue
		}
		insertUpTo(i)
		length, offset := c.longestMatch(src, i, 0, maxChainDepth)
		if length == 0 {
			seqs = append(seqs, sequence{length: uint32(src[i])})
			i++
			continue
		}
		// Lazy evaluation: while the next position has a longer match, emit
		// a literal instead and take that one.
		for length < niceMatchLen && i+1 <= hashEnd {
			insertUpTo(i + 1)
			l2, o2 := c.longestMatch(src, i+1, length, maxChainDepth/2)
			if l2 == 0 {
				break
			}
			seqs = append(seqs, sequence{length: uint32(src[i])})
			i++
			length, offset = l2, o2
		}
		seqs = append(seqs, sequence{length: uint32(length), offset: uint32(offset)})
		i += length
	}
	c.seqs = seqs
}
