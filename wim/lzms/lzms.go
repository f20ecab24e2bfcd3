// Package lzms implements LZMS compression as the Windows Imaging (WIM)
// format uses it (WIM version 3584: "--compress=lzms", solid resources and
// ESD files).
//
// Each WIM chunk is one independent LZMS block. A block is decoded from its
// compressed bytes and its exact uncompressed size, which the container
// supplies; the block stores neither. It holds two bit streams in one
// buffer: range-coded binary decisions (item kinds, repeat indices) read
// forwards from the start in 16-bit little-endian units, and adaptive
// Huffman codewords and raw extra bits read backwards from the end. Items are
// literals, LZ matches and delta matches (byte-wise differences repeated at
// a distance that is a multiple of a power of two), with queues of recently
// used offsets. Every block is post-processed by an x86 filter that turns
// absolute call and RIP-relative addresses back into relative ones.
//
// The implementation follows the project's independent description of the
// format (shared/docs/lzms-format.md); what experiments against wimlib
// taught beyond it is in docs/codec-lzms.md.
//
// Decompressor and Compressor are reusable and allocate nothing after their
// first use with a given chunk size; they are not safe for concurrent use.
package lzms

import (
	"errors"
	"fmt"
)

const (
	// MaxChunkSize is the largest block this package decodes or encodes:
	// 64 MiB, the chunk size of ESD files and the largest Microsoft's
	// software accepts.
	MaxChunkSize = 1 << 26
	// MinCompressSize is the smallest input the encoder compresses; shorter
	// chunks are stored raw in a WIM.
	MinCompressSize = 4

	numLiterals     = 256
	numLengthSlots  = 54
	numDeltaPowers  = 8
	maxOffsetSlots  = 799
	maxCodeLen      = 15
	literalPeriod   = 1024
	offsetPeriod    = 1024
	lengthPeriod    = 512
	powerPeriod     = 512
	numRepeats      = 3 // visible repeat slots; the queues hold one more
	probBits        = 6
	probDenominator = 1 << probBits
	initialHist     = 0x0000000055555555
	initialZeros    = 48
)

// ErrCorrupt is wrapped by every error Decompress returns for malformed input.
var ErrCorrupt = errors.New("lzms: corrupt input")

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

// lengthBase and lengthExtra describe the length slots: a length in slot s
// is lengthBase[s] plus lengthExtra[s] raw bits. lengthBase has one more
// entry, the end of the last slot.
var (
	lengthBase  [numLengthSlots + 1]uint32
	lengthExtra [numLengthSlots]uint8
	offsetBase  [maxOffsetSlots + 1]uint32
	offsetExtra [maxOffsetSlots]uint8
	// lengthSlotSmall maps lengths below len(lengthSlotSmall) to their slot.
	lengthSlotSmall [1196]uint8
)

func init() {
	fill := func(extra []uint8, base []uint32, runs [][2]int) {
		i := 0
		for _, r := range runs {
			for k := 0; k < r[1]; k++ {
				extra[i] = uint8(r[0])
				i++
			}
		}
		base[0] = 1
		for s := range extra {
			base[s+1] = base[s] + 1<<extra[s]
		}
	}
	fill(lengthExtra[:], lengthBase[:], [][2]int{{0, 26}, {1, 4}, {2, 6}, {3, 4}, {4, 5}, {5, 2}, {6, 1}, {7, 1}, {8, 1}, {9, 1}, {10, 1}, {16, 1}, {30, 1}})
	fill(offsetExtra[:], offsetBase[:], [][2]int{{0, 8}, {2, 9}, {3, 7}, {4, 10}, {5, 15}, {6, 15}, {7, 20}, {8, 20}, {9, 30}, {10, 33}, {11, 40}, {12, 42}, {13, 45}, {14, 60}, {15, 73}, {16, 80}, {17, 85}, {18, 95}, {19, 105}, {20, 6}, {30, 1}})
	s := 0
	for l := 1; l < len(lengthSlotSmall); l++ {
		for uint32(l) >= lengthBase[s+1] {
			s++
		}
		lengthSlotSmall[l] = uint8(s)
	}
}

// offsetSlotSearch returns the slot of an offset v >= 1.
func offsetSlotSearch(v uint32) int {
	// Binary search: 799 slots, ten steps.
	lo, hi := 0, maxOffsetSlots-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if offsetBase[mid] <= v {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// numOffsetSlots is the size of the offset alphabets of a block of usize
// bytes: enough slots for offsets up to usize-1, and never fewer than two
// (blocks of one or two bytes are degenerate; a WIM never compresses them).
func numOffsetSlots(usize int) int {
	if usize < 3 {
		return 2
	}
	return 1 + offsetSlotSearch(uint32(usize-1))
}
