package lzx

// LZX-specific helpers over the shared test-only WIM reader
// (wim/internal/wimtest): capture with wimlib, decode every chunk wimlib
// wrote, and recompress every chunk with ours so that wimlib can judge them.

import (
	"bytes"
	"crypto/sha1"
	"fmt"
	"slices"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
	"github.com/reseal/reseal/wim/internal/wimtest"
)

// rewriteStats describes the chunks a rewrite wrote.
type rewriteStats struct {
	compressed, raw   int
	verbatim, aligned int // blocks
	uncompressed      int // blocks
	emptyLengthCode   int // compressed chunks whose last block has no length code
	multiBlock        int // compressed chunks of several blocks
}

// rewrite returns a copy of the WIM in which every compressed chunk is
// recompressed with compress (0 meaning "store raw"), each of ours checked
// to decode, with the kinds of blocks it used counted.
func rewrite(tb testing.TB, w *wimtest.File, compress func(dst, src []byte) int) ([]byte, rewriteStats) {
	tb.Helper()
	var stats rewriteStats
	dec, check := NewDecompressor(), NewDecompressor()
	buf := make([]byte, w.ChunkSize)
	out := w.Rewrite(tb, func(bi, ci int, c wimtest.Chunk) []byte {
		plain := make([]byte, c.Size)
		if c.Raw() {
			copy(plain, c.Stored)
		} else if err := dec.DecompressChunk(plain, c.Stored, w.ChunkSize); err != nil {
			tb.Fatalf("blob %d chunk %d: %v", bi, ci, err)
		}
		n := compress(buf[:c.Size-1], plain)
		if n == 0 {
			stats.raw++
			return plain
		}
		stats.compressed++
		check.blockTypes = [4]int{}
		if err := check.DecompressChunk(make([]byte, c.Size), buf[:n], w.ChunkSize); err != nil {
			tb.Fatalf("blob %d chunk %d: our own chunk does not decode: %v", bi, ci, err)
		}
		stats.verbatim += check.blockTypes[blockVerbatim]
		stats.aligned += check.blockTypes[blockAligned]
		stats.uncompressed += check.blockTypes[blockUncompressed]
		if check.blockTypes[blockVerbatim]+check.blockTypes[blockAligned]+check.blockTypes[blockUncompressed] > 1 {
			stats.multiBlock++
		}
		if !slices.ContainsFunc(check.lengthLens[:], func(l uint8) bool { return l != 0 }) {
			stats.emptyLengthCode++
		}
		return slices.Clone(buf[:n])
	})
	return out, stats
}

// captureLZX captures dir into a new LZX WIM with wimlib and reads it.
func captureLZX(tb testing.TB, dir string, chunkSize int) *wimtest.File {
	tb.Helper()
	imagex := testenv.Peer(tb, "wimlib-imagex")
	w := wimtest.Read(tb, wimtest.Capture(tb, imagex, dir, "--compress=lzx", "--no-acls", fmt.Sprintf("--chunk-size=%d", chunkSize)))
	if w.Flags&wimtest.FlagCompressMask != wimtest.FlagCompressLZX {
		tb.Fatalf("header flags %#x: not LZX", w.Flags)
	}
	return w
}

// checkDecodesAll decodes every chunk of every blob with ours and checks the
// blob's SHA-1 from wimlib's blob table. It returns how many chunks were LZX
// and how many of those had several blocks.
func checkDecodesAll(tb testing.TB, w *wimtest.File, useChunkSize bool) (compressed, multiBlock int) {
	tb.Helper()
	dec := NewDecompressor()
	for bi, b := range w.Blobs {
		h := sha1.New()
		for ci, c := range w.Chunks(tb, b.Res) {
			if c.Raw() || !b.Res.Compressed() {
				h.Write(c.Stored)
				continue
			}
			compressed++
			plain := make([]byte, c.Size)
			dec.blockTypes = [4]int{}
			var err error
			if useChunkSize {
				err = dec.DecompressChunk(plain, c.Stored, w.ChunkSize)
			} else {
				err = dec.Decompress(plain, c.Stored)
			}
			if err != nil {
				tb.Fatalf("blob %d chunk %d (%d -> %d bytes, chunk size %d): %v", bi, ci, len(c.Stored), c.Size, w.ChunkSize, err)
			}
			if dec.blockTypes[blockVerbatim]+dec.blockTypes[blockAligned]+dec.blockTypes[blockUncompressed] > 1 {
				multiBlock++
			}
			h.Write(plain)
		}
		if got := h.Sum(nil); !bytes.Equal(got, b.SHA1()) {
			tb.Fatalf("blob %d: SHA-1 %x, wimlib says %x", bi, got, b.SHA1())
		}
	}
	return compressed, multiBlock
}
