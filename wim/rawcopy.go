package wim

import (
	"context"
	"fmt"
	"io"
)

// Raw copying of resources between WIM files, shared by export, delete,
// optimize and the other operations that rewrite a WIM from one or more
// existing ones: a resource whose compression already suits the output is
// copied byte for byte (chunk table included), never decoded and encoded
// again; one that does not suit it is read back through the source's
// decoders and recompressed.

// canCopyRaw reports whether blob b of r can go into an output whose
// non-solid resources use comp with chunks of chunkSize as it is stored:
// a non-solid resource that is stored uncompressed (valid in any WIM when
// the output is uncompressed too), or one compressed with the same format
// and chunk size.
func (r *Reader) canCopyRaw(b *blob, comp Compression, chunkSize int) bool {
	if b.solid != nil {
		return false
	}
	_, _, ph := r.partFile(b.part)
	src := ph.Compression()
	if !b.res.compressed() || src == CompressNone {
		// Stored as is: in a compressed output it would be valid but
		// bigger than it needs to be, unless it was stored raw because
		// it does not compress (then the source was compressed too).
		return comp == CompressNone || (src == comp && int(ph.ChunkSize) == chunkSize)
	}
	return src == comp && int(ph.ChunkSize) == chunkSize
}

// copyRange copies n bytes at off in src to the end of out.
func copyRange(ctx context.Context, out *outFile, src io.ReaderAt, off, n int64, buf []byte) error {
	for n > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		k := min(int64(len(buf)), n)
		if _, err := src.ReadAt(buf[:k], off); err != nil {
			return fmt.Errorf("read offset %d: %w", off, err)
		}
		if _, err := out.Write(buf[:k]); err != nil {
			return err
		}
		off += k
		n -= k
	}
	return nil
}

// copyBlobRaw copies the stored bytes of b (a non-solid resource) to the end
// of out and returns its new blob table entry (reference count refs). The
// data is not decoded: export and optimize verify it only as far as its
// resource header and chunk table are concerned, as wimlib does.
func (r *Reader) copyBlobRaw(ctx context.Context, out *outFile, b *blob, refs uint32, buf []byte) (*blobEntry, error) {
	pr, psize, _ := r.partFile(b.part)
	if err := checkSpan(b.res, psize); err != nil {
		return nil, fmt.Errorf("blob %s: %w", b.hash, err)
	}
	start := out.pos
	if err := copyRange(ctx, out, pr, b.res.Offset, b.res.StoredSize, buf); err != nil {
		return nil, fmt.Errorf("blob %s: %w", b.hash, err)
	}
	res := b.res
	res.Offset = start
	res.Flags &^= resFlagSpanned | resFlagFree
	return &blobEntry{res: res, partNumber: 1, refCount: refs, hash: b.hash}, nil
}

// solidStoredEnd is the file offset just past solid resource part c.
func solidStoredEnd(c *chunkedData) int64 { return c.base + c.offs[len(c.offs)-1] }

// recompressSource returns a blob source that reads b back from r for the
// output's blob store or solid writer, which hash what they read: the
// caller compares that with b.hash. dec is shared by the sources read in
// turn, so that blobs of one solid chunk decode it once.
func (r *Reader) recompressSource(b *blob, refs uint32, dec *decoders) *blobSource {
	return &blobSource{
		size: b.size,
		refs: refs,
		hash: b.hash,
		open: func() (io.Reader, error) { return r.openChecked(b, dec) },
	}
}
