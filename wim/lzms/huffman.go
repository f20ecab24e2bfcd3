package lzms

import "slices"

// adaptiveCode is the state both directions keep for one of the five
// adaptive Huffman codes: symbol frequencies and the countdown to the next
// rebuild (format description, sections 4.2 to 4.4).
type adaptiveCode struct {
	n         int // alphabet size
	period    int
	remaining int
	freq      [maxOffsetSlots]uint32
	lens      [maxOffsetSlots]uint8
	builder   lengthBuilder
}

// reset starts the code of a new block: every frequency 1, code built.
func (c *adaptiveCode) reset(n, period int) {
	c.n, c.period, c.remaining = n, period, period
	for i := range c.freq[:n] {
		c.freq[i] = 1
	}
	c.builder.build(c.freq[:n], c.lens[:n])
}

// count records one use of sym and reports whether the code was rebuilt
// (its lengths changed) as a result.
func (c *adaptiveCode) count(sym int) bool {
	c.freq[sym]++
	c.remaining--
	if c.remaining != 0 {
		return false
	}
	c.builder.build(c.freq[:c.n], c.lens[:c.n])
	for i := range c.freq[:c.n] {
		c.freq[i] = c.freq[i]>>1 + 1
	}
	c.remaining = c.period
	return true
}

// lengthBuilder computes codeword lengths exactly as the format requires,
// every tie-break included; it keeps its scratch space between calls.
type lengthBuilder struct {
	leaves [maxOffsetSlots]uint32 // freq<<10 | symbol, sorted
	tmp    [maxOffsetSlots]uint32
	weight [maxOffsetSlots]uint32 // internal nodes
	parent [maxOffsetSlots]uint16
	depth  [maxOffsetSlots]uint8
}

// build sets lens[s] for every symbol from freq (len(freq) >= 2, every
// frequency at least 1 and below 1<<22).
func (b *lengthBuilder) build(freq []uint32, lens []uint8) {
	n := len(freq)
	leaves := b.leaves[:n]
	b.sortLeaves(freq)
	// Two-queue merge: a leaf wins ties against an internal node.
	i, j, created := 0, 0, 0
	take := func() uint32 {
		if i < n && (j == created || leaves[i]>>10 <= b.weight[j]) {
			i++
			return leaves[i-1] >> 10
		}
		b.parent[j] = uint16(created)
		j++
		return b.weight[j-1]
	}
	for created < n-1 {
		w := take()
		w += take()
		b.weight[created] = w
		created++
	}

	// Count codeword lengths from the root down, capping at 15 bits.
	var count [maxCodeLen + 2]int
	count[1] = 2
	root := n - 2
	b.depth[root] = 0
	for m := n - 3; m >= 0; m-- {
		d := b.depth[b.parent[m]] + 1
		b.depth[m] = d
		l := int(d)
		if l >= maxCodeLen {
			l = maxCodeLen - 1
			for count[l] == 0 {
				l--
			}
		}
		count[l]--
		count[l+1] += 2
	}

	// The longest codewords go to the least frequent leaves.
	k := 0
	for l := maxCodeLen; l >= 1; l-- {
		for ; count[l] > 0; count[l]-- {
			lens[leaves[k]&1023] = uint8(l)
			k++
		}
	}
}

// sortLeaves fills b.leaves[:len(freq)] with freq<<10 | symbol in
// increasing order: frequencies first, then symbols. Between rebuilds the
// frequencies are halved and counted again, which reorders many ties, so
// a radix sort on the frequency (two passes of six bits, stable over the
// symbols in order) beats sorting the previous order again.
func (b *lengthBuilder) sortLeaves(freq []uint32) {
	n := len(freq)
	leaves, tmp := b.leaves[:n], b.tmp[:n]
	var lo, hi [64]uint16
	var all uint32
	for _, f := range freq {
		all |= f
		lo[f&63]++
		hi[f>>6&63]++
	}
	if all >= 1<<12 {
		// Not reached (a code's frequencies stay below 2*period+2), but
		// cheap to get right.
		for s, f := range freq {
			leaves[s] = f<<10 | uint32(s)
		}
		slices.Sort(leaves)
		return
	}
	var sum uint16
	for i, c := range lo {
		lo[i] = sum
		sum += c
	}
	sum = 0
	for i, c := range hi {
		hi[i] = sum
		sum += c
	}
	for s, f := range freq {
		tmp[lo[f&63]] = f<<10 | uint32(s)
		lo[f&63]++
	}
	for _, l := range tmp {
		h := l >> 16 & 63
		leaves[hi[h]] = l
		hi[h]++
	}
}

const (
	tableBits = 10
	tableSize = 1 << tableBits
)

// huffDecoder decodes symbols of one adaptive code: a direct table for
// codewords of up to tableBits bits, a canonical search for longer ones.
type huffDecoder struct {
	adaptiveCode
	table  [tableSize]uint16 // symbol<<4 | length, or 0 for a longer codeword
	first  [maxCodeLen + 1]uint32
	counts [maxCodeLen + 1]uint32
	offset [maxCodeLen + 1]uint16
	sorted [maxOffsetSlots]uint16 // symbols by (length, symbol)
}

func (d *huffDecoder) reset(n, period int) {
	d.adaptiveCode.reset(n, period)
	d.buildTable()
}

func (d *huffDecoder) buildTable() {
	lens := d.lens[:d.n]
	var count [maxCodeLen + 1]uint32
	for _, l := range lens {
		count[l]++
	}
	d.counts = count
	var next [maxCodeLen + 1]uint32
	var off uint16
	for l := 1; l <= maxCodeLen; l++ {
		if l > 1 {
			next[l] = (next[l-1] + count[l-1]) << 1
		}
		d.first[l] = next[l]
		d.offset[l] = off
		off += uint16(count[l])
	}
	// Canonical codewords in (length, symbol) order: the short ones cover
	// the front of the table, whose rest (prefixes of long ones) is 0.
	short := 0
	for l := 1; l <= tableBits; l++ {
		short += int(count[l]) << (tableBits - l)
	}
	clear(d.table[short:])
	pos := d.offset
	for s, l := range lens {
		d.sorted[pos[l]] = uint16(s)
		pos[l]++
		cw := next[l]
		next[l]++
		if int(l) <= tableBits {
			shift := tableBits - int(l)
			e := uint16(s)<<4 | uint16(l)
			t := d.table[cw<<shift : (cw+1)<<shift]
			for i := range t {
				t[i] = e
			}
		}
	}
}

// decode reads one symbol and updates the code.
func (d *huffDecoder) decode(br *bitReader) int {
	br.need(maxCodeLen)
	peek := uint32(br.buf >> (64 - maxCodeLen))
	e := d.table[peek>>(maxCodeLen-tableBits)]
	var sym int
	if e != 0 {
		br.consume(uint(e & 15))
		sym = int(e >> 4)
	} else {
		sym = d.decodeLong(br, peek)
	}
	if d.count(sym) {
		d.buildTable()
	}
	return sym
}

func (d *huffDecoder) decodeLong(br *bitReader, peek uint32) int {
	for l := tableBits + 1; l <= maxCodeLen; l++ {
		c := peek >> (maxCodeLen - l)
		if c-d.first[l] < d.counts[l] {
			br.consume(uint(l))
			return int(d.sorted[uint32(d.offset[l])+c-d.first[l]])
		}
	}
	// Unreachable: the codes are complete. Consume the lot so that a broken
	// invariant cannot loop.
	br.consume(maxCodeLen)
	return 0
}
