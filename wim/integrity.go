package wim

import (
	"context"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"io"
)

// The integrity table holds the SHA-1 of each 10 MiB chunk of the file from
// the end of the header to the end of the blob table: u32 table size, u32
// entry count, u32 chunk size, then the digests.

func integrityRange(h *Header) (int64, int64) {
	return headerSize, h.blobTable.Offset + h.blobTable.StoredSize
}

// computeIntegrity hashes r's bytes [start, end) in chunks of chunkSize.
func computeIntegrity(ctx context.Context, r io.ReaderAt, start, end int64, chunkSize int64, progress func(done, total int64)) ([]Hash, error) {
	var out []Hash
	buf := make([]byte, min(chunkSize, max(end-start, 1)))
	for off := start; off < end; off += chunkSize {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := min(chunkSize, end-off)
		b := buf[:n]
		if _, err := r.ReadAt(b, off); err != nil {
			return nil, fmt.Errorf("read offset %d for the integrity table: %w", off, err)
		}
		out = append(out, sha1.Sum(b))
		if progress != nil {
			progress(off+n-start, end-start)
		}
	}
	return out, nil
}

func marshalIntegrity(hashes []Hash, chunkSize uint32) []byte {
	b := make([]byte, 12+20*len(hashes))
	binary.LittleEndian.PutUint32(b[0:], uint32(len(b)))
	binary.LittleEndian.PutUint32(b[4:], uint32(len(hashes)))
	binary.LittleEndian.PutUint32(b[8:], chunkSize)
	for i, h := range hashes {
		copy(b[12+20*i:], h[:])
	}
	return b
}

// checkIntegrity compares the integrity table with the file and returns the
// problems found.
func (r *Reader) checkIntegrity(ctx context.Context, part int) ([]Problem, error) {
	pr, psize, ph := r.partFile(part)
	it := ph.integrity
	if it.OrigSize > 1<<28 {
		return []Problem{{What: "integrity table", Offset: it.Offset, Message: fmt.Sprintf("implausible size %d", it.OrigSize)}}, nil
	}
	data, err := r.readWholeResourceOf(part, it, 1<<28, "integrity table")
	if err != nil {
		return []Problem{{What: "integrity table", Offset: it.Offset, Message: err.Error()}}, nil
	}
	if len(data) < 12 {
		return []Problem{{What: "integrity table", Offset: it.Offset, Message: "too short"}}, nil
	}
	count := int64(binary.LittleEndian.Uint32(data[4:]))
	chunk := int64(binary.LittleEndian.Uint32(data[8:]))
	start, end := integrityRange(ph)
	if chunk == 0 || 12+20*count > int64(len(data)) {
		return []Problem{{What: "integrity table", Offset: it.Offset, Message: fmt.Sprintf("%d entries of chunk size %d do not fit in %d bytes", count, chunk, len(data))}}, nil
	}
	if want := (end - start + chunk - 1) / chunk; want != count {
		return []Problem{{What: "integrity table", Offset: it.Offset, Message: fmt.Sprintf("has %d entries, the checked region needs %d", count, want)}}, nil
	}
	if end > psize {
		return []Problem{{What: "integrity table", Offset: it.Offset, Message: "checked region runs past the end of the file"}}, nil
	}
	got, err := computeIntegrity(ctx, pr, start, end, chunk, nil)
	if err != nil {
		return nil, err
	}
	var problems []Problem
	for i, h := range got {
		if [20]byte(data[12+20*i:]) != h {
			problems = append(problems, Problem{What: "integrity table", Offset: start + int64(i)*chunk, Message: fmt.Sprintf("chunk %d (bytes %d..%d) does not match its SHA-1", i, start+int64(i)*chunk, min(end, start+int64(i+1)*chunk))})
		}
	}
	return problems, nil
}
