package xpress

import (
	"math/rand/v2"
	"testing"
)

// TestCodeLengths checks, for many frequency tables, that the lengths form
// a complete prefix code within maxCodeLen, and that the linear Huffman path
// and package-merge agree on the optimal cost.
func TestCodeLengths(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var b codeBuilder
	for iter := 0; iter < 2000; iter++ {
		var freq [numSymbols]uint32
		used := 1 + rng.IntN(numSymbols)
		for i := 0; i < used; i++ {
			sym := rng.IntN(numSymbols)
			switch iter % 3 {
			case 0:
				freq[sym] = uint32(1 + rng.IntN(1000))
			case 1: // exponential spread forces long codes and the length limit
				freq[sym] = uint32(1) << rng.IntN(24)
			default:
				freq[sym] = uint32(1 + rng.IntN(3))
			}
		}
		var lens [numSymbols]uint8
		b.buildLengths(&freq, &lens)
		kraft, cost := 0, uint64(0)
		for sym, l := range lens {
			if l > maxCodeLen {
				t.Fatalf("iter %d: symbol %d has length %d", iter, sym, l)
			}
			if freq[sym] != 0 && l == 0 {
				t.Fatalf("iter %d: used symbol %d has no code", iter, sym)
			}
			if l != 0 {
				kraft += 1 << (maxCodeLen - l)
			}
			cost += uint64(freq[sym]) * uint64(l)
		}
		if kraft != 1<<maxCodeLen {
			t.Fatalf("iter %d: Kraft sum %d, want %d", iter, kraft, 1<<maxCodeLen)
		}
		// Package-merge alone must reach the same cost (both are optimal).
		var pm [numSymbols]uint8
		b.packageMergeOnly = true
		b.buildLengths(&freq, &pm)
		b.packageMergeOnly = false
		pmCost := uint64(0)
		for sym, l := range pm {
			pmCost += uint64(freq[sym]) * uint64(l)
		}
		if pmCost != cost {
			t.Fatalf("iter %d: cost %d, package-merge %d", iter, cost, pmCost)
		}
		// And the table must decode.
		var hdr [tableBytes]byte
		for i := range hdr {
			hdr[i] = lens[2*i] | lens[2*i+1]<<4
		}
		var table [decodeTableLen]uint16
		if err := buildDecodeTable(&table, hdr[:]); err != nil {
			t.Fatalf("iter %d: %v", iter, err)
		}
	}
}
