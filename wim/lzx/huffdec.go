package lzx

// decodeTable is a two-level canonical Huffman decoding table. The first
// 1<<rootBits entries are indexed by the next rootBits bits of input; codes
// longer than that lead to a sub-table indexed by the following bits up to
// the longest code length.
//
// An entry is sym<<8 | length. A zero length marks a bit pattern no code
// word has (the code may be incomplete; reaching such a pattern is an
// error). An entry with linkFlag set points to a sub-table starting at sym.
type decodeTable struct {
	rootBits uint
	subBits  uint // maxLen - rootBits, when there are sub-tables
	maxLen   uint
	entries  []uint32
}

const linkFlag = 0x80

// build makes the table for the code with these lengths (0 = unused). It
// fails if the lengths over-subscribe the code space.
func (t *decodeTable) build(lens []uint8, rootBits uint) error {
	var count [17]int
	maxLen := uint(0)
	for _, l := range lens {
		if l > 16 {
			return corruptf("code length %d", l)
		}
		count[l]++
		if l != 0 && uint(l) > maxLen {
			maxLen = uint(l)
		}
	}
	// Check the Kraft sum: the code must not be over-subscribed.
	left := 1
	for l := 1; l <= 16; l++ {
		left <<= 1
		left -= count[l]
		if left < 0 {
			return corruptf("over-subscribed Huffman code")
		}
	}
	t.rootBits = rootBits
	t.maxLen = maxLen
	t.subBits = 0
	if maxLen > rootBits {
		t.subBits = maxLen - rootBits
	}
	rootSize := 1 << rootBits
	if cap(t.entries) < rootSize {
		t.entries = make([]uint32, rootSize, rootSize+(1<<10))
	}
	t.entries = t.entries[:rootSize]
	clear(t.entries)

	// First canonical code of each length.
	var next [17]uint32
	code := uint32(0)
	for l := 1; l <= 16; l++ {
		next[l] = code
		code = (code + uint32(count[l])) << 1
	}

	// Within one length, canonical codes follow symbol order, so one pass
	// in symbol order assigns them all.
	subSize := 1 << t.subBits
	for sym, sl := range lens {
		if sl == 0 {
			continue
		}
		l := uint(sl)
		c := next[l]
		next[l]++
		entry := uint32(sym)<<8 | uint32(l)
		if l <= rootBits {
			start := int(c << (rootBits - l))
			fill := t.entries[start : start+(1<<(rootBits-l))]
			for i := range fill {
				fill[i] = entry
			}
			continue
		}
		prefix := c >> (l - rootBits)
		link := t.entries[prefix]
		if link == 0 {
			link = uint32(len(t.entries))<<8 | linkFlag
			t.entries[prefix] = link
			t.entries = append(t.entries, make([]uint32, subSize)...)
		}
		base := int(link >> 8)
		low := c & (1<<(l-rootBits) - 1)
		start := base + int(low<<(maxLen-l))
		fill := t.entries[start : start+(1<<(maxLen-l))]
		for i := range fill {
			fill[i] = entry
		}
	}
	return nil
}

// decode reads one symbol. The caller must have ensured maxLen bits.
func (t *decodeTable) decode(r *bitReader) (int, error) {
	e := t.entries[r.peek(t.rootBits)]
	if e&linkFlag != 0 {
		e = t.entries[int(e>>8)+int(r.peek(t.maxLen)&(1<<t.subBits-1))]
	}
	n := uint(e & 0x1f)
	if n == 0 {
		return 0, corruptf("invalid Huffman code word")
	}
	r.consume(n)
	return int(e >> 8), nil
}
