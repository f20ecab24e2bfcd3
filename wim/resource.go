package wim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
)

// chunkedData is the uncompressed content of one resource, divided into
// independently compressed chunks. Non-solid resources use the header's chunk
// size and compression and a chunk table of offsets; solid resources carry
// their own chunk size, compression and a table of chunk sizes.
type chunkedData struct {
	r         io.ReaderAt
	where     int64 // file offset of the resource, for messages
	base      int64 // file offset of the first chunk
	chunkSize int64
	origSize  int64
	comp      Compression
	offs      []int64 // chunk i is at base+offs[i] .. base+offs[i+1]
	// raw: the resource is stored uncompressed, its bytes at base..base+origSize
	// (uncompressedChunks): a reader may read them straight into its buffer.
	raw bool
	// decoded counts the chunks decompressed from this resource, so that
	// tests can check that reading a solid resource in order decodes each
	// chunk once.
	decoded atomic.Int64
	// decodedAhead counts the chunks of decoded that a read-ahead decoded.
	decodedAhead atomic.Int64
}

func (c *chunkedData) numChunks() int { return len(c.offs) - 1 }

// chunkLen is the uncompressed length of chunk i.
func (c *chunkedData) chunkLen(i int) int64 {
	start := int64(i) * c.chunkSize
	return min(c.chunkSize, c.origSize-start)
}

// uncompressedChunks describes a resource stored raw: no chunk table, every
// chunk stored as is.
func uncompressedChunks(r io.ReaderAt, res resHeader, fileSize int64) (*chunkedData, error) {
	if res.StoredSize != res.OrigSize {
		return nil, formatErr("uncompressed resource at offset %d: stored size %d differs from size %d", res.Offset, res.StoredSize, res.OrigSize)
	}
	if err := checkSpan(res, fileSize); err != nil {
		return nil, err
	}
	const step = 1 << 20
	n := (res.OrigSize + step - 1) / step
	offs := make([]int64, 0, n+1)
	for o := int64(0); o < res.OrigSize; o += step {
		offs = append(offs, o)
	}
	offs = append(offs, res.OrigSize)
	return &chunkedData{r: r, where: res.Offset, base: res.Offset, chunkSize: step, origSize: res.OrigSize, comp: CompressNone, offs: offs, raw: true}, nil
}

func checkSpan(res resHeader, fileSize int64) error {
	if res.Offset < 0 || res.StoredSize < 0 || res.Offset > fileSize || res.StoredSize > fileSize-res.Offset {
		return formatErr("resource at offset %d with %d bytes runs past the end of the file (%d bytes)", res.Offset, res.StoredSize, fileSize)
	}
	return nil
}

// openResource describes a non-solid resource, compressed or not.
func openResource(r io.ReaderAt, res resHeader, fileSize int64, comp Compression, chunkSize int64) (*chunkedData, error) {
	if res.Flags&resFlagSolid != 0 {
		return nil, formatErr("resource at offset %d is solid where a plain resource was expected", res.Offset)
	}
	if res.OrigSize < 0 {
		return nil, formatErr("resource at offset %d has negative size", res.Offset)
	}
	if !res.compressed() || comp == CompressNone {
		return uncompressedChunks(r, res, fileSize)
	}
	if err := checkSpan(res, fileSize); err != nil {
		return nil, err
	}
	if res.OrigSize == 0 {
		return &chunkedData{r: r, where: res.Offset, base: res.Offset, chunkSize: chunkSize, comp: comp, offs: []int64{0}}, nil
	}
	n := (res.OrigSize + chunkSize - 1) / chunkSize
	entry := int64(4)
	if res.OrigSize > 0xffffffff {
		entry = 8
	}
	tableSize := (n - 1) * entry
	if n < 1 || tableSize > res.StoredSize || n > res.StoredSize+1 {
		return nil, formatErr("compressed resource at offset %d: %d chunks cannot fit in %d bytes", res.Offset, n, res.StoredSize)
	}
	if n > maxResourceChunks {
		return nil, fmt.Errorf("%w: resource at offset %d: %d bytes in %d chunks (more than %d)", ErrLimit, res.Offset, res.OrigSize, n, maxResourceChunks)
	}
	table := make([]byte, tableSize)
	if _, err := r.ReadAt(table, res.Offset); err != nil {
		return nil, fmt.Errorf("read chunk table at offset %d: %w", res.Offset, err)
	}
	dataSize := res.StoredSize - tableSize
	offs := make([]int64, n+1)
	for i := int64(1); i < n; i++ {
		var o int64
		if entry == 4 {
			o = int64(binary.LittleEndian.Uint32(table[(i-1)*4:]))
		} else {
			o = int64(binary.LittleEndian.Uint64(table[(i-1)*8:]))
		}
		offs[i] = o
	}
	offs[n] = dataSize
	c := &chunkedData{r: r, where: res.Offset, base: res.Offset + tableSize, chunkSize: chunkSize, origSize: res.OrigSize, comp: comp, offs: offs}
	return c, c.checkOffsets()
}

func (c *chunkedData) checkOffsets() error {
	for i := 0; i < c.numChunks(); i++ {
		size := c.offs[i+1] - c.offs[i]
		if size <= 0 || size > c.chunkLen(i) || c.offs[i] < 0 {
			return formatErr("resource at offset %d: chunk %d has invalid stored size %d", c.where, i, size)
		}
	}
	return nil
}

// openSolid describes a solid resource: a 16-byte header (uncompressed size,
// chunk size, compression format) and a table of compressed chunk sizes.
func openSolid(r io.ReaderAt, res resHeader, fileSize int64) (*chunkedData, error) {
	if err := checkSpan(res, fileSize); err != nil {
		return nil, err
	}
	if res.StoredSize < 16 {
		return nil, formatErr("solid resource at offset %d too short", res.Offset)
	}
	var hdr [16]byte
	if _, err := r.ReadAt(hdr[:], res.Offset); err != nil {
		return nil, fmt.Errorf("read solid resource header at offset %d: %w", res.Offset, err)
	}
	origSize := int64(binary.LittleEndian.Uint64(hdr[0:8]))
	chunkSize := int64(binary.LittleEndian.Uint32(hdr[8:12]))
	format := binary.LittleEndian.Uint32(hdr[12:16])
	if format > uint32(CompressLZMS) {
		return nil, formatErr("solid resource at offset %d: unknown compression %d", res.Offset, format)
	}
	if chunkSize < 4096 || chunkSize > maxChunkSize || chunkSize&(chunkSize-1) != 0 {
		return nil, formatErr("solid resource at offset %d: invalid chunk size %d", res.Offset, chunkSize)
	}
	if origSize < 0 {
		return nil, formatErr("solid resource at offset %d: invalid size", res.Offset)
	}
	n := (origSize + chunkSize - 1) / chunkSize
	tableSize := n * 4
	if n > maxResourceChunks {
		return nil, fmt.Errorf("%w: solid resource at offset %d: %d bytes in %d chunks (more than %d)", ErrLimit, res.Offset, origSize, n, maxResourceChunks)
	}
	if tableSize > res.StoredSize-16 {
		return nil, formatErr("solid resource at offset %d: %d chunks cannot fit in %d bytes", res.Offset, n, res.StoredSize)
	}
	table := make([]byte, tableSize)
	if _, err := r.ReadAt(table, res.Offset+16); err != nil {
		return nil, fmt.Errorf("read solid chunk table at offset %d: %w", res.Offset+16, err)
	}
	offs := make([]int64, n+1)
	for i := int64(0); i < n; i++ {
		offs[i+1] = offs[i] + int64(binary.LittleEndian.Uint32(table[i*4:]))
	}
	if offs[n] > res.StoredSize-16-tableSize {
		return nil, formatErr("solid resource at offset %d: chunks exceed the resource", res.Offset)
	}
	c := &chunkedData{r: r, where: res.Offset, base: res.Offset + 16 + tableSize, chunkSize: chunkSize, origSize: origSize, comp: Compression(format), offs: offs}
	return c, c.checkOffsets()
}

// chunkReader decodes chunks of one chunkedData, reusing its buffers.
type chunkReader struct {
	data    *chunkedData
	dec     *decoders
	bufs    *chunkBufs
	cur     []byte // the current chunk: bufs.raw or bufs.out
	current int    // index of the chunk in cur, or -1
	// cache, for solid resources, keeps decoded chunks across readers.
	cache *chunkCache
}

// chunkBufs are the buffers of a chunkReader, kept by decoders so that
// reading many small blobs in turn allocates nothing.
type chunkBufs struct {
	raw []byte // stored bytes of the current chunk
	out []byte // decoded bytes of the current chunk
}

func newChunkReader(c *chunkedData, dec *decoders) *chunkReader {
	return &chunkReader{data: c, dec: dec, bufs: &dec.plain, current: -1}
}

// chunk returns the uncompressed bytes of chunk i, valid until the next call.
func (cr *chunkReader) chunk(i int) ([]byte, error) {
	// A cached chunk may have been evicted by another reader of the same
	// cache since: ask the cache every time.
	if i == cr.current && cr.cache == nil {
		return cr.cur, nil
	}
	cr.current = -1
	c := cr.data
	if i < 0 || i >= c.numChunks() {
		return nil, formatErr("resource at offset %d: chunk %d out of range", c.where, i)
	}
	if cr.cache != nil {
		if b, ok := cr.cache.get(c, i); ok {
			cr.cur, cr.current = b, i
			return b, nil
		}
	}
	want := c.chunkLen(i)
	raw, err := c.readStored(i, &cr.bufs.raw)
	if err != nil {
		return nil, err
	}
	if int64(len(raw)) == want {
		cr.cur, cr.current = raw, i
		return raw, nil
	}
	if cr.cache != nil {
		e := cr.cache.claim(c, i, want)
		err := c.decodeStored(i, cr.dec, raw, e.data)
		cr.cache.done(e, err == nil, true)
		if err != nil {
			return nil, err
		}
		cr.cur, cr.current = e.data, i
		return e.data, nil
	}
	if int64(cap(cr.bufs.out)) < want {
		cr.bufs.out = make([]byte, want)
	}
	out := cr.bufs.out[:want]
	if err := c.decodeStored(i, cr.dec, raw, out); err != nil {
		return nil, err
	}
	cr.cur, cr.current = out, i
	return out, nil
}

// readStored reads the stored bytes of chunk i (0 <= i < numChunks) into
// *buf, growing it as needed.
func (c *chunkedData) readStored(i int, buf *[]byte) ([]byte, error) {
	stored := c.offs[i+1] - c.offs[i]
	if int64(cap(*buf)) < stored {
		*buf = make([]byte, stored)
	}
	raw := (*buf)[:stored]
	if _, err := c.r.ReadAt(raw, c.base+c.offs[i]); err != nil {
		return nil, fmt.Errorf("read chunk %d of resource at offset %d: %w", i, c.where, err)
	}
	return raw, nil
}

// decodeStored decodes raw, the stored bytes of chunk i, into out
// (chunkLen(i) bytes); a chunk stored as it is is copied.
func (c *chunkedData) decodeStored(i int, dec *decoders, raw, out []byte) error {
	if len(raw) == len(out) {
		copy(out, raw)
		return nil
	}
	if c.comp == CompressNone {
		return formatErr("resource at offset %d: chunk %d stored with %d bytes, want %d", c.where, i, len(raw), len(out))
	}
	c.decoded.Add(1)
	if err := dec.decompress(c.comp, out, raw, c.chunkSize); err != nil {
		if errors.Is(err, errors.ErrUnsupported) {
			return fmt.Errorf("resource at offset %d: %w", c.where, err)
		}
		return fmt.Errorf("%w: resource at offset %d: chunk %d (file offset %d): %v", ErrFormat, c.where, i, c.base+c.offs[i], err)
	}
	return nil
}

// decodeChunk reads and decodes chunk i into out (chunkLen(i) bytes), with
// *raw as the buffer for its stored bytes.
func (c *chunkedData) decodeChunk(i int, dec *decoders, raw *[]byte, out []byte) error {
	b, err := c.readStored(i, raw)
	if err != nil {
		return err
	}
	return c.decodeStored(i, dec, b, out)
}

// sectionReader streams a range of the uncompressed data.
type sectionReader struct {
	cr        *chunkReader
	off, left int64
}

func (s *sectionReader) Read(p []byte) (int, error) {
	if s.left == 0 {
		return 0, io.EOF
	}
	c := s.cr.data
	if c.raw && s.cr.cache == nil {
		// Uncompressed: read into p itself, not into a chunk buffer to copy.
		n := int(min(int64(len(p)), s.left))
		if _, err := c.r.ReadAt(p[:n], c.base+s.off); err != nil {
			return 0, fmt.Errorf("read resource at offset %d (+%d): %w", c.where, s.off, err)
		}
		s.off += int64(n)
		s.left -= int64(n)
		return n, nil
	}
	i := int(s.off / c.chunkSize)
	b, err := s.cr.chunk(i)
	if err != nil {
		return 0, err
	}
	b = b[s.off-int64(i)*c.chunkSize:]
	if int64(len(b)) > s.left {
		b = b[:s.left]
	}
	n := copy(p, b)
	s.off += int64(n)
	s.left -= int64(n)
	return n, nil
}
