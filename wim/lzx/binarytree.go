package lzx

// lzMatch is a match candidate: length bytes at offset back.
type lzMatch struct {
	length uint16
	offset uint32
}

const (
	btHashBits = 16
	btHashSize = 1 << btHashBits
)

// binaryTrees finds, at each position, the matches of every length that can
// be had, each with the nearest offset giving that length. The positions
// with the same hash of their first three bytes form a binary search tree
// ordered by the strings that start there, rooted at the latest position; a
// search descends it and re-roots the tree at the new position in one walk.
type binaryTrees struct {
	data  []byte
	head  []int32
	child []int32 // 2*pos: smaller strings; 2*pos+1: larger strings
}

func (t *binaryTrees) reset(data []byte) {
	t.data = data
	if t.head == nil {
		t.head = make([]int32, btHashSize)
	}
	for i := range t.head {
		t.head[i] = -1
	}
	if cap(t.child) < 2*len(data) {
		t.child = make([]int32, 2*len(data))
	}
	t.child = t.child[:2*len(data)]
}

func btHash(data []byte, i int) uint32 {
	v := uint32(data[i]) | uint32(data[i+1])<<8 | uint32(data[i+2])<<16
	return (v * 0x9E3779B1) >> (32 - btHashBits)
}

// advance inserts position i and, when record is set, appends to it the
// matches found there in increasing length (at least 3 bytes, at most
// niceLen, nearest offset for each length). depth bounds the nodes visited.
func (t *binaryTrees) advance(i, niceLen, depth int, out []lzMatch, record bool) []lzMatch {
	data := t.data
	if i+3 > len(data) {
		return out
	}
	limit := min(maxMatch, len(data)-i)
	nice := min(niceLen, limit)
	h := btHash(data, i)
	cand := int(t.head[h])
	t.head[h] = int32(i)
	lt := 2 * i   // where the next node smaller than i's string goes
	gt := 2*i + 1 // where the next node larger than it goes
	lenLt, lenGt := 0, 0
	best := 2
	for cand >= 0 && depth > 0 {
		depth--
		l := min(lenLt, lenGt)
		l += matchLen(data, cand+l, i+l, limit-l)
		if l > best {
			best = l
			if record {
				out = append(out, lzMatch{length: uint16(l), offset: uint32(i - cand)})
			}
		}
		if l >= nice {
			// cand's string equals ours as far as we look: it takes its place.
			t.child[lt] = t.child[2*cand]
			t.child[gt] = t.child[2*cand+1]
			return out
		}
		if data[cand+l] < data[i+l] {
			t.child[lt] = int32(cand)
			lt = 2*cand + 1
			lenLt = l
			cand = int(t.child[2*cand+1])
		} else {
			t.child[gt] = int32(cand)
			gt = 2 * cand
			lenGt = l
			cand = int(t.child[2*cand])
		}
	}
	t.child[lt] = -1
	t.child[gt] = -1
	return out
}
