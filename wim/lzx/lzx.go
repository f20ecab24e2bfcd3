// Package lzx implements LZX compression as the Windows Imaging (WIM) format
// uses it.
//
// Each WIM chunk (32 KiB by default, any power of two up to 2 MiB) is one
// independent LZX stream: the repeated offsets start at 1, the code lengths
// at zero, and the x86 E8 call translation is always applied with a
// translation size of 12,000,000 and positions counted from the start of the
// chunk. Unlike the cabinet (CAB) variant there is no translation header, and
// a block's size is one bit meaning "32768" or else a 16-bit field (24 bits
// when the window is 64 KiB or larger).
//
// The window of a stream is the WIM chunk size rounded up to a power of two
// of at least 32 KiB; it decides how many position slots the main alphabet
// has. Every chunk of a resource, the short last one included, uses the
// window of the WIM's chunk size. Decompress derives the window from
// len(dst), which is right for full chunks and for WIMs with 32 KiB chunks;
// when the window is larger than that it retries with each larger window.
// DecompressChunk takes the WIM chunk size and needs no guessing.
//
// The format follows Microsoft's LZX DELTA specification ([MS-PATCH]) and the
// Microsoft Cabinet LZX description, with the WIM differences above.
package lzx

import (
	"errors"
	"fmt"
	"math/bits"
)

const (
	// MinChunkSize and MaxChunkSize bound the WIM chunk sizes LZX is used with.
	MinChunkSize = 1 << 15
	MaxChunkSize = 1 << 21

	minMatch = 2
	maxMatch = 257

	numChars          = 256
	numPrimaryLengths = 7
	numLengthSyms     = 249
	numPretreeSyms    = 20
	numAlignedSyms    = 8
	maxMainSyms       = numChars + 8*50

	maxCodeLen        = 16 // main and length codes
	maxPretreeCodeLen = 15 // lengths are sent in 4 bits
	maxAlignedCodeLen = 7  // lengths are sent in 3 bits

	blockVerbatim     = 1
	blockAligned      = 2
	blockUncompressed = 3

	defaultBlockSize = 32768

	// e8FileSize is the translation size WIM always uses for E8 call translation.
	e8FileSize = 12000000
	// e8Tail is how many bytes at the end of a chunk E8 translation leaves alone.
	e8Tail = 10
)

// ErrCorrupt is wrapped by every error Decompress returns for malformed input.
var ErrCorrupt = errors.New("lzx: corrupt input")

// corruptf returns an error wrapping ErrCorrupt.
func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

// positionBase and extraBits describe the position slots: a formatted offset
// (match offset + 2) in slot s is positionBase[s] plus extraBits[s] extra bits.
var (
	positionBase [51]uint32
	extraBits    [51]uint8
)

func init() {
	base := uint32(0)
	for s := range positionBase {
		var eb uint8
		if s >= 4 {
			eb = uint8(min((s-2)/2, 17))
		}
		extraBits[s] = eb
		positionBase[s] = base
		base += 1 << eb
	}
}

// windowOrder returns log2 of the LZX window for a WIM chunk size.
func windowOrder(chunkSize int) int {
	if chunkSize <= MinChunkSize {
		return 15
	}
	return bits.Len(uint(chunkSize - 1))
}

// numPositionSlots returns how many position slots a window of 1<<order has.
func numPositionSlots(order int) int {
	switch order {
	case 15:
		return 30
	case 16:
		return 32
	case 17:
		return 34
	case 18:
		return 36
	case 19:
		return 38
	case 20:
		return 42
	default:
		return 50
	}
}

// positionSlot returns the slot of a formatted offset (offset + 2).
func positionSlot(formatted uint32) int {
	if formatted < 4 {
		return int(formatted)
	}
	if formatted >= positionBase[36] {
		return 36 + int((formatted-positionBase[36])>>17)
	}
	// Slots come in pairs of equal size: the top two bits pick within the pair.
	hb := bits.Len32(formatted) - 1
	return 2*hb + int((formatted>>(hb-1))&1)
}
