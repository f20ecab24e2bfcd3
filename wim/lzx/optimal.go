package lzx

import (
	"encoding/binary"
	"math"
)

// Near-optimal parsing: for each block, the matches at every position are
// found once; then a shortest-path search over the positions picks the
// literals and matches of least total cost in bits, where the costs come
// from the Huffman codes the previous pass would have produced. Each node
// of the search carries the repeated offsets of the best path to it, so
// repeated-offset matches are priced exactly along that path.

const (
	costShift = 4 // costs are in 1/16 bits
)

// The item that ends the best path to a node is packed as length (9 bits),
// repeated offset index + 1 or 0 for an explicit offset (2 bits), offset
// (21 bits).
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
	// node[j] is the cost of the best path to node j in its high 32
	// bits and the item ending that path (packArrival) in its low ones,
	// so that one unsigned minimum relaxes both, without a branch.
	node []uint64
	reps [][3]uint32 // repeated offsets after the best path to each node
	// chained[j] describes the best path's last step to node j when it is
	// a match, a literal and a match at the same offset (arrival length 0).
	chained []chainedStep
	// chain enables those steps: after the longest explicit match at a
	// position, a literal and a repeated-offset match of the same offset.
	chain bool
	costs costModel
	// slotLen[s][l] prices the main symbol of position slot s and the
	// length symbol of a match of l bytes (repLen: the same for the
	// repeated offsets, slots 0..2).
	slotLen  [50][maxMatch + 1]uint32
	repLen   [3][maxMatch + 1]uint32
	numSlots int
	// entropy prices symbols by -log2 of their frequency (see costsFromCodes).
	entropy bool
	niceLen int
	depth   int
	passes  int
}

// findMatches runs the match finder over data[start:end].
func (p *optimalParser) findMatches(start, end int) {
	p.matches = p.matches[:0]
	p.matchStart = p.matchStart[:0]
	skipUntil := start
	data := p.bt.data
	shortRunEnd := 0 // the run at i-1 is too short to skip before here
	for i := start; i < end; i++ {
		if i > 0 && i >= shortRunEnd && data[i] == data[i-1] {
			run := byteRun(data[i:], maxMatch+runSkipMin)
			if run < runSkipMin {
				shortRunEnd = i + run
			} else {
				// Inside a long run of one byte the match at offset 1
				// is as long as any and the nearest: record it and
				// leave these positions out of the trees, whose every
				// descent would otherwise compare the whole run again.
				// The run's last maxMatch positions are searched as
				// usual, for the matches of what follows the run.
				last := min(i+run-maxMatch, end)
				for ; i < last; i++ {
					p.matchStart = append(p.matchStart, int32(len(p.matches)))
					p.matches = append(p.matches, lzMatch{length: maxMatch, offset: 1})
				}
				i-- // the loop's i++ brings it back to last
				continue
			}
		}
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

// runSkipMin is the shortest run of one byte, counted from its second
// byte, whose positions findMatches leaves out of the trees.
const runSkipMin = 2 * maxMatch

// byteRun returns how many of the first at most limit bytes of b equal b[0].
func byteRun(b []byte, limit int) int {
	limit = min(limit, len(b))
	v := 0x0101010101010101 * uint64(b[0])
	n := 0
	for n+8 <= limit {
		if x := binary.LittleEndian.Uint64(b[n:]) ^ v; x != 0 {
			return n + trailingZeroBytes(x)
		}
		n += 8
	}
	for n < limit && b[n] == b[0] {
		n++
	}
	return n
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
	if p.entropy {
		// Price used symbols by their share of the previous pass's
		// symbols, in fractions of a bit, rather than by whole code
		// lengths: the parse's choices then move toward what the next
		// codes will make cheap.
		ent := func(dst []uint32, freq []uint32, lens []uint8) {
			total := 0
			for _, f := range freq {
				total += int(f)
			}
			for s, f := range freq {
				if f > 0 && lens[s] > 0 {
					c := math.Log2(float64(total)/float64(f)) * (1 << costShift)
					dst[s] = uint32(min(max(c, 1<<costShift), maxCodeLen<<costShift) + 0.5)
				}
			}
		}
		ent(p.costs.main[:b.numMain], b.mainFreq[:b.numMain], b.mainLens[:b.numMain])
		ent(p.costs.length[:], b.lengthFreq[:], b.lengthLens[:])
	}
	p.costs.useAligned = b.useAligned()
	p.numSlots = (b.numMain - numChars) / 8
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
	if cap(p.node) < n+1 {
		p.node = make([]uint64, n+1)
		p.reps = make([][3]uint32, n+1)
		p.chained = make([]chainedStep, n+1)
	}
	chained := p.chained[:n+1]
	node := p.node[:n+1]
	repsAt := p.reps[:n+1]
	for i := range node {
		node[i] = math.MaxUint64
	}
	node[0] = 0
	repsAt[0] = reps
	costs := &p.costs
	p.priceLengths()
	literal := &costs.main
	skipUntil := 0
	for i := 0; i < n; i++ {
		base := uint32(node[i] >> 32)
		if i > 0 {
			// The repeated offsets after the best path to i.
			a := uint32(node[i])
			if length := int(a & 0x1ff); length == 1 {
				repsAt[i] = repsAt[i-1]
			} else if length == 0 {
				ch := chained[i]
				repsAt[i] = updateReps(repsAt[i-ch.total()], int(ch.rep), ch.offset)
			} else {
				prev := repsAt[i-length]
				switch a >> 9 & 3 {
				case 0:
					prev = [3]uint32{a >> 11, prev[0], prev[1]}
				case 1:
				case 2:
					prev[0], prev[1] = prev[1], prev[0]
				case 3:
					prev[0], prev[2] = prev[2], prev[0]
				}
				repsAt[i] = prev
			}
		}
		pos := start + i
		// Literal.
		node[i+1] = min(node[i+1], uint64(base+literal[data[pos]])<<32|uint64(packArrival(1, -1, 0)))
		if i < skipUntil {
			continue
		}
		limit := min(maxMatch, n-i)
		if limit < minMatch {
			continue
		}
		cur := repsAt[i]
		longest := 0
		next := node[i : i+limit+1]
		// Repeated offsets.
		for r := 0; r < 3; r++ {
			off := cur[r]
			if int(off) > pos || (r > 0 && off == cur[0]) || (r == 2 && off == cur[1]) {
				continue
			}
			if data[pos] != data[pos-int(off)] || data[pos+1] != data[pos+1-int(off)] {
				continue
			}
			l := matchLen(data, pos, pos-int(off), limit)
			longest = max(longest, l)
			row := p.repLen[r][:l+1]
			if p.chain {
				p.chainStep(data, start, i, n, base+row[l], l, r, off)
			}
			a := uint64(packArrival(0, r, 0))
			next := next[:len(row)]
			for length := minMatch; length < len(row); length++ {
				next[length] = min(next[length], uint64(base+row[length])<<32|a|uint64(length))
			}
		}
		// Explicit offsets.
		ms := p.matches[p.matchStart[i]:p.matchStart[i+1]]
		prevLen := minMatch
		groupLo := minMatch
		for _, m := range ms {
			ml := min(int(m.length), limit)
			if ml < prevLen || ml <= minMatch {
				continue
			}
			if ml > prevLen {
				groupLo = prevLen
			} else if !p.bt.equalLens {
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
			row := p.slotLen[slot][:ml+1]
			a := uint64(packArrival(0, -1, off))
			next := next[:len(row)]
			for length := groupLo + 1; length < len(row); length++ {
				next[length] = min(next[length], uint64(oc+row[length])<<32|a|uint64(length))
			}
			prevLen = ml
			if p.chain {
				p.chainStep(data, start, i, n, oc+row[ml], ml, -1, off)
			}
		}
		longest = max(longest, prevLen)
		if longest >= p.niceLen {
			skipUntil = i + longest
		}
	}
	// Walk back from the end, then emit in order.
	first := len(items)
	for j := n; j > 0; {
		length, rep, offset := unpackArrival(uint32(node[j]))
		if length == 0 {
			ch := chained[j]
			items = append(items, matchItem(int(ch.second), 0, ch.offset))
			items = append(items, literalItem(data[start+j-int(ch.second)-1]))
			items = append(items, matchItem(int(ch.first), int(ch.rep), ch.offset))
			j -= ch.total()
			continue
		}
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

// priceLengths fills repLen and slotLen from the current costs.
func (p *optimalParser) priceLengths() {
	costs := &p.costs
	var lengthPart [maxMatch + 1]uint32
	var header [maxMatch + 1]int
	for l := minMatch; l <= maxMatch; l++ {
		header[l] = l - minMatch
		if l-minMatch >= numPrimaryLengths {
			lengthPart[l], header[l] = costs.length[l-minMatch-numPrimaryLengths], numPrimaryLengths
		}
	}
	for slot := range p.numSlots {
		mainCosts := costs.main[numChars+slot<<3:][:8]
		row := &p.slotLen[slot]
		for l := minMatch; l <= maxMatch; l++ {
			row[l] = mainCosts[header[l]] + lengthPart[l]
		}
	}
	for r := range p.repLen {
		p.repLen[r] = p.slotLen[r]
	}
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
				// The nearest of the longest matches.
				k := len(ms) - 1
				for k > 0 && ms[k-1].length == ms[k].length {
					k--
				}
				m := ms[k]
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
	length, rep, offset := unpackArrival(uint32(p.node[i]))
	if length == 0 {
		ch := p.chained[i]
		return updateReps(p.reps[i-ch.total()], int(ch.rep), ch.offset)
	}
	if length == 1 {
		return p.reps[i-1]
	}
	return updateReps(p.reps[i-length], rep, offset)
}

// chainedStep is a match of first bytes at offset (repeated offset rep, or
// explicit when rep < 0), a literal, and a match of second bytes at the same
// offset (then repeated offset 0).
type chainedStep struct {
	offset        uint32
	first, second uint16
	rep           int8
}

// chainStep considers, after a match of length bytes at offset reaching
// node i+length at cost c, a literal and then a match at the same offset
// (now repeated offset 0): the search alone finds that path only when the
// match is also the cheapest way to node i+length, and it often is not.
func (p *optimalParser) chainStep(data []byte, start, i, n int, c uint32, length, rep int, offset uint32) {
	j := i + length + 1
	lim := min(maxMatch, n-j)
	if lim < minMatch {
		return
	}
	q := start + j
	o := int(offset)
	if data[q] != data[q-o] || data[q+1] != data[q+1-o] {
		return
	}
	l2 := matchLen(data, q, q-o, lim)
	c += p.costs.main[data[q-1]] + p.repLen[0][l2]
	if t := j + l2; uint64(c) < p.node[t]>>32 {
		p.node[t] = uint64(c) << 32 // arrival 0: see chained
		p.chained[t] = chainedStep{offset: offset, first: uint16(length), second: uint16(l2), rep: int8(rep)}
	}
}

func (c chainedStep) total() int { return int(c.first) + 1 + int(c.second) }
