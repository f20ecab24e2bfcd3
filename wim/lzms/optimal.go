package lzms

// Near-optimal parsing: over a window of positions, find the cheapest way
// to code the data as literals and matches by dynamic programming, pricing
// items with the adaptive state (code lengths and probabilities) as it was
// at the start of the window, and following the repeat queues along each
// path so that repeats are priced as repeats. The chosen items are then
// coded for real, which decides repeat or explicit from the true queues.

const (
	optWindow = 1024
	infCost   = 1 << 30
)

// itemKind of an arc in the parse graph.
const (
	kindLiteral = iota
	kindLZ
	kindDelta
)

// optNode is a position in the window: the cheapest known way to reach it
// and, once reached, the repeat queues along that way.
type optNode struct {
	cost   uint32
	from   int32
	kind   uint8
	length uint32
	off    uint32    // LZ offset
	item   deltaItem // delta source
	q      queues
}

// queues is the state of both repeat queues, as the decoder keeps it.
type queues struct {
	lz       [numRepeats + 1]uint32
	lzPend   uint32
	d        [numRepeats + 1]deltaItem
	dPend    deltaItem
	hasDPend bool
}

// after returns the queues after an item: rep is the repeat slot used (or
// -1), lzNew/dNew the item's source.
func (q queues) after(kind uint8, rep int, lzNew uint32, dNew deltaItem) queues {
	if rep >= 0 {
		if kind == kindLZ {
			copy(q.lz[rep:], q.lz[rep+1:])
		} else {
			copy(q.d[rep:], q.d[rep+1:])
		}
	}
	if q.lzPend != 0 {
		copy(q.lz[1:], q.lz[:numRepeats])
		q.lz[0] = q.lzPend
	}
	q.lzPend = lzNew
	if q.hasDPend {
		copy(q.d[1:], q.d[:numRepeats])
		q.d[0] = q.dPend
	}
	q.dPend, q.hasDPend = dNew, kind == kindDelta
	return q
}

func (q *queues) lzRep(off uint32) int {
	for k := 0; k < numRepeats; k++ {
		if q.lz[k] == off {
			return k
		}
	}
	return -1
}

func (q *queues) dRep(item deltaItem) int {
	for k := 0; k < numRepeats; k++ {
		if q.d[k] == item {
			return k
		}
	}
	return -1
}

// priceTable holds the prices of the window, in 1/16 bit.
type priceTable struct {
	literal  [numLiterals]uint32
	length   [numLengthSlots]uint32
	lzExplic uint32 // decisions of an explicit LZ match
	lzRep    [numRepeats]uint32
	dExplic  uint32
	dRep     [numRepeats]uint32
	offset   [maxOffsetSlots]uint32
	dOffset  [maxOffsetSlots]uint32
	power    [numDeltaPowers]uint32
	nslots   int
}

func (c *Compressor) setPrices(pt *priceTable) {
	st := &c.st
	lit := st.decisionCost(classMain, 0)
	for b := range pt.literal {
		pt.literal[b] = lit + uint32(st.literal.lens[b])*16
	}
	for s := range pt.length {
		pt.length[s] = (uint32(st.length.lens[s]) + uint32(lengthExtra[s])) * 16
	}
	m := st.decisionCost(classMain, 1)
	lz := m + st.decisionCost(classMatch, 0)
	pt.lzExplic = lz + st.decisionCost(classLZ, 0)
	r := lz + st.decisionCost(classLZ, 1)
	pt.lzRep[0] = r + st.decisionCost(classLZRep0, 0)
	r1 := r + st.decisionCost(classLZRep0, 1)
	pt.lzRep[1] = r1 + st.decisionCost(classLZRep1, 0)
	pt.lzRep[2] = r1 + st.decisionCost(classLZRep1, 1)
	d := m + st.decisionCost(classMatch, 1)
	pt.dExplic = d + st.decisionCost(classDelta, 0)
	r = d + st.decisionCost(classDelta, 1)
	pt.dRep[0] = r + st.decisionCost(classDeltaRep0, 0)
	r1 = r + st.decisionCost(classDeltaRep0, 1)
	pt.dRep[1] = r1 + st.decisionCost(classDeltaRep1, 0)
	pt.dRep[2] = r1 + st.decisionCost(classDeltaRep1, 1)
	pt.nslots = st.offset.n
	for s := 0; s < pt.nslots; s++ {
		pt.offset[s] = (uint32(st.offset.lens[s]) + uint32(offsetExtra[s])) * 16
		pt.dOffset[s] = (uint32(st.dOffset.lens[s]) + uint32(offsetExtra[s])) * 16
	}
	for p := range pt.power {
		pt.power[p] = uint32(st.dPower.lens[p]) * 16
	}
}

func (pt *priceTable) lengthPrice(l uint32) uint32 {
	return pt.length[lengthSlot(l)]
}

// lzMatch is one match the finder reported at a position.
type lzMatch struct {
	length uint32
	off    uint32
}

// parseOptimal codes data with near-optimal parsing.
func (c *Compressor) parseOptimal(data []byte) {
	for i := range c.head {
		c.head[i] = -1
	}

	for _, t := range c.deltaHead {
		for i := range t {
			t[i] = -1
		}
	}
	if c.nodes == nil {
		c.nodes = make([]optNode, optWindow+c.niceLen+2)
		c.prices = new(priceTable)
	}
	st := &c.st
	n := len(data)
	pt := c.prices
	nodes := c.nodes
	i := 0
	for i < n {
		c.setPrices(pt)
		w := min(optWindow, n-i)
		nodes[0] = optNode{q: queues{lz: st.lzq, lzPend: st.lzPending, d: st.dq, dPend: st.dPending, hasDPend: st.hasDPend}}
		for k := 1; k < len(nodes); k++ {
			nodes[k].cost = infCost
		}
		reach := 0
		var long lzMatch
		longAt, longInserted := -1, false
		cur := 0
		for ; cur < w || cur < reach; cur++ {
			node := &nodes[cur]
			if cur > 0 {
				from := &nodes[node.from]
				rep := -1
				switch node.kind {
				case kindLZ:
					rep = from.q.lzRep(node.off)
				case kindDelta:
					rep = from.q.dRep(node.item)
				}
				node.q = from.q.after(node.kind, rep, node.off, node.item)
			}
			pos := i + cur
			c.relax(cur+1, node.cost+pt.literal[data[pos]], kindLiteral, 1, 0, deltaItem{}, cur)
			reach = max(reach, cur+1)
			if cur >= w {
				c.insert(data, pos)
				continue
			}
			if m, ok := c.offerMatches(data, pos, cur, node, pt, &reach); !ok {
				long, longAt, longInserted = m, cur, m.off == 0
				if longInserted {
					long.off = c.longOff
				}
				break
			}
		}
		end := cur
		if longAt >= 0 {
			end = longAt
		}
		c.emitPath(data, i, end)
		i += end
		if longAt >= 0 {
			c.st.encodeLZ(long.off, long.length, c.st.repOf(long.off))
			j := i
			if longInserted {
				j++
			}
			for ; j < i+min(int(long.length), c.longInsert); j++ {
				c.insert(data, j)
			}
			i += int(long.length)
		}
	}
}

// relax records a cheaper way to reach node to.
func (c *Compressor) relax(to int, cost uint32, kind uint8, length, off uint32, item deltaItem, from int) {
	t := &c.nodes[to]
	if cost < t.cost {
		t.cost, t.from, t.kind, t.length, t.off, t.item = cost, int32(from), kind, length, off, item
	}
}

// offerMatches relaxes every match at pos (node cur of the window). When a
// match of at least niceLen is found it stops and returns it with ok false;
// its off is then 0 if pos was already inserted into the match finder (the
// offset is in c.longOff).
func (c *Compressor) offerMatches(data []byte, pos, cur int, node *optNode, pt *priceTable, reach *int) (lzMatch, bool) {
	maxLen := len(data) - pos
	// Repeat offsets of the queue along this path.
	for k := 0; k < numRepeats; k++ {
		off := node.q.lz[k]
		if int(off) > pos || (k > 0 && node.q.lz[k-1] == off) {
			continue
		}
		l := matchLen(data, pos, pos-int(off), min(maxLen, c.niceLen))
		if l >= c.niceLen {
			return lzMatch{length: uint32(matchLen(data, pos, pos-int(off), maxLen)), off: off}, false
		}
		base := node.cost + pt.lzRep[k]
		for ln := 2; ln <= l; ln++ {
			c.relax(cur+ln, base+pt.lengthPrice(uint32(ln)), kindLZ, uint32(ln), off, deltaItem{}, cur)
		}
		*reach = max(*reach, cur+l)
	}
	c.matches = c.btFind(data, pos, c.matches[:0], true)
	if c.deltaPowers > 0 {
		// Delta matches rarely beat a long LZ match: skip the search then
		// (the position is still recorded).
		search := len(c.matches) == 0 || c.matches[len(c.matches)-1].length < uint32(c.deltaBelow)
		c.offerDelta(data, pos, cur, node, pt, reach, search)
	}
	prevLen := uint32(1)
	for _, m := range c.matches {
		if m.length >= uint32(c.niceLen) {
			c.longOff = m.off
			return lzMatch{length: m.length}, false
		}
		base := node.cost + pt.lzExplic + pt.offset[offsetSlot(m.off)]
		if k := node.q.lzRep(m.off); k >= 0 {
			base = node.cost + pt.lzRep[k]
		}
		for ln := prevLen + 1; ln <= m.length; ln++ {
			c.relax(cur+int(ln), base+pt.lengthPrice(ln), kindLZ, ln, m.off, deltaItem{}, cur)
		}
		*reach = max(*reach, cur+int(m.length))
		prevLen = m.length
	}
	return lzMatch{}, true
}

// offerDelta relaxes the delta matches at pos: the repeat sources of the
// path, then one candidate per power from the delta tables.
// The delta tables are updated with pos whether or not search is set.
func (c *Compressor) offerDelta(data []byte, pos, cur int, node *optNode, pt *priceTable, reach *int, search bool) {
	limit := min(len(data)-pos, c.niceLen-1)
	offer := func(item deltaItem, l int, base uint32, from int) {
		for ln := from; ln <= l; ln++ {
			c.relax(cur+ln, base+pt.lengthPrice(uint32(ln)), kindDelta, uint32(ln), 0, item, cur)
		}
		*reach = max(*reach, cur+l)
	}
	for k := 0; k < numRepeats && search; k++ {
		item := node.q.d[k]
		span := 1 << item.power
		off := int(item.raw) << item.power
		if off+span > pos {
			continue
		}
		offer(item, deltaLen(data, pos, off, span, limit), node.cost+pt.dRep[k], 2)
	}
	if len(data)-pos < 3 {
		return
	}
	for p := 0; p < c.deltaPowers; p++ {
		span := 1 << p
		if pos < span {
			break
		}
		h := deltaHash(data, pos, uint(p))
		j := int(c.deltaHead[p][h])
		c.deltaHead[p][h] = int32(pos)
		if !search {
			continue
		}
		off := pos - j
		if j < 0 || off&(span-1) != 0 || off+span > pos {
			continue
		}
		l := deltaLen(data, pos, off, span, limit)
		if l < minDeltaMatch {
			continue
		}
		item := deltaItem{power: uint32(p), raw: uint32(off >> p)}
		base := node.cost + pt.dExplic + pt.power[p] + pt.dOffset[offsetSlot(item.raw)]
		if k := node.q.dRep(item); k >= 0 {
			base = node.cost + pt.dRep[k]
		}
		offer(item, l, base, minDeltaMatch)
	}
}

// emitPath codes the cheapest path from window node 0 to node end; the data
// starts at i.
func (c *Compressor) emitPath(data []byte, i, end int) {
	path := c.path[:0]
	for k := end; k > 0; k = int(c.nodes[k].from) {
		path = append(path, int32(k))
	}
	c.path = path
	st := &c.st
	pos := i
	for x := len(path) - 1; x >= 0; x-- {
		nd := &c.nodes[path[x]]
		switch nd.kind {
		case kindLiteral:
			st.encodeLiteral(data[pos])
		case kindLZ:
			st.encodeLZ(nd.off, nd.length, st.repOf(nd.off))
		case kindDelta:
			st.encodeDelta(nd.item, nd.length, st.deltaRepOf(nd.item))
		}
		pos += int(nd.length)
	}
}

// repOf is the repeat slot holding off now, or -1.
func (st *encoderState) repOf(off uint32) int {
	for k := 0; k < numRepeats; k++ {
		if st.lzq[k] == off {
			return k
		}
	}
	return -1
}

func (st *encoderState) deltaRepOf(item deltaItem) int {
	for k := 0; k < numRepeats; k++ {
		if st.dq[k] == item {
			return k
		}
	}
	return -1
}
