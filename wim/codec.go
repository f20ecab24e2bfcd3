package wim

import (
	"errors"
	"fmt"

	"github.com/reseal/reseal/wim/lzx"
	"github.com/reseal/reseal/wim/xpress"
)

// decoders holds one reusable decompressor per format; not safe for
// concurrent use (each goroutine that reads makes its own).
// It also keeps the chunk reader of the solid resource read last, so that
// consecutive blobs of one solid chunk decode it once.
type decoders struct {
	xpress      *xpress.Decompressor
	lzx         *lzx.Decompressor
	solidPart   *chunkedData
	solidChunks *chunkReader
	plain       chunkBufs // shared by the readers of non-solid resources, one at a time
}

func newDecoders() *decoders { return &decoders{} }

func (d *decoders) solidReader(part *chunkedData) *chunkReader {
	if d.solidPart != part {
		d.solidPart, d.solidChunks = part, &chunkReader{data: part, dec: d, bufs: &chunkBufs{}, current: -1}
	}
	return d.solidChunks
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
	}
	return fmt.Errorf("%v decompression is not available (see docs/codecs.md): %w", c, errors.ErrUnsupported)
}

// canDecompress reports whether this build can read c.
func canDecompress(c Compression) bool {
	return c == CompressNone || c == CompressXPRESS || c == CompressLZX
}

// chunkCompressor compresses one chunk; compress returns 0 when the result
// would not be smaller than the input.
type chunkCompressor interface {
	Compress(dst, src []byte) int
}

func newChunkCompressor(c Compression, chunkSize int) (chunkCompressor, error) {
	switch c {
	case CompressXPRESS:
		return xpress.NewCompressor(chunkSize)
	case CompressLZX:
		return lzx.NewCompressor(chunkSize)
	}
	return nil, fmt.Errorf("%v compression is not available", c)
}

// canCompress reports whether this build can write c with chunks of chunkSize.
func canCompress(c Compression, chunkSize int) bool {
	switch c {
	case CompressNone:
		return true
	case CompressXPRESS:
		return chunkSize <= xpress.MaxChunkSize
	case CompressLZX:
		return chunkSize >= lzx.MinChunkSize && chunkSize <= lzx.MaxChunkSize
	}
	return false
}
