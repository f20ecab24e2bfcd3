package wim

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// ErrChecksum reports file data whose SHA-1 differs from the one recorded.
var ErrChecksum = errors.New("SHA-1 mismatch")

// ErrLimit is wrapped by errors that refuse a WIM because reading it would
// take more memory or work than any real WIM needs (see docs/wim.md,
// "Security"): a count or size the file claims that is not plausible for its
// size, or beyond a fixed budget. It is not ErrFormat: the file may be
// well formed, it is refused all the same.
var ErrLimit = errors.New("beyond reseal's limits")

// blob is one entry of the blob table, resolved to where its bytes are.
type blob struct {
	hash     Hash
	size     int64
	refCount uint32
	metadata bool
	res      resHeader   // the resource (non-solid blobs)
	solid    *solidGroup // non-nil for a blob inside solid resources
	offset   int64       // offset in the solid group's uncompressed data
	index    int         // position in the blob table
	part     int         // index of the split WIM part holding it (0 for a single file)
}

// splitPart is one further file of a split WIM (.swm).
type splitPart struct {
	r      io.ReaderAt
	size   int64
	header Header
	closer io.Closer
	name   string // its path, for messages
	// ref marks a file given in OpenOptions.Refs that is not a part of
	// this split set: only its blobs are used, not its images, and only
	// those the images refer to are verified.
	ref bool
}

// solidGroup is a run of consecutive solid resources whose uncompressed
// contents are addressed as one space by the blob entries that follow them.
type solidGroup struct {
	parts  []*chunkedData
	starts []int64
	total  int64
}

// Reader reads a WIM file.
type Reader struct {
	r       io.ReaderAt
	size    int64
	closer  io.Closer
	name    string
	header  Header
	blobs   map[Hash]*blob
	order   []*blob // blob table order, metadata excluded
	meta    []*blob // metadata resources, in image order
	infos   []ImageInfo
	rawXML  [][]byte
	xmlText string
	solids  []*solidGroup
	// rawTable is every blob table entry as read, in order, for rewriting
	// the table when an image is appended.
	rawTable []blobEntry
	// more holds parts 2..n of a split WIM.
	more []*splitPart
	// helpers decode batches of a big blob's chunks ahead of its reader.
	helpers helperPool
}

// partFile returns the reader, size and header of part i (0 is the first).
func (r *Reader) partFile(i int) (io.ReaderAt, int64, *Header) {
	if i == 0 {
		return r.r, r.size, &r.header
	}
	p := r.more[i-1]
	return p.r, p.size, &p.header
}

// Open opens the WIM file at path.
func Open(path string) (*Reader, error) { return OpenWith(path, OpenOptions{}) }

// OpenWith opens the WIM file at path, with the further files opts names
// (see OpenOptions.Refs).
func OpenWith(path string, opts OpenOptions) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	refs, err := openRefs(st, opts.Refs)
	if err != nil {
		f.Close()
		return nil, err
	}
	var r *Reader
	if isSplitFirstPart(f, st.Size()) {
		r, err = openSplit(f, st.Size(), path, refs)
	} else {
		r, err = readerFor(f, st.Size())
	}
	if err == nil {
		r.addRefs(refs)
		if err = r.load(); err != nil {
			r.Close()
		}
	} else {
		refs.close()
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.closer, r.name = f, path
	return r, nil
}

func isSplitFirstPart(f io.ReaderAt, size int64) bool {
	hb := make([]byte, headerSize)
	if size < headerSize {
		return false
	}
	if _, err := f.ReadAt(hb, 0); err != nil {
		return false
	}
	h, err := parseHeader(hb)
	return err == nil && h.PartNumber == 1 && h.TotalParts > 1
}

// openSplit opens a split WIM from its first part, name.swm, finding parts
// 2..n among refs or else as name2.swm, name3.swm, ... beside it (the names
// wimlib and DISM give them). All parts must carry the first part's GUID.
// The parts taken from refs leave it; the blob tables are not read yet.
func openSplit(f io.ReaderAt, size int64, path string, refs *refFiles) (*Reader, error) {
	hb := make([]byte, headerSize)
	if size < headerSize {
		return nil, formatErr("file too short")
	}
	if _, err := f.ReadAt(hb, 0); err != nil {
		return nil, err
	}
	h, err := parseHeader(hb)
	if err != nil {
		return nil, err
	}
	if h.TotalParts <= 1 || h.PartNumber != 1 {
		if h.PartNumber > 1 {
			return nil, formatErr("this is part %d of a split WIM of %d parts: open the first part", h.PartNumber, h.TotalParts)
		}
		return nil, formatErr("invalid part number %d of %d", h.PartNumber, h.TotalParts)
	}
	r := &Reader{r: f, size: size, header: h, blobs: map[Hash]*blob{}}
	ext := filepath.Ext(path)
	base := strings.TrimSuffix(path, ext)
	for n := 2; n <= int(h.TotalParts); n++ {
		if p := refs.takePart(h, n); p != nil {
			r.more = append(r.more, p)
			continue
		}
		name := fmt.Sprintf("%s%d%s", base, n, ext)
		pf, err := os.Open(name)
		if err != nil {
			r.Close()
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("part %d of %d of the split WIM: %w: %w", n, h.TotalParts, ErrPartMissing, err)
			}
			return nil, fmt.Errorf("part %d of %d of the split WIM: %w", n, h.TotalParts, err)
		}
		st, err := pf.Stat()
		if err != nil || st.Size() < headerSize {
			pf.Close()
			r.Close()
			return nil, formatErr("part %s is too short", name)
		}
		if _, err := pf.ReadAt(hb, 0); err != nil {
			pf.Close()
			r.Close()
			return nil, err
		}
		ph, err := parseHeader(hb)
		if err == nil && (ph.GUID != h.GUID || int(ph.PartNumber) != n || ph.TotalParts != h.TotalParts) {
			err = formatErr("%s is not part %d of this split WIM", name, n)
		}
		if err == nil && ph.Compression() != h.Compression() {
			err = formatErr("%s uses %v compression, part 1 %v", name, ph.Compression(), h.Compression())
		}
		if err != nil {
			pf.Close()
			r.Close()
			return nil, err
		}
		r.more = append(r.more, &splitPart{r: pf, size: st.Size(), header: ph, closer: pf, name: name})
	}
	return r, nil
}

// ReadPartInfo reads the header and XML data of one part of a split WIM on
// its own (every part carries the whole XML data), for `info` of a part
// other than the first, which Open refuses. It returns the part's header,
// the images the XML describes and the part's size.
func ReadPartInfo(path string) (Header, []ImageInfo, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return Header{}, nil, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Header{}, nil, 0, err
	}
	if st.Size() < headerSize {
		return Header{}, nil, 0, formatErr("file of %d bytes is too short for a WIM header", st.Size())
	}
	hb := make([]byte, headerSize)
	if _, err := f.ReadAt(hb, 0); err != nil {
		return Header{}, nil, 0, fmt.Errorf("read header: %w", err)
	}
	h, err := parseHeader(hb)
	if err != nil {
		return Header{}, nil, 0, err
	}
	if h.TotalParts <= 1 || h.PartNumber < 1 || h.PartNumber > h.TotalParts {
		return Header{}, nil, 0, formatErr("not a part of a split WIM (part %d of %d)", h.PartNumber, h.TotalParts)
	}
	r := &Reader{r: f, size: st.Size(), header: h, blobs: map[Hash]*blob{}}
	if err := r.readXML(); err != nil {
		return Header{}, nil, 0, err
	}
	return h, r.Images(), st.Size(), nil
}

// NewReader reads the WIM of the given size from r.
func NewReader(r io.ReaderAt, size int64) (*Reader, error) {
	wr, err := readerFor(r, size)
	if err != nil {
		return nil, err
	}
	return wr, wr.load()
}

// readerFor reads the header of a WIM that is not split (the tables are
// read by load).
func readerFor(r io.ReaderAt, size int64) (*Reader, error) {
	wr := &Reader{r: r, size: size, blobs: map[Hash]*blob{}}
	hdr := make([]byte, headerSize)
	if size < headerSize {
		return nil, formatErr("file of %d bytes is too short for a WIM header", size)
	}
	if _, err := r.ReadAt(hdr, 0); err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	h, err := parseHeader(hdr)
	if err != nil {
		return nil, err
	}
	wr.header = h
	if h.TotalParts > 1 || h.PartNumber != 1 {
		return nil, formatErr("part %d of a split WIM of %d parts: open it with Open on the first part (name.swm), or join the parts first", h.PartNumber, h.TotalParts)
	}
	return wr, nil
}

func (r *Reader) load() error {
	if r.header.Flags&hdrFlagWriteInProg != 0 {
		return formatErr("the WIM was left incomplete by an interrupted write")
	}
	// Each file's blob table is bounded on its own (readBlobTable); those
	// of many files (parts, referenced files) are bounded together, by
	// what their headers claim, before any is read.
	entries := int64(0)
	for i := 0; i <= len(r.more); i++ {
		_, _, ph := r.partFile(i)
		entries += max(ph.blobTable.OrigSize, 0) / blobEntrySize
	}
	if entries > maxTotalBlobEntries {
		return fmt.Errorf("%w: the blob tables of its %d files claim %d entries (at most %d together)", ErrLimit, len(r.more)+1, entries, maxTotalBlobEntries)
	}
	for i := 0; i <= len(r.more); i++ {
		if err := r.readBlobTable(i); err != nil {
			if i > 0 {
				return fmt.Errorf("%s: %w", r.partName(i), err)
			}
			return err
		}
	}
	if len(r.meta) < int(r.header.ImageCount) {
		return formatErr("header says %d images but the blob table has %d metadata resources", r.header.ImageCount, len(r.meta))
	}
	r.meta = r.meta[:r.header.ImageCount]
	return r.readXML()
}

// Header returns the WIM's header.
func (r *Reader) Header() Header { return r.header }

// Close closes the files Open opened.
func (r *Reader) Close() error {
	var err error
	for _, p := range r.more {
		if p.closer != nil {
			if cerr := p.closer.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}
	}
	if r.closer != nil {
		if cerr := r.closer.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	return err
}

func (r *Reader) readWholeResource(res resHeader, limit int64, what string) ([]byte, error) {
	return r.readWholeResourceOf(0, res, limit, what)
}

func (r *Reader) readWholeResourceOf(part int, res resHeader, limit int64, what string) ([]byte, error) {
	if res.OrigSize > limit {
		return nil, fmt.Errorf("%w: %s of %d bytes exceeds the limit of %d", ErrLimit, what, res.OrigSize, limit)
	}
	pr, psize, ph := r.partFile(part)
	cd, err := openResource(pr, res, psize, ph.Compression(), int64(ph.ChunkSize))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	// The first MiB is read into a small buffer; once the resource has
	// really produced that much, the rest of its size (within limit) is
	// allocated at once: a size that is a lie costs little, and a true one
	// leaves no garbage of a growing buffer behind.
	buf := make([]byte, 0, min(res.OrigSize, 1<<20))
	cr := newChunkReader(cd, newDecoders())
	for i := 0; i < cd.numChunks(); i++ {
		b, err := cr.chunk(i)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if len(buf)+len(b) > cap(buf) {
			buf = append(make([]byte, 0, res.OrigSize), buf...)
		}
		buf = append(buf, b...)
	}
	return buf, nil
}

func (r *Reader) readBlobTable(part int) error {
	pr, psize, ph := r.partFile(part)
	bt := ph.blobTable
	if bt.OrigSize%blobEntrySize != 0 {
		return formatErr("blob table size %d is not a multiple of %d", bt.OrigSize, blobEntrySize)
	}
	// Every entry costs some 250 bytes once read: a table is read only up
	// to maxBlobEntries, and (compressed) only up to 64 times the file.
	data, err := r.readWholeResourceOf(part, bt, min(maxBlobTableBytes, psize*64), "blob table")
	if err != nil {
		return err
	}
	// A solid run is a maximal sequence of consecutive entries with the
	// solid flag; its blobs' offsets are in the concatenation of all its
	// resources, whose entries may come anywhere in the run (wimlib's
	// appended solid images give [resource, its blobs, resource, its
	// blobs]): the blobs' ranges are checked once the table is read.
	var group *solidGroup
	inRun := false
	type placed struct {
		idx int
		b   *blob
	}
	var inSolid []placed
	// Room for every entry at once: growing the map and slices entry by
	// entry rehashes and copies them over and over (the table's bytes are
	// already budgeted: maxBlobTableBytes).
	n := len(data) / blobEntrySize
	if part == 0 && r.rawTable == nil {
		r.rawTable = make([]blobEntry, 0, n)
	}
	if len(r.blobs) == 0 {
		r.blobs = make(map[Hash]*blob, n)
		r.order = slices.Grow(r.order, n)
	}
	for i := 0; i+blobEntrySize <= len(data); i += blobEntrySize {
		e := parseBlobEntry(data[i:])
		if part == 0 {
			r.rawTable = append(r.rawTable, e)
		}
		idx := i / blobEntrySize
		if e.res.Flags&resFlagFree != 0 {
			inRun = false
			continue
		}
		if e.res.Flags&resFlagSolid != 0 && !inRun {
			group = &solidGroup{}
			r.solids = append(r.solids, group)
		}
		inRun = e.res.Flags&resFlagSolid != 0
		if e.res.Flags&resFlagSolid != 0 && e.res.OrigSize == solidMagicSize {
			cd, err := openSolid(pr, e.res, psize)
			if err != nil {
				return fmt.Errorf("blob table entry %d: %w", idx, err)
			}
			group.parts = append(group.parts, cd)
			group.starts = append(group.starts, group.total)
			group.total += cd.origSize
			continue
		}
		if e.partNumber != ph.PartNumber {
			return formatErr("blob table entry %d belongs to part %d, not part %d", idx, e.partNumber, ph.PartNumber)
		}
		b := &blob{hash: e.hash, refCount: e.refCount, metadata: e.res.Flags&resFlagMetadata != 0, res: e.res, index: idx, part: part}
		if e.res.Flags&resFlagSolid != 0 {
			b.solid, b.offset, b.size = group, e.res.Offset, e.res.StoredSize
			inSolid = append(inSolid, placed{idx, b})
		} else {
			if err := checkSpan(e.res, psize); err != nil {
				return fmt.Errorf("blob table entry %d: %w", idx, err)
			}
			if !e.res.compressed() && e.res.StoredSize != e.res.OrigSize {
				return formatErr("blob table entry %d: uncompressed resource with stored size %d and size %d", idx, e.res.StoredSize, e.res.OrigSize)
			}
			b.size = e.res.OrigSize
		}
		if b.metadata {
			if !r.isRef(part) {
				r.meta = append(r.meta, b)
			}
			continue
		}
		if _, dup := r.blobs[b.hash]; dup {
			continue
		}
		r.blobs[b.hash] = b
		r.order = append(r.order, b)
	}
	for _, p := range inSolid {
		b, g := p.b, p.b.solid
		if len(g.parts) == 0 {
			return formatErr("blob table entry %d lies in a solid run without a solid resource", p.idx)
		}
		if b.offset < 0 || b.size < 0 || b.offset > g.total || b.size > g.total-b.offset {
			return formatErr("blob table entry %d: range %d+%d beyond its solid resources (%d bytes)", p.idx, b.offset, b.size, g.total)
		}
	}
	solids := r.solids[:0]
	for _, g := range r.solids {
		if len(g.parts) > 0 {
			solids = append(solids, g)
		}
	}
	r.solids = solids
	return nil
}

func (r *Reader) readXML() error {
	x := r.header.xmlData
	data, err := r.readWholeResource(x, maxXMLSize, "XML data")
	if err != nil {
		return err
	}
	text, err := decodeXMLData(data)
	if err != nil {
		return err
	}
	r.xmlText = text
	infos, raws, err := parseXMLData(text)
	if err != nil {
		return err
	}
	n := int(r.header.ImageCount)
	r.infos = make([]ImageInfo, n)
	r.rawXML = make([][]byte, n)
	for i := 0; i < n; i++ {
		info, ok := infos[i+1]
		if !ok {
			info = ImageInfo{}
		}
		info.Index = i + 1
		info.Boot = r.header.BootIndex == uint32(i+1)
		r.infos[i] = info
		r.rawXML[i] = raws[i+1]
	}
	return nil
}

// Images describes the images of the WIM, in order (Index is 1-based).
func (r *Reader) Images() []ImageInfo { return append([]ImageInfo(nil), r.infos...) }

// XML returns the WIM's XML data as text.
func (r *Reader) XML() string { return r.xmlText }

// ImageIndex resolves "2" or an image name to a 1-based index. An empty
// string selects the only image of a single-image WIM.
func (r *Reader) ImageIndex(s string) (int, error) {
	n := len(r.infos)
	if s == "" {
		if n == 1 {
			return 1, nil
		}
		return 0, fmt.Errorf("the WIM has %d images: name one by index or name", n)
	}
	for _, info := range r.infos {
		if info.Name == s && s != "" {
			return info.Index, nil
		}
	}
	var idx int
	if _, err := fmt.Sscanf(s, "%d", &idx); err == nil && fmt.Sprint(idx) == s {
		if idx < 1 || idx > n {
			return 0, fmt.Errorf("image %d does not exist (the WIM has %d)", idx, n)
		}
		return idx, nil
	}
	return 0, fmt.Errorf("no image named %q", s)
}

// Image parses the directory tree of image index (1-based) and fills in the
// stream sizes from the blob table.
func (r *Reader) Image(index int) (*Image, error) {
	if index < 1 || index > len(r.meta) {
		return nil, fmt.Errorf("image %d does not exist (the WIM has %d)", index, len(r.meta))
	}
	buf, err := r.readMetadata(index)
	if err != nil {
		return nil, err
	}
	img, err := parseMetadata(buf, index)
	if err != nil {
		return nil, err
	}
	var missing *missingBlobError
	counted := map[Hash]bool{}
	img.Root.Walk(func(f *File) error {
		for _, s := range f.streams() {
			if s.Hash.IsZero() {
				continue
			}
			if b := r.blobs[s.Hash]; b != nil {
				s.Size = b.size
			} else if missing == nil {
				missing = &missingBlobError{index: index, path: f.Path(), hash: s.Hash, hasRefs: r.hasRefs()}
				counted[s.Hash] = true
			} else if !counted[s.Hash] {
				counted[s.Hash] = true
				missing.others++
			}
		}
		return nil
	})
	if missing != nil {
		return img, missing
	}
	return img, nil
}

// streams returns pointers to all of f's streams.
func (f *File) streams() []*Stream {
	s := []*Stream{&f.Data}
	if f.IsReparsePoint() {
		s = append(s, &f.Reparse)
	}
	for i := range f.NamedStreams {
		s = append(s, &f.NamedStreams[i])
	}
	return s
}

func (r *Reader) readMetadata(index int) ([]byte, error) {
	m := r.meta[index-1]
	what := fmt.Sprintf("metadata resource of image %d", index)
	var buf []byte
	var err error
	if m.solid != nil {
		if m.size > maxMetadataSize {
			return nil, fmt.Errorf("%w: %s of %d bytes exceeds the limit of %d", ErrLimit, what, m.size, maxMetadataSize)
		}
		buf = make([]byte, m.size)
		err = r.readSolid(m, buf, newDecoders())
	} else {
		buf, err = r.readWholeResource(m.res, maxMetadataSize, what)
	}
	if err != nil {
		return nil, err
	}
	if sha1.Sum(buf) != m.hash {
		return nil, fmt.Errorf("%s: %w", what, ErrChecksum)
	}
	return buf, nil
}

func (r *Reader) readSolid(b *blob, dst []byte, dec *decoders) error {
	rd, err := r.blobReader(b, dec)
	if err != nil {
		return err
	}
	_, err = io.ReadFull(rd, dst)
	return err
}

// blobReader streams the uncompressed bytes of b (without checking its hash).
func (r *Reader) blobReader(b *blob, dec *decoders) (io.Reader, error) {
	if b.solid == nil {
		pr, psize, ph := r.partFile(b.part)
		cd, err := openResource(pr, b.res, psize, ph.Compression(), int64(ph.ChunkSize))
		if err != nil {
			return nil, err
		}
		if pr := newParallelReader(&r.helpers, cd, dec); pr != nil {
			return pr, nil
		}
		return &sectionReader{cr: newChunkReader(cd, dec), off: 0, left: cd.origSize}, nil
	}
	g := b.solid
	var readers []io.Reader
	off, left := b.offset, b.size
	for i, part := range g.parts {
		start, end := g.starts[i], g.starts[i]+part.origSize
		if left == 0 || off >= end {
			continue
		}
		n := min(left, end-off)
		readers = append(readers, &sectionReader{cr: dec.solidReader(part), off: off - start, left: n})
		off += n
		left -= n
	}
	return io.MultiReader(readers...), nil
}

// checkedReader verifies the SHA-1 of what it has read when it reaches the end.
type checkedReader struct {
	r    io.Reader
	h    hash.Hash
	want Hash
	left int64
	what string
}

func (c *checkedReader) Read(p []byte) (int, error) {
	if c.left == 0 {
		var got Hash
		c.h.Sum(got[:0])
		if got != c.want {
			return 0, fmt.Errorf("%s: %w", c.what, ErrChecksum)
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	c.left -= int64(n)
	if err == io.EOF && c.left > 0 {
		return n, fmt.Errorf("%s: %w: data ends %d bytes early", c.what, ErrFormat, c.left)
	}
	if err == io.EOF {
		err = nil
	}
	return n, err
}

// OpenStream returns the contents of the blob with hash h. The reader
// returns an error wrapping ErrChecksum at the end if the data does not match.
func (r *Reader) OpenStream(h Hash) (io.Reader, int64, error) {
	if h.IsZero() {
		return eofReader{}, 0, nil
	}
	b := r.blobs[h]
	if b == nil {
		return nil, 0, fmt.Errorf("blob %s: not in the WIM", h)
	}
	rd, err := r.openChecked(b, newDecoders())
	return rd, b.size, err
}

func (r *Reader) openChecked(b *blob, dec *decoders) (io.Reader, error) {
	what := "blob " + b.hash.String()
	if r.isRef(b.part) {
		what = r.partName(b.part) + ": " + what
	}
	rd, err := r.blobReader(b, dec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return &checkedReader{r: rd, h: sha1.New(), want: b.hash, left: b.size, what: what}, nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// sortedBlobs returns the blobs in the order their bytes appear in the file,
// so that reading them in turn decodes each solid chunk once.
func sortBlobsByLocation(bs []*blob) {
	sort.SliceStable(bs, func(i, j int) bool {
		a, b := bs[i], bs[j]
		if a.part != b.part {
			return a.part < b.part
		}
		ka, kb := a.res.Offset, b.res.Offset
		if a.solid != nil {
			ka = a.solid.parts[0].where
		}
		if b.solid != nil {
			kb = b.solid.parts[0].where
		}
		if ka != kb {
			return ka < kb
		}
		return a.offset < b.offset
	})
}

// Size is the size of the WIM file in bytes.
func (r *Reader) Size() int64 { return r.size }
