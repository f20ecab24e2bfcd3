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

// fastTable is the decoding table of the main, length and aligned offset
// codes, the ones the symbol loop reads; its root level is an array of the
// caller's. Canonical codes, taken in order of (length, symbol), cover the
// code space from its start without gaps, so both levels are filled front
// to back with no code computed and nothing cleared first.
//
// An entry is kind | payload<<8 | n, where n (bits 0-4) is how many bits
// the entry consumes and kind (bits 24-25) says what the payload (bits
// 8-23) is; the kinds are ordered so that one comparison tells a literal:
//   - entryLiteral: a symbol below the table's literal limit in the payload
//     (a main code's literal byte; every length or aligned code symbol);
//   - entryMatch: a main symbol minus 256, a match header;
//   - entryLink: a sub-table offset in the payload, indexed by the bits
//     after the root's up to maxLen;
//   - entryInvalid: no code word starts with these bits.
type fastTable struct {
	sub     []uint32 // sub-tables of 1 << subBits entries each
	maxLen  uint
	subBits uint
	sorted  [maxMainSyms]uint16
}

const (
	entryLiteral = 0 << 24
	entryMatch   = 1 << 24
	entryLink    = 2 << 24
	entryInvalid = 3 << 24
)

// build makes the table of the code with these lengths (0 = unused).
// Symbols from numLits on are match headers. It fails if the
// lengths over-subscribe the code space; an incomplete code is accepted and
// its missing code words are errors when met.
func (t *fastTable) build(root []uint32, lens []uint8, rootBits uint, numLits int) error {
	var count [17]int
	for _, l := range lens {
		if l > 16 {
			return corruptf("code length %d", l)
		}
		count[l]++
	}
	left := 1
	maxLen := uint(0)
	for l := 1; l <= 16; l++ {
		left = left<<1 - count[l]
		if left < 0 {
			return corruptf("over-subscribed Huffman code")
		}
		if count[l] != 0 {
			maxLen = uint(l)
		}
	}
	// Counting sort of the used symbols by code length.
	var next [17]int
	used := 0
	for l := 1; l <= 16; l++ {
		next[l] = used
		used += count[l]
	}
	for sym, l := range lens {
		if l != 0 {
			t.sorted[next[l]] = uint16(sym)
			next[l]++
		}
	}
	sorted := t.sorted[:used]

	entry := func(sym int, l uint) uint32 {
		if sym < numLits {
			return uint32(sym)<<8 | entryLiteral | uint32(l)
		}
		return uint32(sym-numLits)<<8 | entryMatch | uint32(l)
	}
	i, at := 0, 0
	for ; i < len(sorted); i++ {
		sym := int(sorted[i])
		l := uint(lens[sym])
		if l > rootBits {
			break
		}
		e := entry(sym, l)
		fill := root[at : at+1<<(rootBits-l)]
		for k := range fill {
			fill[k] = e
		}
		at += len(fill)
	}
	t.maxLen, t.subBits = maxLen, 0
	if i < len(sorted) {
		// The longer code words continue the code space at maxLen bits:
		// one sub-table of 1<<subBits entries per root entry they start with.
		t.subBits = maxLen - rootBits
		sub := t.sub[:0]
		for ; i < len(sorted); i++ {
			sym := int(sorted[i])
			l := uint(lens[sym])
			e := entry(sym, l)
			for range 1 << (maxLen - l) {
				sub = append(sub, e)
			}
		}
		subSize := 1 << t.subBits
		for len(sub)%subSize != 0 {
			sub = append(sub, entryInvalid)
		}
		for off := 0; off < len(sub); off += subSize {
			root[at] = uint32(off)<<8 | entryLink
			at++
		}
		t.sub = sub
	}
	for k := range root[at:] {
		root[at+k] = entryInvalid
	}
	return nil
}
