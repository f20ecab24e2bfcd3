package lzms

// A binary-tree match finder: for each hash of the next three bytes, the
// earlier positions form a binary search tree ordered by the bytes that
// follow them, so that walking it from the newest position finds the
// longest matches at increasing distance without visiting every candidate
// (the classic LZ77 technique). Inserting a position and searching from it
// are one walk, which also re-roots the tree at the new position.

// btFind inserts position i into the tree of its hash and, when out is not
// nil, appends the matches found, each longer than the previous one. Walks
// stop after depth nodes or at a match of niceLen bytes.
func (c *Compressor) btFind(data []byte, i int, out []lzMatch, record bool) []lzMatch {
	maxLen := len(data) - i
	if maxLen < minMatch {
		return out
	}
	nice := min(c.niceLen, maxLen)
	h := hash3(data, i, c.hashShift)
	cur := c.head[h]
	c.head[h] = int32(i)
	son := c.son
	// The trees hold the last len(son)/2 positions: a node's links live
	// at its position modulo that window, and older nodes are cut off.
	mask := len(son)/2 - 1
	oldest := int32(max(i-mask, 0))
	// ptrLeft and ptrRight are where the next smaller and greater nodes
	// are to be linked.
	ptrLeft, ptrRight := 2*(i&mask), 2*(i&mask)+1
	lenLeft, lenRight := 0, 0
	best := minMatch - 1
	for d := c.depth; ; d-- {
		if cur < oldest || d == 0 {
			son[ptrLeft], son[ptrRight] = -1, -1
			return out
		}
		j := int(cur)
		// Both links of j share a cache line: read them before the data
		// are compared, so that the two loads (each a likely cache miss
		// on a big window) overlap instead of following each other.
		jn := 2 * (j & mask)
		smaller, greater := son[jn], son[jn+1]
		l := min(lenLeft, lenRight)
		l += matchLen(data, i+l, j+l, nice-l)
		if l > best {
			best = l
			if record {
				out = append(out, lzMatch{length: uint32(l), off: uint32(i - j)})
			}
			if l >= nice {
				// The new node takes over both subtrees of the old one.
				son[ptrLeft], son[ptrRight] = smaller, greater
				return out
			}
		}
		if data[j+l] < data[i+l] {
			son[ptrLeft] = cur
			ptrLeft = jn + 1
			cur = greater
			lenLeft = l
		} else {
			son[ptrRight] = cur
			ptrRight = jn
			cur = smaller
			lenRight = l
		}
	}
}
