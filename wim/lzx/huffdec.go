package lzx

// fastTable is the two-level decoding table of a Huffman code (main,
// length, aligned offset, pretree); its first level is an array of the
// caller's, indexed by the next rootBits bits of input. Canonical codes,
// taken in order of (length, symbol), cover the code space from its start
// without gaps, so both levels are filled front to back with no code
// computed and nothing cleared first.
//
// An entry is kind | payload<<8 | n, where n (bits 0-4) is how many bits
// the entry consumes and kind (bits 24-25) says what the payload (bits
// 8-23) is; the kinds are ordered so that one comparison tells a literal:
//   - entryLiteral: a symbol below the table's literal limit (a main
//     code's literal byte; every length, aligned or pretree code symbol);
//   - entryMatch: a main symbol minus 256, a match header;
//   - entryLink: a sub-table offset, indexed by the bits after the root's
//     up to maxLen;
//   - entryInvalid: no code word starts with these bits.
type fastTable struct {
	sub      []uint32 // sub-tables of 1 << subBits entries each
	subBits  uint
	subShift uint   // 64 - maxLen
	subMask  uint32 // 1<<subBits - 1
	sorted   [maxMainSyms]uint16
}

// link returns the sub-table entry that e, a link, and the bits at the top
// of buf lead to.
func (t *fastTable) link(e uint32, buf uint64) uint32 {
	return t.sub[int(e>>8&0xffff)+int(uint32(buf>>(t.subShift&63))&t.subMask)]
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
	t.subBits, t.subShift, t.subMask = 0, 64-maxLen, 0
	if i < len(sorted) {
		// The longer code words continue the code space at maxLen bits:
		// one sub-table of 1<<subBits entries per root entry they start with.
		t.subBits = maxLen - rootBits
		t.subMask = 1<<t.subBits - 1
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
