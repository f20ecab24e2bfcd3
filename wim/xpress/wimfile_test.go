package xpress

// XPRESS-specific helpers over the shared test-only WIM reader
// (wim/internal/wimtest): pull the chunks out of wimlib's WIMs and check
// our decoding of them against the SHA-1 wimlib's blob table records.

import (
	"bytes"
	"crypto/sha1"
	"fmt"
	"testing"

	"github.com/reseal/reseal/wim/internal/wimtest"
)

// chunksOf returns the stored chunks of a compressed blob and their
// uncompressed sizes.
func chunksOf(tb testing.TB, w *wimtest.File, b wimtest.Blob) (stored [][]byte, sizes []int) {
	tb.Helper()
	for _, c := range w.Chunks(tb, b.Res) {
		stored, sizes = append(stored, c.Stored), append(sizes, c.Size)
	}
	return stored, sizes
}

// decodeBlob decodes every chunk of b with dec and checks the SHA-1.
func decodeBlob(tb testing.TB, w *wimtest.File, b wimtest.Blob, dec func(dst, src []byte) error) (compressedChunks int, err error) {
	tb.Helper()
	var whole []byte
	for i, c := range w.Chunks(tb, b.Res) {
		if c.Raw() {
			whole = append(whole, c.Stored...)
			continue
		}
		compressedChunks++
		dst := make([]byte, c.Size)
		if err := dec(dst, c.Stored); err != nil {
			return compressedChunks, fmt.Errorf("blob at %d chunk %d (%d -> %d bytes): %w", b.Res.Offset, i, len(c.Stored), c.Size, err)
		}
		whole = append(whole, dst...)
	}
	if sum := sha1.Sum(whole); !bytes.Equal(sum[:], b.SHA1()) {
		return compressedChunks, fmt.Errorf("blob at %d: SHA-1 mismatch after decoding", b.Res.Offset)
	}
	return compressedChunks, nil
}
