package wim

import (
	"errors"
	"fmt"

	"github.com/reseal/reseal/wim/lzms"
	"github.com/reseal/reseal/wim/lzx"
	"github.com/reseal/reseal/wim/xpress"
)

// decoders holds one reusable decompressor per format; not safe for
// concurrent use (each goroutine that reads makes its own).
// It also keeps the most recently decoded chunks of solid resources (see
// chunkCache), so that blobs read in file order decode each solid chunk once.
type decoders struct {
	xpress *xpress.Decompressor
	lzx    *lzx.Decompressor
	lzms   *lzms.Decompressor
	solid  chunkCache
	plain  chunkBufs // shared by the readers of non-solid resources, one at a time
}

func newDecoders() *decoders { return &decoders{} }

func (d *decoders) solidReader(part *chunkedData) *chunkReader {
	return &chunkReader{data: part, dec: d, bufs: &d.solid.bufs, cache: &d.solid, current: -1}
}

// solidCacheBudget bounds the decoded solid chunks a decoders keeps: two
// chunks of an ESD file (64 MiB each), or many smaller ones. The chunk being
// read is always kept, whatever its size.
const solidCacheBudget = 128 << 20

// chunkCache keeps decoded solid chunks, least recently used first, within
// solidCacheBudget bytes.
type chunkCache struct {
	entries []cachedChunk
	bytes   int64
	bufs    chunkBufs // for the stored bytes of the chunk being decoded
}

type cachedChunk struct {
	part  *chunkedData
	index int
	data  []byte
}

// maxCachedChunks bounds the entries (and so the cost of a lookup).
const maxCachedChunks = 16

// get returns the cached chunk and marks it most recently used.
func (c *chunkCache) get(part *chunkedData, index int) ([]byte, bool) {
	for i := len(c.entries) - 1; i >= 0; i-- {
		e := c.entries[i]
		if e.part == part && e.index == index {
			copy(c.entries[i:], c.entries[i+1:])
			c.entries[len(c.entries)-1] = e
			return e.data, true
		}
	}
	return nil, false
}

// alloc returns a buffer of n bytes for a chunk about to be decoded,
// evicting (and reusing the memory of) the least recently used chunks
// beyond the budget.
func (c *chunkCache) alloc(n int64) []byte {
	var spare []byte
	for len(c.entries) > 0 && (c.bytes+n > solidCacheBudget || len(c.entries) >= maxCachedChunks) {
		e := c.entries[0]
		c.entries = c.entries[1:]
		c.bytes -= int64(cap(e.data))
		if int64(cap(e.data)) >= n && spare == nil {
			spare = e.data
		}
	}
	if spare != nil {
		return spare[:n]
	}
	return make([]byte, n)
}

// put records a decoded chunk (its buffer from alloc).
func (c *chunkCache) put(part *chunkedData, index int, data []byte) {
	c.entries = append(c.entries, cachedChunk{part: part, index: index, data: data})
	c.bytes += int64(cap(data))
}

// decompress decodes one chunk of a resource whose chunk size is chunkSize.
func (d *decoders) decompress(c Compression, dst, src []byte, chunkSize int64) error {
	switch c {
	case CompressXPRESS:
		if d.xpress == nil {
			d.xpress = xpress.NewDecompressor()
		}
		return d.xpress.Decompress(dst, src)
	case CompressLZX:
		if d.lzx == nil {
			d.lzx = lzx.NewDecompressor()
		}
		return d.lzx.DecompressChunk(dst, src, int(chunkSize))
	case CompressLZMS:
		if d.lzms == nil {
			d.lzms = lzms.NewDecompressor()
		}
		return d.lzms.Decompress(dst, src)
	}
	return fmt.Errorf("%v decompression is not available (see docs/codecs.md): %w", c, errors.ErrUnsupported)
}

// canDecompress reports whether this build can read c.
func canDecompress(c Compression) bool {
	return c == CompressNone || c == CompressXPRESS || c == CompressLZX || c == CompressLZMS
}

// chunkCompressor compresses one chunk; compress returns 0 when the result
// would not be smaller than the input.
type chunkCompressor interface {
	Compress(dst, src []byte) int
}

// CompressionLevel chooses how hard the compressor searches.
type CompressionLevel int

const (
	CompressionLevelDefault CompressionLevel = iota
	// CompressionLevelMax is LZX's slowest and smallest level (lzx.LevelBest);
	// the other formats compress as by default.
	CompressionLevelMax
)

func newChunkCompressor(c Compression, chunkSize int, level CompressionLevel) (chunkCompressor, error) {
	switch c {
	case CompressXPRESS:
		return xpress.NewCompressor(chunkSize)
	case CompressLZX:
		if level == CompressionLevelMax {
			return lzx.NewCompressorLevel(chunkSize, lzx.LevelBest)
		}
		return lzx.NewCompressor(chunkSize)
	case CompressLZMS:
		return lzms.NewCompressor(chunkSize)
	}
	return nil, fmt.Errorf("%v compression is not available", c)
}

// minLZMSChunkSize is the smallest LZMS chunk size wimlib accepts.
const minLZMSChunkSize = 1 << 15

// canCompress reports whether this build can write c with chunks of chunkSize.
func canCompress(c Compression, chunkSize int) bool {
	switch c {
	case CompressNone:
		return true
	case CompressXPRESS:
		return chunkSize <= xpress.MaxChunkSize
	case CompressLZX:
		return chunkSize >= lzx.MinChunkSize && chunkSize <= lzx.MaxChunkSize
	case CompressLZMS:
		return chunkSize >= minLZMSChunkSize && chunkSize <= lzms.MaxChunkSize
	}
	return false
}
