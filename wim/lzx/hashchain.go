package lzx

import (
	"encoding/binary"
	"math/bits"
)

const (
	hashBits = 16
	hashSize = 1 << hashBits
)

func trailingZeroBytes(x uint64) int { return bits.TrailingZeros64(x) >> 3 }

// hash3 hashes the three bytes at data[i:].
func hash3(data []byte, i int) uint32 {
	v := uint32(data[i]) | uint32(data[i+1])<<8 | uint32(data[i+2])<<16
	return (v * 0x9E3779B1) >> (32 - hashBits)
}

// hashChains finds matches of at least three bytes by chaining the earlier
// positions with the same hash of their first three bytes.
type hashChains struct {
	data     []byte
	head     []int32
	prev     []int32
	inserted int // positions below this are in the chains
}

func (h *hashChains) reset(data []byte) {
	h.data = data
	if h.head == nil {
		h.head = make([]int32, hashSize)
	}
	for i := range h.head {
		h.head[i] = -1
	}
	if cap(h.prev) < len(data) {
		h.prev = make([]int32, len(data))
	}
	h.prev = h.prev[:len(data)]
	h.inserted = 0
}

// skipTo inserts every position below i.
func (h *hashChains) skipTo(i int) {
	last := len(h.data) - 3
	for ; h.inserted < i; h.inserted++ {
		p := h.inserted
		if p > last {
			continue
		}
		hv := hash3(h.data, p)
		h.prev[p] = h.head[hv]
		h.head[hv] = int32(p)
	}
}

// longest returns the longest match at i (inserted up to i) of at most limit
// bytes, visiting at most depth candidates; its length is 0 if none has 3.
func (h *hashChains) longest(i, limit, depth int) (length, offset int) {
	if i+3 > len(h.data) || limit < 3 {
		return 0, 0
	}
	data := h.data
	first := binary.LittleEndian.Uint16(data[i:])
	cand := h.head[hash3(data, i)]
	for ; cand >= 0 && depth > 0; depth-- {
		p := int(cand)
		cand = h.prev[p]
		if binary.LittleEndian.Uint16(data[p:]) != first || (length > 0 && (p+length >= len(data) || data[p+length] != data[i+length])) {
			continue
		}
		l := matchLen(data, i, p, limit)
		if l > length {
			length, offset = l, i-p
			if l == limit {
				break
			}
		}
	}
	if length < 3 {
		return 0, 0
	}
	return length, offset
}
