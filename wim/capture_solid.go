package wim

import (
	"bytes"
	"context"
	"crypto/sha1"
	"fmt"
	"io"
)

// storeSolid writes the sources of a capture into one solid resource and
// returns its resource entry and the blob entries (nil, nil when there is
// no data). A solid resource cannot drop a blob once written, so the
// duplicates are found first: sources whose size no other source (and no
// blob the WIM already has) shares cannot be duplicates and are hashed
// while they are written; the others are hashed beforehand. Each source's
// hash is set; a duplicate adds its references to the blob kept.
func storeSolid(ctx context.Context, out *outFile, known map[Hash]*blobEntry, srcs []*blobSource, comp Compression, chunkSize, threads int, progress func(done, total int64)) (*blobEntry, []*blobEntry, error) {
	sizes := map[int64]int{}
	for _, e := range known {
		size := e.res.OrigSize
		if e.res.Flags&resFlagSolid != 0 {
			size = e.res.StoredSize
		}
		sizes[size] = 2
	}
	for _, s := range srcs {
		if s.size > 0 {
			sizes[s.size]++
		}
	}
	buf := make([]byte, 1<<20)
	prehashed := map[*blobSource]bool{}
	for _, s := range srcs {
		if s.size > 0 && sizes[s.size] > 1 {
			h := sha1.New()
			if err := s.copyTo(ctx, h, buf); err != nil {
				return nil, nil, err
			}
			h.Sum(s.hash[:0])
			prehashed[s] = true
		}
	}
	var keep []*blobSource
	var total int64
	first := map[Hash]*blobSource{}
	for _, s := range srcs {
		if s.size == 0 {
			continue
		}
		if prehashed[s] {
			if e := known[s.hash]; e != nil {
				e.refCount += s.refs
				continue
			}
			if k := first[s.hash]; k != nil {
				k.refs += s.refs
				continue
			}
			first[s.hash] = s
		}
		keep = append(keep, s)
		total += s.size
	}
	if total == 0 {
		return nil, nil, nil
	}
	sw, err := newSolidWriter(ctx, out, comp, chunkSize, threads, total)
	if err != nil {
		return nil, nil, err
	}
	defer sw.abort()
	var done int64
	pw := &progressWriter{w: sw, tick: func(n int64) {
		done += n
		if progress != nil {
			progress(done, total)
		}
	}}
	var entries []*blobEntry
	var off int64
	for _, s := range keep {
		h := sha1.New()
		if err := s.copyTo(ctx, io.MultiWriter(pw, h), buf); err != nil {
			return nil, nil, err
		}
		var got Hash
		h.Sum(got[:0])
		if prehashed[s] && got != s.hash {
			return nil, nil, fmt.Errorf("%s changed while it was captured", s.name())
		}
		s.hash = got
		e := &blobEntry{res: resHeader{StoredSize: s.size, Flags: resFlagSolid, Offset: off}, partNumber: 1, refCount: s.refs, hash: got}
		entries = append(entries, e)
		known[got] = e
		off += s.size
	}
	res, err := sw.close()
	if err != nil {
		return nil, nil, err
	}
	return &res, entries, nil
}

func (s *blobSource) name() string {
	if s.path != "" {
		return s.path
	}
	return "a stream"
}

// copyTo writes the source's size bytes to w; a source that is shorter is
// an error (a file that shrank while it was captured).
func (s *blobSource) copyTo(ctx context.Context, w io.Writer, buf []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var r io.Reader
	switch {
	case s.data != nil:
		r = bytes.NewReader(s.data)
	case s.open != nil:
		rd, err := s.open()
		if err != nil {
			return err
		}
		if c, ok := rd.(io.Closer); ok {
			defer c.Close()
		}
		r = rd
	default:
		f, err := openSource(s.path)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	n, err := io.CopyBuffer(w, onlyReader{io.LimitReader(r, s.size)}, buf)
	if err != nil {
		return fmt.Errorf("read %s: %w", s.name(), err)
	}
	if n != s.size {
		return fmt.Errorf("read %s: file shrank while it was captured (expected %d bytes, got %d)", s.name(), s.size, n)
	}
	return nil
}
