package lzx

import "encoding/binary"

// lzMatch is a match candidate: length bytes at offset back.
type lzMatch struct {
	length uint16
	offset uint32
}

const (
	btHashBits  = 14
	btHash3Bits = 15
)

// binaryTrees finds, at each position, the matches of every length that can
// be had, each with the nearest offset giving that length (or nearly so).
// The positions with the same hash of their first four bytes form a binary
// search tree ordered by the strings that start there, rooted at the latest
// position; a search descends it and re-roots the tree at the new position
// in one walk. Three-byte matches come from a table holding the latest
// position of each hash of three bytes: the nearest one is the only one
// worth its offset, and keeping them out of the trees makes the trees (and
// so each descent) smaller.
type binaryTrees struct {
	data  []byte
	head  []int32
	head3 []int32
	child []int32 // 2*pos: smaller strings; 2*pos+1: larger strings
	// equalLens records, beside the nearest match of each length, the
	// farther ones as long as the longest so far: their extra bits may
	// cost less (aligned blocks code the low three with a Huffman code), or
	// the parse may want their offset as a repeated offset later.
	equalLens bool
}

func (t *binaryTrees) reset(data []byte) {
	t.data = data
	if t.head == nil {
		t.head = make([]int32, 1<<btHashBits)
		t.head3 = make([]int32, 1<<btHash3Bits)
	}
	for i := range t.head {
		t.head[i] = -1
	}
	for i := range t.head3 {
		t.head3[i] = -1
	}
	if cap(t.child) < 2*len(data) {
		t.child = make([]int32, 2*len(data))
	}
	t.child = t.child[:2*len(data)]
}

func btHash4(v uint32) uint32 { return (v * 0x9E3779B1) >> (32 - btHashBits) }

func btHash3(v uint32) uint32 { return ((v << 8) * 0x9E3779B1) >> (32 - btHash3Bits) }

// advance inserts position i and, when record is set, appends to it the
// matches found there in increasing length (at least 3 bytes, at most
// niceLen). depth bounds the tree nodes visited.
func (t *binaryTrees) advance(i, niceLen, depth int, out []lzMatch, record bool) []lzMatch {
	data := t.data
	if i+4 > len(data) {
		if i+3 == len(data) {
			h3 := btHash3(uint32(data[i]) | uint32(data[i+1])<<8 | uint32(data[i+2])<<16)
			cand := int(t.head3[h3])
			t.head3[h3] = int32(i)
			if record && cand >= 0 && data[cand] == data[i] && data[cand+1] == data[i+1] && data[cand+2] == data[i+2] {
				out = append(out, lzMatch{length: 3, offset: uint32(i - cand)})
			}
		}
		return out
	}
	limit := min(maxMatch, len(data)-i)
	nice := min(niceLen, limit)
	v := binary.LittleEndian.Uint32(data[i:])
	best := 3
	h3 := btHash3(v)
	if c3 := int(t.head3[h3]); c3 >= 0 && record {
		// The nearest position with the same three bytes gives the
		// nearest match of each length up to its own.
		if l := matchLen(data, c3, i, limit); l >= 3 {
			out = append(out, lzMatch{length: uint16(l), offset: uint32(i - c3)})
			best = l
		}
	}
	t.head3[h3] = int32(i)
	h := btHash4(v)
	cand := int(t.head[h])
	t.head[h] = int32(i)
	child := t.child
	lt := 2 * i   // where the next node smaller than i's string goes
	gt := 2*i + 1 // where the next node larger than it goes
	lenLt, lenGt := 0, 0
	// With 8 bytes to spare past nice, a node's strings are compared
	// a word at a time without checking for the end of the data.
	wordwise := i+nice+8 <= len(data)
	for cand >= 0 && depth > 0 {
		depth--
		l := min(lenLt, lenGt)
		// Comparing past nice gains nothing but the length of the
		// match that ends the search, found below when it is wanted.
		if wordwise {
			for {
				x := binary.LittleEndian.Uint64(data[cand+l:]) ^ binary.LittleEndian.Uint64(data[i+l:])
				if x != 0 {
					l = min(l+trailingZeroBytes(x), nice)
					break
				}
				if l += 8; l >= nice {
					l = nice
					break
				}
			}
		} else {
			l += matchLen(data, cand+l, i+l, nice-l)
		}
		if l > best || (l == best && t.equalLens) {
			best = l
			if record {
				if l >= nice {
					l += matchLen(data, cand+l, i+l, limit-l)
				}
				out = append(out, lzMatch{length: uint16(l), offset: uint32(i - cand)})
			}
		}
		if l >= nice {
			// cand's string equals ours as far as we look: it takes its place.
			child[lt] = child[2*cand]
			child[gt] = child[2*cand+1]
			return out
		}
		if data[cand+l] < data[i+l] {
			child[lt] = int32(cand)
			lt = 2*cand + 1
			lenLt = l
			cand = int(child[lt])
		} else {
			child[gt] = int32(cand)
			gt = 2 * cand
			lenGt = l
			cand = int(child[gt])
		}
	}
	child[lt] = -1
	child[gt] = -1
	return out
}
