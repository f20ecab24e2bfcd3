package lzx

import (
	"math"
)

// Near-optimal parsing: for each block, the matches at every position are
// found once; then a shortest-path search over the positions picks the
// literals and matches of least total cost in bits, where the costs come
// from the Huffman codes the previous pass would have produced. Each node
// of the search carries the repeated offsets of the best path to it, so
// repeated-offset matches are priced exactly along that path.

const (
	costShift    = 4 // costs are in 1/16 bits
	infiniteCost = math.MaxUint32
)

type optNode struct {
	cost   uint32
	length uint16 // of the item that ends here: 1 for a literal
	rep    int8   // repeated offset used, or -1 for an explicit offset
	offset uint32
	reps   [3]uint32 // repeated offsets after the best path to here
}

// costModel prices symbols in 1/16 bits.
type costModel struct {
	main    [maxMainSyms]uint32
	length  [numLengthSyms]uint32
	aligned [numAlignedSyms]uint32
	// useAligned prices the low three offset bits with the aligned code.
	useAligned bool
}

// optimalParser holds the buffers of the search between chunks.
type optimalParser struct {
	bt         binaryTrees
	matches    []lzMatch
	matchStart []int32 // matches of position p are matches[matchStart[p]:matchStart[p+1]]
	nodes      []optNode
	costs      costModel
	niceLen    int
	depth      int
	passes     int
	histogram  [256]uint32
}

// findMatches runs the match finder over data[start:end].
func (p *optimalParser) findMatches(start, end int) {
	p.matches = p.matches[:0]
	p.matchStart = p.matchStart[:0]
	skipUntil := start
	for i := start; i < end; i++ {
		p.matchStart = append(p.matchStart, int32(len(p.matches)))
		if i < skipUntil {
			p.bt.advance(i, p.niceLen, p.depth/4+1, nil, false)
			continue
		}
		before := len(p.matches)
		p.matches = p.bt.advance(i, p.niceLen, p.depth, p.matches, true)
		if n := len(p.matches); n > before && int(p.matches[n-1].length) >= p.niceLen {
			skipUntil = i + int(p.matches[n-1].length)
		}
	}
	p.matchStart = append(p.matchStart, int32(len(p.matches)))
}

// initialCosts guesses the costs for the first pass: literals from the
// block's byte histogram, matches from typical code lengths.
func (p *optimalParser) initialCosts(data []byte, numMain int) {
	clear(p.histogram[:])
	for _, b := range data {
		p.histogram[b]++
	}
	total := float64(len(data))
	for b, f := range p.histogram {
		bitsF := 12.0
		if f != 0 {
			bitsF = math.Log2(total/float64(f)) + 0.6
		}
		p.costs.main[b] = uint32(min(bitsF, 16) * (1 << costShift))
	}
	for s := numChars; s < numMain; s++ {
		slot := (s - numChars) >> 3
		c := 9.0
		switch {
		case slot == 0:
			c = 6
		case slot < 3:
			c = 8
		}
		if (s-numChars)&7 == numPrimaryLengths {
			c += 1
		}
		p.costs.main[s] = uint32(c * (1 << costShift))
	}
	for s := range p.costs.length {
		p.costs.length[s] = uint32((4.5 + float64(s)/40) * (1 << costShift))
	}
	for s := range p.costs.aligned {
		p.costs.aligned[s] = 3 << costShift
	}
	p.costs.useAligned = false
}

// costsFromCodes prices symbols by the code lengths of a previous pass;
// symbols that pass did not use get a long code's price.
func (p *optimalParser) costsFromCodes(b *blockWriter) {
	set := func(dst []uint32, lens []uint8, unused uint32) {
		for s, l := range lens {
			if l == 0 {
				dst[s] = unused << costShift
			} else {
				dst[s] = uint32(l) << costShift
			}
		}
	}
	set(p.costs.main[:b.numMain], b.mainLens[:b.numMain], 15)
	set(p.costs.length[:], b.lengthLens[:], 14)
	set(p.costs.aligned[:], b.alignedLens[:], 6)
	p.costs.useAligned = b.useAligned()
}

// offsetCost prices the extra bits of an explicit offset.
func (m *costModel) offsetCost(slot int, formatted uint32) uint32 {
	eb := uint32(extraBits[slot])
	if m.useAligned && eb >= 3 {
		return (eb-3)<<costShift + m.aligned[(formatted-positionBase[slot])&7]
	}
	return eb << costShift
}

// lengthCost prices the length part of a match (main symbol aside) and
// returns the length header that goes into the main symbol.
func (m *costModel) lengthCost(length int) (uint32, int) {
	hdr := length - minMatch
	if hdr >= numPrimaryLengths {
		return m.length[hdr-numPrimaryLengths], numPrimaryLengths
	}
	return 0, hdr
}

// parse finds the cheapest items for data[start:end] under the current
// costs, starting from repeated offsets reps, and appends them to items.
func (p *optimalParser) parse(data []byte, start, end int, reps [3]uint32, items []item) ([]item, [3]uint32) {
	n := end - start
	if cap(p.nodes) < n+1 {
		p.nodes = make([]optNode, n+1)
	}
	nodes := p.nodes[:n+1]
	for i := range nodes {
		nodes[i].cost = infiniteCost
	}
	nodes[0].cost = 0
	nodes[0].reps = reps
	costs := &p.costs
	skipUntil := 0
	for i := 0; i < n; i++ {
		cur := &nodes[i]
		base := cur.cost
		// Literal.
		if c := base + costs.main[data[start+i]]; c < nodes[i+1].cost {
			nodes[i+1] = optNode{cost: c, length: 1, rep: -1, reps: cur.reps}
		}
		if i < skipUntil {
			continue
		}
		pos := start + i
		limit := min(maxMatch, n-i)
		if limit < minMatch {
			continue
		}
		longest := 0
		// Repeated offsets.
		for r := 0; r < 3; r++ {
			off := cur.reps[r]
			if int(off) > pos || (r > 0 && off == cur.reps[0]) || (r == 2 && off == cur.reps[1]) {
				continue
			}
			l := matchLen(data, pos, pos-int(off), limit)
			if l < minMatch {
				continue
			}
			longest = max(longest, l)
			newReps := cur.reps
			newReps[0], newReps[r] = off, cur.reps[0]
			mainBase := uint32(numChars + r<<3)
			for length := minMatch; length <= l; length++ {
				lc, hdr := costs.lengthCost(length)
				c := base + costs.main[mainBase+uint32(hdr)] + lc
				if c < nodes[i+length].cost {
					nodes[i+length] = optNode{cost: c, length: uint16(length), rep: int8(r), reps: newReps}
				}
			}
		}
		// Explicit offsets.
		ms := p.matches[p.matchStart[i]:p.matchStart[i+1]]
		prevLen := minMatch
		for _, m := range ms {
			ml := min(int(m.length), limit)
			if ml <= prevLen {
				continue
			}
			off := m.offset
			if off == cur.reps[0] || off == cur.reps[1] || off == cur.reps[2] {
				prevLen = ml
				continue
			}
			formatted := off + 2
			slot := positionSlot(formatted)
			oc := base + costs.offsetCost(slot, formatted)
			mainBase := uint32(numChars + slot<<3)
			newReps := [3]uint32{off, cur.reps[0], cur.reps[1]}
			for length := prevLen + 1; length <= ml; length++ {
				lc, hdr := costs.lengthCost(length)
				c := oc + costs.main[mainBase+uint32(hdr)] + lc
				if c < nodes[i+length].cost {
					nodes[i+length] = optNode{cost: c, length: uint16(length), rep: -1, offset: off, reps: newReps}
				}
			}
			prevLen = ml
		}
		longest = max(longest, prevLen)
		if longest >= p.niceLen {
			skipUntil = i + longest
		}
	}
	// Walk back from the end, then emit in order.
	first := len(items)
	for j := n; j > 0; {
		nd := &nodes[j]
		l := int(nd.length)
		if l == 1 {
			items = append(items, literalItem(data[start+j-1]))
		} else {
			items = append(items, matchItem(l, int(nd.rep), nd.offset))
		}
		j -= l
	}
	for a, b := first, len(items)-1; a < b; a, b = a+1, b-1 {
		items[a], items[b] = items[b], items[a]
	}
	return items, nodes[n].reps
}
