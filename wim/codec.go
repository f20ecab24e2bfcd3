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
