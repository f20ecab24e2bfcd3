package wim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// HasSolid reports whether the WIM has solid resources.
func (r *Reader) HasSolid() bool { return len(r.solids) > 0 }

// SolidFormat returns the compression and chunk size of the WIM's first
// solid resource, which a rewrite of the WIM (Delete, Optimize) uses for the
// solid resources it writes; ok is false when the WIM has none.
func (r *Reader) SolidFormat() (comp Compression, chunkSize int, ok bool) {
	if len(r.solids) == 0 {
		return CompressNone, 0, false
	}
	p := r.solids[0].parts[0]
	return p.comp, int(p.chunkSize), true
}

// SplitOptions tunes Split.
type SplitOptions struct {
	Check    bool // write an integrity table in each part
	Progress func(done, total int64)
}

// Split writes the WIM at path as a split WIM (a .swm set) of parts of at
// most partSize bytes where the data allows (a resource larger than a part
// gets a part of its own): first as given, then first's name with 2, 3, ...
// before the extension, the names wimlib and DISM use. Part 1 holds the
// metadata resources; every part holds the XML data and a blob table of its
// own resources; resources are copied as they are. Solid resources cannot
// be split (as with wimlib). Each part is written to a temporary file and
// the parts are renamed into place only once all are complete. It returns
// the names of the parts.
func Split(ctx context.Context, path, first string, partSize int64, opts SplitOptions) ([]string, error) {
	r, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if len(r.more) > 0 {
		return nil, fmt.Errorf("%s is already a split WIM", path)
	}
	if len(r.solids) > 0 {
		return nil, fmt.Errorf("%s has solid resources, which cannot be split (export it without --solid first)", path)
	}
	if partSize < headerSize {
		return nil, fmt.Errorf("part size %d is too small", partSize)
	}
	s := &splitter{r: r, first: first, partSize: partSize, check: opts.Check, progress: opts.Progress, buf: make([]byte, 1<<20)}
	defer s.cleanup()
	if err := s.run(ctx); err != nil {
		return nil, err
	}
	return s.commit()
}

type splitter struct {
	r        *Reader
	first    string
	partSize int64
	check    bool
	progress func(done, total int64)
	buf      []byte
	parts    []*splitOut
	done     bool
}

type splitOut struct {
	name    string
	f       *os.File
	out     *outFile
	entries []blobEntry
	hdr     Header
}

// partName is the name of part n (1-based) of the set whose first part is first.
func partName(first string, n int) string {
	if n == 1 {
		return first
	}
	ext := filepath.Ext(first)
	return fmt.Sprintf("%s%d%s", strings.TrimSuffix(first, ext), n, ext)
}

func (s *splitter) newPart() (*splitOut, error) {
	n := len(s.parts) + 1
	name := partName(s.first, n)
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".reseal-*")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	p := &splitOut{name: name, f: f, out: newOutFile(f, headerSize)}
	p.hdr = s.r.header
	p.hdr.Flags = (p.hdr.Flags | hdrFlagSpanned) &^ hdrFlagWriteInProg
	p.hdr.PartNumber = uint16(n)
	s.parts = append(s.parts, p)
	return p, nil
}

func (s *splitter) run(ctx context.Context) error {
	p, err := s.newPart()
	if err != nil {
		return err
	}
	// Part 1: the metadata resources, in image order.
	for i, m := range s.r.meta {
		e, err := s.r.copyBlobRaw(ctx, p.out, m, m.refCount, s.buf)
		if err != nil {
			return fmt.Errorf("metadata resource of image %d: %w", i+1, err)
		}
		e.partNumber = 1
		p.entries = append(p.entries, *e)
		if int(s.r.header.BootIndex) == i+1 {
			p.hdr.bootMetadata = e.res
		}
	}
	blobs := append([]*blob(nil), s.r.order...)
	sortBlobsByLocation(blobs)
	var total, done int64
	for _, b := range blobs {
		total += b.res.StoredSize
	}
	for _, b := range blobs {
		if p.out.pos > headerSize && p.out.pos+b.res.StoredSize > s.partSize {
			if p, err = s.newPart(); err != nil {
				return err
			}
		}
		e, err := s.r.copyBlobRaw(ctx, p.out, b, b.refCount, s.buf)
		if err != nil {
			return err
		}
		e.partNumber = p.hdr.PartNumber
		p.entries = append(p.entries, *e)
		done += b.res.StoredSize
		if s.progress != nil {
			s.progress(done, total)
		}
	}
	xmlData := encodeXMLData(s.r.xmlText)
	for _, p := range s.parts {
		if err := s.finishPart(ctx, p, xmlData); err != nil {
			return err
		}
	}
	return nil
}

// finishPart writes a part's blob table, XML data, integrity table and header.
func (s *splitter) finishPart(ctx context.Context, p *splitOut, xmlData []byte) error {
	p.hdr.TotalParts = uint16(len(s.parts))
	if len(s.parts) > 0xffff {
		return fmt.Errorf("%d parts: a split WIM has at most 65535", len(s.parts))
	}
	table := make([]byte, len(p.entries)*blobEntrySize)
	for i := range p.entries {
		p.entries[i].put(table[i*blobEntrySize:])
	}
	p.hdr.blobTable = resHeader{StoredSize: int64(len(table)), Flags: resFlagMetadata, Offset: p.out.pos, OrigSize: int64(len(table))}
	if _, err := p.out.Write(table); err != nil {
		return err
	}
	p.hdr.xmlData = resHeader{StoredSize: int64(len(xmlData)), Flags: resFlagMetadata, Offset: p.out.pos, OrigSize: int64(len(xmlData))}
	if _, err := p.out.Write(xmlData); err != nil {
		return err
	}
	p.hdr.integrity = resHeader{}
	if s.check {
		if err := p.out.flush(); err != nil {
			return err
		}
		st, end := integrityRange(&p.hdr)
		hashes, err := computeIntegrity(ctx, p.f, st, end, integrityChunk, nil)
		if err != nil {
			return err
		}
		it := marshalIntegrity(hashes, integrityChunk)
		p.hdr.integrity = resHeader{StoredSize: int64(len(it)), Offset: p.out.pos, OrigSize: int64(len(it))}
		if _, err := p.out.Write(it); err != nil {
			return err
		}
	}
	if p.hdr.PartNumber != 1 {
		p.hdr.bootMetadata = resHeader{}
	}
	if err := p.out.finish(); err != nil {
		return err
	}
	_, err := p.f.WriteAt(p.hdr.marshal(), 0)
	return err
}

// commit renames every finished part into place.
func (s *splitter) commit() ([]string, error) {
	var names []string
	for _, p := range s.parts {
		if err := replaceWith(p.f, p.name); err != nil {
			return names, fmt.Errorf("%s: %w", p.name, err)
		}
		p.f = nil
		names = append(names, p.name)
	}
	s.done = true
	return names, nil
}

// cleanup removes the temporary files of parts not renamed into place.
func (s *splitter) cleanup() {
	for _, p := range s.parts {
		if p.f != nil {
			p.f.Close()
			os.Remove(p.f.Name())
		}
	}
}
