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

// optNode is a position of the search: the cost of the best path to it and
// the item that ends that path here, packed as length (9 bits), repeated
// offset index + 1 or 0 for an explicit offset (2 bits), offset (21 bits).
type optNode struct {
	cost    uint32
	arrival uint32
}

func packArrival(length int, rep int, offset uint32) uint32 {
	return uint32(length) | uint32(rep+1)<<9 | offset<<11
}

func unpackArrival(a uint32) (length int, rep int, offset uint32) {
	return int(a & 0x1ff), int(a>>9&3) - 1, a >> 11
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
	reps       [][3]uint32 // repeated offsets after the best path to each node
	costs      costModel
	// lengthPart[l] is the price of the length symbol of a match of l bytes
	// (0 when the main symbol holds the whole length); header[l] is the
	// length header that goes into the main symbol.
	lengthPart [maxMatch + 1]uint32
	header     [maxMatch + 1]uint8
	niceLen    int
	depth      int
	passes     int
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

// parse finds the cheapest items for data[start:end] under the current
// costs, starting from repeated offsets reps, and appends them to items.
func (p *optimalParser) parse(data []byte, start, end int, reps [3]uint32, items []item) ([]item, [3]uint32) {
	n := end - start
	if cap(p.nodes) < n+1 {
		p.nodes = make([]optNode, n+1)
		p.reps = make([][3]uint32, n+1)
	}
	nodes := p.nodes[:n+1]
	repsAt := p.reps[:n+1]
	for i := range nodes {
		nodes[i].cost = infiniteCost
	}
	nodes[0].cost = 0
	repsAt[0] = reps
	costs := &p.costs
	for l := minMatch; l <= maxMatch; l++ {
		p.lengthPart[l], p.header[l] = 0, uint8(l-minMatch)
		if l-minMatch >= numPrimaryLengths {
			p.lengthPart[l], p.header[l] = costs.length[l-minMatch-numPrimaryLengths], numPrimaryLengths
		}
	}
	lengthPart, header := &p.lengthPart, &p.header
	skipUntil := 0
	for i := 0; i < n; i++ {
		base := nodes[i].cost
		if i > 0 {
			repsAt[i] = p.repsAfter(i)
		}
		// Literal.
		if c := base + costs.main[data[start+i]]; c < nodes[i+1].cost {
			nodes[i+1] = optNode{cost: c, arrival: packArrival(1, -1, 0)}
		}
		if i < skipUntil {
			continue
		}
		pos := start + i
		limit := min(maxMatch, n-i)
		if limit < minMatch {
			continue
		}
		cur := repsAt[i]
		longest := 0
		// Repeated offsets.
		for r := 0; r < 3; r++ {
			off := cur[r]
			if int(off) > pos || (r > 0 && off == cur[0]) || (r == 2 && off == cur[1]) {
				continue
			}
			l := matchLen(data, pos, pos-int(off), limit)
			if l < minMatch {
				continue
			}
			longest = max(longest, l)
			mainCosts := costs.main[numChars+r<<3:][:8]
			arrival := packArrival(0, r, 0)
			next := nodes[i:]
			for length := minMatch; length <= l; length++ {
				c := base + mainCosts[header[length]] + lengthPart[length]
				if c < next[length].cost {
					next[length] = optNode{cost: c, arrival: arrival | uint32(length)}
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
			if off == cur[0] || off == cur[1] || off == cur[2] {
				prevLen = ml
				continue
			}
			formatted := off + 2
			slot := positionSlot(formatted)
			oc := base + costs.offsetCost(slot, formatted)
			mainCosts := costs.main[numChars+slot<<3:][:8]
			arrival := packArrival(0, -1, off)
			next := nodes[i:]
			for length := prevLen + 1; length <= ml; length++ {
				c := oc + mainCosts[header[length]] + lengthPart[length]
				if c < next[length].cost {
					next[length] = optNode{cost: c, arrival: arrival | uint32(length)}
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
		length, rep, offset := unpackArrival(nodes[j].arrival)
		if length == 1 {
			items = append(items, literalItem(data[start+j-1]))
		} else {
			items = append(items, matchItem(length, rep, offset))
		}
		j -= length
	}
	for a, b := first, len(items)-1; a < b; a, b = a+1, b-1 {
		items[a], items[b] = items[b], items[a]
	}
	return items, p.repsAfter(n)
}

// greedy parses data[start:end] cheaply from the cached matches, taking the
// longest match at each position (a repeated offset when it is as long); the
// codes of that parse price the first pass of the search.
func (p *optimalParser) greedy(data []byte, start, end int, reps [3]uint32, items []item) []item {
	n := end - start
	for i := 0; i < n; {
		pos := start + i
		limit := min(maxMatch, n-i)
		bestLen, bestRep, bestOff := 1, -1, uint32(0)
		if limit >= minMatch {
			for r, off := range reps {
				if int(off) <= pos {
					if l := matchLen(data, pos, pos-int(off), limit); l > bestLen {
						bestLen, bestRep, bestOff = l, r, off
					}
				}
			}
			ms := p.matches[p.matchStart[i]:p.matchStart[i+1]]
			if len(ms) > 0 {
				m := ms[len(ms)-1]
				if l := min(int(m.length), limit); l > bestLen+1 {
					bestLen, bestRep, bestOff = l, -1, m.offset
				}
			}
		}
		if bestLen < minMatch {
			items = append(items, literalItem(data[pos]))
			i++
			continue
		}
		items = append(items, matchItem(bestLen, bestRep, bestOff))
		reps = updateReps(reps, bestRep, bestOff)
		i += bestLen
	}
	return items
}

// repsAfter returns the repeated offsets after the best path to node i.
func (p *optimalParser) repsAfter(i int) [3]uint32 {
	length, rep, offset := unpackArrival(p.nodes[i].arrival)
	if length == 1 {
		return p.reps[i-1]
	}
	return updateReps(p.reps[i-length], rep, offset)
}
