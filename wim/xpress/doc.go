// Package xpress implements the XPRESS Huffman compression format
// ("LZ77+Huffman", [MS-XCA] sections 2.1 and 2.2) as the Windows Imaging
// (WIM) format uses it.
//
// In a WIM file every chunk of a resource (at most 64 KiB) is compressed on
// its own, and with XPRESS each chunk is exactly one Huffman block: a
// 256-byte table of 512 four-bit code lengths, then a bit stream of 16-bit
// little-endian words with the few extra length bytes interleaved. The
// uncompressed size of a chunk is known from the container, so the stream
// ends when that many bytes have been produced; no end-of-data symbol is
// required.
//
// Decompressor and Compressor are reusable and allocate nothing after their
// first use; they are not safe for concurrent use. Decompress is a
// convenience wrapper for a single chunk.
package xpress

import "errors"

const (
	numLiterals = 256
	numSymbols  = 512
	maxCodeLen  = 15
	tableBytes  = numSymbols / 2
	minMatchLen = 3
	maxOffset   = 65535
	// MaxChunkSize is the largest chunk this package compresses; WIM XPRESS
	// chunks are at most 64 KiB.
	MaxChunkSize = 1 << 16
)

// ErrCorrupt is wrapped by every error Decompress returns for malformed input.
var ErrCorrupt = errors.New("xpress: corrupt compressed data")
