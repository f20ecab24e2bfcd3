package lzx

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestBestSplitsChangingData: at LevelBest a chunk whose data changes kind
// midway (Go text, then machine code) is coded as several blocks, decodes,
// and is smaller than the same chunk coded as one block.
func TestBestSplitsChangingData(t *testing.T) {
	text, code := sampleText(t, 1<<20), sampleBinary(t, 1<<20)
	chunks := [][]byte{
		slices.Concat(text[:16384], code[200000:216384]),
		slices.Concat(code[300000:310000], text[50000:60000], code[400000:412768]),
		slices.Concat(text[100000:120000], sampleRandom(12768, 9)),
	}
	split, _ := NewCompressorLevel(32768, LevelBest)
	whole, _ := NewCompressorLevel(32768, LevelBest)
	whole.splitPasses = 0
	d := NewDecompressor()
	for i, src := range chunks {
		dst := make([]byte, len(src))
		n := split.Compress(dst, src)
		if n == 0 {
			t.Fatalf("chunk %d: not compressed", i)
		}
		d.blockTypes = [4]int{}
		out := make([]byte, len(src))
		if err := d.DecompressChunk(out, dst[:n], 32768); err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
		if !bytes.Equal(out, src) {
			t.Fatalf("chunk %d: round trip differs", i)
		}
		blocks := d.blockTypes[blockVerbatim] + d.blockTypes[blockAligned] + d.blockTypes[blockUncompressed]
		nw := whole.Compress(make([]byte, len(src)), src)
		t.Logf("chunk %d: %d blocks %v, %d bytes; one block %d bytes", i, blocks, d.blockTypes, n, nw)
		if blocks < 2 {
			t.Errorf("chunk %d: %d block(s), want a split", i, blocks)
		}
		if n >= nw {
			t.Errorf("chunk %d: split %d bytes, not smaller than one block's %d", i, n, nw)
		}
	}
}

// TestRefineLensSmallerAndDecodes: code lengths coded by refineLens take no
// more bits than writeLens's greedy coding, and the decoder reads them back.
func TestRefineLensSmallerAndDecodes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var greedyBits, refinedBits int
	for trial := range 400 {
		n := []int{numChars, numChars + 8*30, numLengthSyms}[trial%3]
		lens, prev := make([]uint8, n), make([]uint8, n)
		zeroShare, runShare := r.IntN(10), r.IntN(10)
		for i := range lens {
			switch {
			case r.IntN(10) < zeroShare:
			case i > 0 && r.IntN(10) < runShare:
				lens[i] = lens[i-1]
			default:
				lens[i] = uint8(1 + r.IntN(16))
			}
			if trial%2 == 1 {
				// A later block: deltas from the lengths before.
				prev[i] = lens[i]
				if r.IntN(3) == 0 {
					prev[i] = uint8(r.IntN(17))
				}
			}
		}
		var bits [2]int
		var coded []byte
		for k, opt := range []bool{false, true} {
			var b blockWriter
			b.optimalLens = opt
			buf := make([]byte, 4096)
			b.w.init(buf)
			b.writeLens(lens, prev)
			bits[k] = b.w.bits()
			coded = buf[:b.w.flush()]
		}
		if bits[1] > bits[0] {
			t.Errorf("trial %d: refined %d bits, greedy %d", trial, bits[1], bits[0])
		}
		greedyBits += bits[0]
		refinedBits += bits[1]
		d := NewDecompressor()
		d.r.init(coded, 0)
		got := slices.Clone(prev)
		if err := d.readLens(got); err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		if !bytes.Equal(got, lens) {
			t.Fatalf("trial %d: decoded lengths differ", trial)
		}
	}
	t.Logf("greedy %d bits, refined %d bits (%.2f%%)", greedyBits, refinedBits, 100*float64(refinedBits-greedyBits)/float64(greedyBits))
}
