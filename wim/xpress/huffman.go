package xpress

import "fmt"

// Decoding table layout: a primary table indexed by the next primaryBits bits
// of input; codes longer than that continue in 16-entry secondary tables
// indexed by the following maxCodeLen-primaryBits bits. An entry holds
// symbol<<4 | codeLength, or secondaryFlag | index of a secondary table.
const (
	primaryBits    = 11
	secondaryBits  = maxCodeLen - primaryBits
	secondaryFlag  = 0x8000
	decodeTableLen = 1<<primaryBits + numSymbols<<secondaryBits
)

// buildDecodeTable fills table from the 512 code lengths packed in hdr
// (low nibble: even symbol, high nibble: odd symbol). It fails unless the
// lengths form a complete prefix code, as [MS-XCA] 2.2.4 requires.
func buildDecodeTable(table *[decodeTableLen]uint16, hdr []byte) error {
	// Four histograms: runs of equal lengths are common, and one counter
	// incremented back to back waits for its previous store each time.
	var hist [4][maxCodeLen + 1]int32
	hdr = hdr[:tableBytes]
	for i := 0; i+1 < len(hdr); i += 2 {
		b0, b1 := hdr[i], hdr[i+1]
		hist[0][b0&15]++
		hist[1][b0>>4]++
		hist[2][b1&15]++
		hist[3][b1>>4]++
	}
	var count [maxCodeLen + 1]int
	for l := range count {
		count[l] = int(hist[0][l] + hist[1][l] + hist[2][l] + hist[3][l])
	}
	// Kraft sum in units of 2^-15: must be exactly 2^15.
	space := 0
	for l := 1; l <= maxCodeLen; l++ {
		space += count[l] << (maxCodeLen - l)
	}
	if space != 1<<maxCodeLen {
		return fmt.Errorf("%w: Huffman code lengths are not a complete code (%d/%d)", ErrCorrupt, space, 1<<maxCodeLen)
	}
	// Canonical codes taken in (length, symbol) order, left-aligned to 15
	// bits, are increasing and, for a complete code, tile the code space
	// without gaps. So the primary table fills front to back, and each
	// secondary table fills completely before the next prefix starts: no
	// code values, no clearing of the previous chunk's table.
	var start [maxCodeLen + 2]int
	for l := 1; l <= maxCodeLen; l++ {
		start[l+1] = start[l] + count[l]
	}
	var sorted [numSymbols]uint16
	for i, b := range hdr {
		if l := b & 15; l != 0 {
			sorted[start[l]] = uint16(2 * i)
			start[l]++
		}
		if l := b >> 4; l != 0 {
			sorted[start[l]] = uint16(2*i + 1)
			start[l]++
		}
	}
	p := 0
	i := 0
	for l := 1; l <= primaryBits; l++ {
		n := 1 << (primaryBits - l)
		for ; i < start[l]; i++ {
			entry := sorted[i]<<4 | uint16(l)
			fill := table[p : p+n]
			for k := range fill {
				fill[k] = entry
			}
			p += n
		}
	}
	nextSecondary := 1 << primaryBits
	sub, subEnd := 0, 0 // fill position and end in the current secondary table
	for l := primaryBits + 1; l <= maxCodeLen; l++ {
		n := 1 << (maxCodeLen - l)
		for ; i < start[l]; i++ {
			if sub == subEnd {
				table[p] = secondaryFlag | uint16(nextSecondary)
				p++
				sub, subEnd = nextSecondary, nextSecondary+1<<secondaryBits
				nextSecondary = subEnd
			}
			entry := sorted[i]<<4 | uint16(l)
			fill := table[sub : sub+n]
			for k := range fill {
				fill[k] = entry
			}
			sub += n
		}
	}
	return nil
}

// canonicalCodes assigns canonical codes (shorter codes first, ties by
// symbol value) to the given lengths; codes[sym] holds the code right-aligned.
func canonicalCodes(lens *[numSymbols]uint8, codes *[numSymbols]uint16) {
	var count [maxCodeLen + 1]uint32
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	var next [maxCodeLen + 2]uint32
	code := uint32(0)
	for l := 1; l <= maxCodeLen; l++ {
		next[l] = code
		code = (code + count[l]) << 1
	}
	for sym, l := range lens {
		if l != 0 {
			codes[sym] = uint16(next[l])
			next[l]++
		}
	}
}

// codeBuilder computes length-limited optimal prefix codes with the
// package-merge algorithm; its slices are reused between chunks.
type codeBuilder struct {
	tmp    []uint16 // radix sort buffer
	parent []int32  // Huffman tree links

	packageMergeOnly bool     // for tests: skip the linear Huffman path
	syms             []uint16 // used symbols sorted by frequency
	weight           []uint32 // current list weights
	merged           []uint32 // next list weights
	isPkg            [][]bool // per level: whether each item of the merged list is a package
}

// buildLengths sets lens[sym] to the code length for each symbol so that the
// total encoded size sum(freq*len) is minimal with no length above
// maxCodeLen and the code complete. Symbols with zero frequency get length
// 0, except that at least two symbols always get a code (a one-symbol code
// cannot be complete).
func (b *codeBuilder) buildLengths(freq *[numSymbols]uint32, lens *[numSymbols]uint8) {
	*lens = [numSymbols]uint8{}
	b.sortSymbols(freq)
	n := len(b.syms)
	if n == 2 {
		lens[b.syms[0]], lens[b.syms[1]] = 1, 1
		return
	}
	if !b.packageMergeOnly && b.huffmanLengths(freq, lens) {
		return
	}
	*lens = [numSymbols]uint8{}
	if cap(b.isPkg) < maxCodeLen {
		b.isPkg = make([][]bool, maxCodeLen)
	}
	b.isPkg = b.isPkg[:maxCodeLen]
	leafWeight := func(i int) uint32 {
		w := freq[b.syms[i]]
		if w == 0 {
			w = 1
		}
		return w
	}
	// Level maxCodeLen (deepest): the list is just the leaves.
	b.weight = b.weight[:0]
	for i := 0; i < n; i++ {
		b.weight = append(b.weight, leafWeight(i))
	}
	// Each shallower level merges the leaves with pairs of the list below.
	for level := maxCodeLen - 2; level >= 0; level-- {
		pkgs := len(b.weight) / 2
		b.merged = b.merged[:0]
		flags := b.isPkg[level][:0]
		li, pi := 0, 0
		for li < n || pi < pkgs {
			if pi < pkgs && (li >= n || b.weight[2*pi]+b.weight[2*pi+1] < leafWeight(li)) {
				b.merged = append(b.merged, b.weight[2*pi]+b.weight[2*pi+1])
				flags = append(flags, true)
				pi++
			} else {
				b.merged = append(b.merged, leafWeight(li))
				flags = append(flags, false)
				li++
			}
		}
		b.isPkg[level] = flags
		b.weight, b.merged = b.merged, b.weight
	}
	// Select the first 2n-2 items of the top list and walk down: every
	// selected leaf adds one to its symbol's length, every selected package
	// selects two items of the level below. Selected leaves are always the
	// lightest ones, so a count per level suffices.
	take := 2*n - 2
	for level := 0; level < maxCodeLen; level++ {
		leaves := take
		pkgs := 0
		if level < maxCodeLen-1 {
			flags := b.isPkg[level][:take]
			leaves = 0
			for _, p := range flags {
				if p {
					pkgs++
				} else {
					leaves++
				}
			}
		}
		for i := 0; i < leaves; i++ {
			lens[b.syms[i]]++
		}
		take = 2 * pkgs
	}
}

// sortSymbols sets b.syms to the used symbols sorted by frequency, then
// symbol (at least two: unused ones with frequency 0 are added first). A
// least-significant-digit radix sort on 8-bit digits of the frequency,
// stable on symbol order: cheaper than a comparison sort for the few hundred
// symbols of each chunk.
func (b *codeBuilder) sortSymbols(freq *[numSymbols]uint32) {
	b.syms = b.syms[:0]
	maxFreq := uint32(0)
	for sym, f := range freq {
		if f != 0 {
			b.syms = append(b.syms, uint16(sym))
			maxFreq = max(maxFreq, f)
		}
	}
	// Make at least two symbols present; the dummy ones (frequency 0, so
	// first in the order) cost nothing.
	if len(b.syms) < 2 {
		used := -1
		if len(b.syms) == 1 {
			used = int(b.syms[0])
		}
		b.syms = b.syms[:0]
		for sym := 0; len(b.syms) < 2 && (used < 0 || len(b.syms) < 1); sym++ {
			if sym != used {
				b.syms = append(b.syms, uint16(sym))
			}
		}
		if used >= 0 {
			b.syms = append(b.syms, uint16(used))
		}
		return
	}
	if cap(b.tmp) < len(b.syms) {
		b.tmp = make([]uint16, len(b.syms), numSymbols)
	}
	tmp := b.tmp[:len(b.syms)]
	for shift := 0; maxFreq>>shift != 0; shift += 8 {
		var count [257]int
		for _, sym := range b.syms {
			count[1+(freq[sym]>>shift)&255]++
		}
		for d := 1; d < 257; d++ {
			count[d] += count[d-1]
		}
		for _, sym := range b.syms {
			d := (freq[sym] >> shift) & 255
			tmp[count[d]] = sym
			count[d]++
		}
		b.syms, tmp = tmp, b.syms
	}
	b.tmp = tmp[:0]
}

// huffmanLengths sets unlimited optimal (Huffman) code lengths for b.syms,
// which are sorted by frequency, with the linear two-queue construction. It
// reports false, leaving lens partly set, when a length exceeds maxCodeLen;
// the caller then uses package-merge.
func (b *codeBuilder) huffmanLengths(freq *[numSymbols]uint32, lens *[numSymbols]uint8) bool {
	n := len(b.syms)
	total := 2*n - 1
	if cap(b.weight) < total {
		b.weight = make([]uint32, total)
	}
	if cap(b.parent) < total {
		b.parent = make([]int32, total)
	}
	weight, parent := b.weight[:total], b.parent[:total]
	for i, sym := range b.syms {
		weight[i] = max(freq[sym], 1)
	}
	leaf, inner := 0, n
	smallest := func(next int) int {
		if leaf < n && (inner >= next || weight[leaf] <= weight[inner]) {
			leaf++
			return leaf - 1
		}
		inner++
		return inner - 1
	}
	for next := n; next < total; next++ {
		a := smallest(next)
		c := smallest(next)
		weight[next] = weight[a] + weight[c]
		parent[a], parent[c] = int32(next), int32(next)
	}
	// Depths from the root down; weight is reused to hold them.
	weight[total-1] = 0
	for k := total - 2; k >= 0; k-- {
		d := weight[parent[k]] + 1
		if d > maxCodeLen {
			return false
		}
		weight[k] = d
	}
	for i, sym := range b.syms {
		lens[sym] = uint8(weight[i])
	}
	return true
}
