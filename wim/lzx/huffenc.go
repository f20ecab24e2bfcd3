package lzx

import (
	"slices"
)

// huffmanEncoder builds length-limited canonical Huffman codes.
type huffmanEncoder struct {
	syms    []int32
	weights []uint64
	parent  []int32
	depth   []uint8
}

// build sets lens and codes for the frequencies freq so that no code is
// longer than limit. Unused symbols get length 0; if only one symbol is used,
// a second one gets a code too so that the code is complete, as decoders
// expect.
func (h *huffmanEncoder) build(freq []uint32, limit uint8, lens []uint8, codes []uint32) {
	clear(lens)
	h.syms = h.syms[:0]
	for s, f := range freq {
		if f != 0 {
			h.syms = append(h.syms, int32(s))
		}
	}
	switch len(h.syms) {
	case 0:
		return
	case 1:
		other := int32(0)
		if h.syms[0] == 0 {
			other = 1
		}
		lens[h.syms[0]] = 1
		lens[other] = 1
		canonicalCodes(lens, codes)
		return
	}
	slices.SortStableFunc(h.syms, func(a, b int32) int {
		if freq[a] != freq[b] {
			if freq[a] < freq[b] {
				return -1
			}
			return 1
		}
		return 0
	})
	shift := uint(0)
	for {
		if h.lengths(freq, shift, limit, lens) {
			break
		}
		shift++
	}
	canonicalCodes(lens, codes)
}

// lengths computes Huffman code lengths of the sorted used symbols with
// frequencies scaled down by shift; it reports false if one exceeds limit.
func (h *huffmanEncoder) lengths(freq []uint32, shift uint, limit uint8, lens []uint8) bool {
	n := len(h.syms)
	// Nodes 0..n-1 are the leaves in increasing weight; n.. are internal
	// nodes, created in increasing weight, so two queues suffice.
	h.weights = slices.Grow(h.weights[:0], 2*n)[:2*n-1]
	h.parent = slices.Grow(h.parent[:0], 2*n)[:2*n-1]
	h.depth = slices.Grow(h.depth[:0], 2*n)[:2*n-1]
	for i, s := range h.syms {
		h.weights[i] = max(uint64(freq[s])>>shift, 1)
	}
	leaf, inner, next := 0, n, n
	pick := func() int {
		if leaf < n && (inner >= next || h.weights[leaf] <= h.weights[inner]) {
			leaf++
			return leaf - 1
		}
		inner++
		return inner - 1
	}
	for next < 2*n-1 {
		a := pick()
		b := pick()
		h.weights[next] = h.weights[a] + h.weights[b]
		h.parent[a] = int32(next)
		h.parent[b] = int32(next)
		next++
	}
	root := 2*n - 2
	h.depth[root] = 0
	for i := root - 1; i >= 0; i-- {
		d := h.depth[h.parent[i]] + 1
		if d > limit {
			return false
		}
		h.depth[i] = d
	}
	for i, s := range h.syms {
		lens[s] = h.depth[i]
	}
	return true
}

// canonicalCodes assigns canonical code words: shorter codes first, and
// within one length in symbol order.
func canonicalCodes(lens []uint8, codes []uint32) {
	var count [17]uint32
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	var next [17]uint32
	code := uint32(0)
	for l := 1; l <= 16; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	for s, l := range lens {
		if l != 0 {
			codes[s] = next[l]
			next[l]++
		} else {
			codes[s] = 0
		}
	}
}
