package wim

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
)

// builder writes a WIM made of images of existing WIMs: export, delete,
// optimize and rename go through it. The output is a temporary file beside
// the destination, renamed over it only when complete (commit), so an
// interrupted or failed operation leaves the destination as it was.
//
// In append mode (base set) the base file is copied whole and the new
// blobs, the new blob table and XML data follow it, as wimlib does when it
// modifies a WIM in place; otherwise the file is laid out afresh: header,
// blobs, metadata resources, blob table, XML data, integrity table.
type builder struct {
	dest      string
	f         *os.File
	out       *outFile
	hdr       Header
	comp      Compression // of non-solid resources
	level     CompressionLevel
	chunkSize int
	threads   int
	// solid puts new file data in one solid resource of solidComp with
	// solidChunk-byte chunks.
	solid      bool
	solidComp  Compression
	solidChunk int
	recompress bool // never copy a resource raw
	check      bool
	progress   func(done, total int64)

	known      map[Hash]*blobEntry
	oldEntries []blobEntry // the base's blob table, kept in order
	metas      []*blobEntry
	plain      []*blobEntry
	solidRes   []blobEntry  // resource entries of the output's one new solid run
	solidBlobs []*blobEntry // blob entries of that run
	solidTotal int64
	xml        [][]byte
	bootImage  int // 1-based index in the output, 0 for none
	buf        []byte
	done       int64
	total      int64
}

// builderOptions describes the output of a builder.
type builderOptions struct {
	Compression Compression
	Level       CompressionLevel // of non-solid resources compressed anew
	ChunkSize   int
	Solid       bool
	SolidComp   Compression
	SolidChunk  int
	Recompress  bool
	Check       bool
	Threads     int
	RPFix       bool
	Progress    func(done, total int64)
}

// newBuilder starts a WIM that will replace dest. With base, the output
// starts as a copy of base (whose compression and chunk size it keeps).
func newBuilder(ctx context.Context, dest string, base *Reader, opts builderOptions) (b *builder, err error) {
	if opts.Threads <= 0 {
		opts.Threads = runtime.NumCPU()
	}
	b = &builder{dest: dest, comp: opts.Compression, level: opts.Level, chunkSize: opts.ChunkSize, threads: opts.Threads,
		solid: opts.Solid, solidComp: opts.SolidComp, solidChunk: opts.SolidChunk, recompress: opts.Recompress,
		check: opts.Check, progress: opts.Progress, known: map[Hash]*blobEntry{}, buf: make([]byte, 1<<20)}
	if base != nil {
		if len(base.more) > 0 {
			return nil, fmt.Errorf("%s is a split WIM: it cannot be modified in place", dest)
		}
		b.comp = base.header.Compression()
		b.chunkSize = int(base.header.ChunkSize)
	}
	if b.comp == CompressNone {
		b.chunkSize = defaultChunkSize
	}
	if b.chunkSize == 0 {
		b.chunkSize = defaultChunkSize
		if b.comp == CompressLZMS {
			b.chunkSize = defaultLZMSChunkSize
		}
	}
	if !canCompress(b.comp, b.chunkSize) {
		return nil, fmt.Errorf("cannot write %v compression with %d-byte chunks", b.comp, b.chunkSize)
	}
	if b.solid {
		if b.solidChunk == 0 {
			b.solidChunk = DefaultSolidChunkSize(b.solidComp)
		}
		if !canCompress(b.solidComp, b.solidChunk) {
			return nil, fmt.Errorf("cannot write solid %v compression with %d-byte chunks", b.solidComp, b.solidChunk)
		}
	}
	b.f, err = os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".reseal-*")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("create %s: %w", dest, err)
	}
	defer func() {
		if err != nil {
			b.abort()
		}
	}()
	start := int64(headerSize)
	if base != nil {
		b.hdr = base.header
		if start, err = b.copyBase(ctx, base); err != nil {
			return nil, err
		}
		b.oldEntries = append(b.oldEntries, base.rawTable...)
		for _, x := range base.rawXML {
			b.xml = append(b.xml, append([]byte(nil), x...))
		}
		if base.header.BootIndex != 0 {
			b.bootImage = int(base.header.BootIndex)
		}
	} else {
		b.hdr = Header{Version: versionDefault, PartNumber: 1, TotalParts: 1}
		if opts.RPFix {
			b.hdr.Flags |= hdrFlagRPFix
		}
		if _, err := rand.Read(b.hdr.GUID[:]); err != nil {
			return nil, err
		}
		switch b.comp {
		case CompressXPRESS:
			b.hdr.Flags |= hdrFlagCompression | hdrFlagXPRESS
		case CompressLZX:
			b.hdr.Flags |= hdrFlagCompression | hdrFlagLZX
		case CompressLZMS:
			b.hdr.Flags |= hdrFlagCompression | hdrFlagLZMS
		}
		if b.comp != CompressNone {
			b.hdr.ChunkSize = uint32(b.chunkSize)
		}
		if _, err := b.f.WriteAt(make([]byte, headerSize), 0); err != nil {
			return nil, err
		}
	}
	if b.comp == CompressLZMS || b.solid {
		b.hdr.Version = versionSolid // LZMS and solid resources exist only in version 3584 WIMs
	}
	b.hdr.Flags &^= hdrFlagWriteInProg
	b.out = newOutFile(b.f, start)
	b.indexKnown()
	return b, nil
}

// indexKnown records the blobs of the kept base entries, for deduplication.
func (b *builder) indexKnown() {
	clear(b.known)
	for i := range b.oldEntries {
		e := &b.oldEntries[i]
		if e.res.Flags&(resFlagMetadata|resFlagFree) == 0 && !(e.res.Flags&resFlagSolid != 0 && e.res.OrigSize == solidMagicSize) {
			if b.known[e.hash] == nil {
				b.known[e.hash] = e
			}
		}
	}
}

// copyBase copies the base file up to its blob table, XML data and
// integrity table when those come after every resource (as every writer
// lays them out), else whole: the new ones follow. io.Copy between files
// lets the kernel share or copy the extents (copy_file_range) where it can.
func (b *builder) copyBase(ctx context.Context, base *Reader) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	keep := baseKeep(base)
	if _, err := b.f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	if _, err := io.Copy(b.f, io.NewSectionReader(base.r, 0, keep)); err != nil {
		return 0, fmt.Errorf("copy %s: %w", base.name, err)
	}
	return keep, nil
}

// baseKeep is where the base's resources end, when its blob table, XML
// data and integrity table all follow them; otherwise its size.
func baseKeep(base *Reader) int64 {
	h := &base.header
	tail := h.blobTable.Offset
	tail = min(tail, h.xmlData.Offset)
	if h.HasIntegrity() {
		tail = min(tail, h.integrity.Offset)
	}
	if tail < headerSize || tail > base.size {
		return base.size
	}
	for _, e := range base.rawTable {
		if e.res.Flags&resFlagFree != 0 || (e.res.Flags&resFlagSolid != 0 && e.res.OrigSize != solidMagicSize) {
			continue
		}
		if e.res.Offset+e.res.StoredSize > tail {
			return base.size
		}
	}
	return tail
}

// dropBaseImage removes image index (1-based) of the base from the output's
// blob table and XML data (delete --soft): its metadata resource stays in
// the file, unreferenced, and the reference counts of its blobs go down.
func (b *builder) dropBaseImage(base *Reader, index int) error {
	img, err := base.Image(index)
	if err != nil {
		return err
	}
	meta := base.meta[index-1]
	kept := b.oldEntries[:0]
	for _, e := range b.oldEntries {
		if e.res.Flags&resFlagMetadata != 0 && e.hash == meta.hash && e.res.Offset == meta.res.Offset && e.res.Flags&resFlagSolid == meta.res.Flags&resFlagSolid {
			continue
		}
		kept = append(kept, e)
	}
	b.oldEntries = kept
	b.indexKnown()
	for h, n := range streamRefs(img) {
		if e := b.known[h]; e != nil {
			e.refCount -= min(e.refCount, n)
		}
	}
	b.xml = append(b.xml[:index-1], b.xml[index:]...)
	switch {
	case b.bootImage == index:
		b.bootImage = 0
	case b.bootImage > index:
		b.bootImage--
	}
	return nil
}

// streamRefs counts the references of an image's directory entries to each blob.
func streamRefs(img *Image) map[Hash]uint32 {
	refs := map[Hash]uint32{}
	img.Root.Walk(func(f *File) error {
		for _, s := range f.streams() {
			if !s.Hash.IsZero() {
				refs[s.Hash]++
			}
		}
		return nil
	})
	return refs
}

// imageRef is one image to put in the output.
type imageRef struct {
	r     *Reader
	index int    // 1-based, in r
	xml   []byte // the image's inner XML in the output
	boot  bool
}

// needed is one blob the output needs from a source.
type needed struct {
	r    *Reader
	b    *blob
	refs uint32
}

// addImages adds images to the output, in order: their blobs (each once,
// deduplicated against what the output already has), then their metadata
// resources.
func (b *builder) addImages(ctx context.Context, refs []imageRef) error {
	var order []*needed
	want := map[Hash]*needed{}
	metas := make([][]byte, len(refs))
	for i, ref := range refs {
		img, err := ref.r.Image(ref.index)
		if err != nil {
			return err
		}
		if metas[i], err = ref.r.readMetadata(ref.index); err != nil {
			return err
		}
		for h, n := range streamRefs(img) {
			if e := b.known[h]; e != nil {
				e.refCount += n
				continue
			}
			if w := want[h]; w != nil {
				w.refs += n
				continue
			}
			bl := ref.r.blobs[h]
			if bl == nil {
				return formatErr("image %d refers to blob %s, which the WIM does not contain", ref.index, h)
			}
			w := &needed{r: ref.r, b: bl, refs: n}
			want[h] = w
			order = append(order, w)
		}
	}
	if err := b.writeBlobs(ctx, order); err != nil {
		return err
	}
	for i, ref := range refs {
		store := b.store(b.comp)
		src := &blobSource{data: metas[i], size: int64(len(metas[i])), metadata: true, refs: 1}
		if err := store.store(ctx, []*blobSource{src}); err != nil {
			return err
		}
		b.metas = append(b.metas, store.entries...)
		b.xml = append(b.xml, ref.xml)
		if ref.boot {
			b.bootImage = len(b.xml)
		}
	}
	return nil
}

func (b *builder) store(comp Compression) *blobStore {
	return &blobStore{out: b.out, comp: comp, level: b.level, chunkSize: b.chunkSize, threads: b.threads, known: b.known}
}

func (b *builder) tick(n int64) {
	b.done += n
	if b.progress != nil {
		b.progress(b.done, b.total)
	}
}

// writeBlobs writes the blobs the output needs: whole solid resources of a
// source copied as they are when the output is solid and needs every blob
// in them; non-solid resources copied as they are when their compression
// suits; the rest decoded and compressed again.
func (b *builder) writeBlobs(ctx context.Context, order []*needed) error {
	var blobs []*blob
	byBlob := map[*blob]*needed{}
	for _, w := range order {
		blobs = append(blobs, w.b)
		byBlob[w.b] = w
		b.total += w.b.size
	}
	// Sources in turn, each in file order: solid chunks decode once.
	var readers []*Reader
	seen := map[*Reader]bool{}
	for _, w := range order {
		if !seen[w.r] {
			seen[w.r] = true
			readers = append(readers, w.r)
		}
	}
	var recompress []*needed
	for _, r := range readers {
		var mine []*blob
		for _, bl := range blobs {
			if byBlob[bl].r == r {
				mine = append(mine, bl)
			}
		}
		sortBlobsByLocation(mine)
		// What is copied as it is stored, and what is decoded and
		// compressed again.
		groupsCopied := map[*solidGroup]bool{}
		if b.solid && !b.recompress {
			for _, g := range r.solids {
				if b.wholeGroupNeeded(r, g, byBlob) {
					groupsCopied[g] = true
				}
			}
		}
		var raw []*blob
		for _, bl := range mine {
			switch {
			case bl.solid != nil && groupsCopied[bl.solid]:
				raw = append(raw, bl)
			case bl.solid == nil && !b.recompress && !b.solid && r.canCopyRaw(bl, b.comp, b.chunkSize):
				raw = append(raw, bl)
			default:
				recompress = append(recompress, byBlob[bl])
			}
		}
		if err := r.checkRefBlobs(ctx, raw, b.buf); err != nil {
			return err
		}
		for _, g := range r.solids {
			if groupsCopied[g] {
				if err := b.copySolidGroup(ctx, r, g, byBlob); err != nil {
					return err
				}
			}
		}
		for _, bl := range raw {
			if bl.solid != nil {
				continue
			}
			e, err := r.copyBlobRaw(ctx, b.out, bl, byBlob[bl].refs, b.buf)
			if err != nil {
				return err
			}
			b.plain = append(b.plain, e)
			b.known[e.hash] = e
			b.tick(bl.size)
		}
	}
	if len(recompress) == 0 {
		return nil
	}
	if b.solid {
		return b.writeSolid(ctx, recompress)
	}
	return b.recompressPlain(ctx, recompress)
}

// wholeGroupNeeded reports whether every blob of solid group g of r is one
// the output needs (and so the group can be copied as it is).
func (b *builder) wholeGroupNeeded(r *Reader, g *solidGroup, byBlob map[*blob]*needed) bool {
	some := false
	for _, bl := range r.order {
		if bl.solid != g {
			continue
		}
		if byBlob[bl] == nil {
			return false
		}
		some = true
	}
	for _, m := range r.meta {
		if m.solid == g {
			return false
		}
	}
	return some && g.parts[0].comp == b.solidComp
}

// copySolidGroup copies the solid resources of g as they are into the
// output's solid run, with entries for each of its blobs.
func (b *builder) copySolidGroup(ctx context.Context, r *Reader, g *solidGroup, byBlob map[*blob]*needed) error {
	base := b.solidTotal
	for _, part := range g.parts {
		pr := part.r
		start := b.out.pos
		n := solidStoredEnd(part) - part.where
		if err := copyRange(ctx, b.out, pr, part.where, n, b.buf); err != nil {
			return fmt.Errorf("solid resource at offset %d: %w", part.where, err)
		}
		b.solidRes = append(b.solidRes, blobEntry{res: resHeader{StoredSize: n, Flags: resFlagSolid, Offset: start, OrigSize: solidMagicSize}, partNumber: 1, refCount: 1})
		b.solidTotal += part.origSize
	}
	for _, bl := range r.order {
		if bl.solid != g {
			continue
		}
		w := byBlob[bl]
		e := &blobEntry{res: resHeader{StoredSize: bl.size, Flags: resFlagSolid, Offset: base + bl.offset}, partNumber: 1, refCount: w.refs, hash: bl.hash}
		b.solidBlobs = append(b.solidBlobs, e)
		b.known[bl.hash] = e
		b.tick(bl.size)
	}
	return nil
}

// recompressPlain decodes blobs and stores them as non-solid resources.
func (b *builder) recompressPlain(ctx context.Context, ws []*needed) error {
	store := b.store(b.comp)
	store.progress = func(done, _ int64) {
		if b.progress != nil {
			b.progress(b.done+done, b.total)
		}
	}
	var srcs []*blobSource
	decs := map[*Reader]*decoders{}
	for _, w := range ws {
		if w.b.size == 0 {
			continue
		}
		if decs[w.r] == nil {
			decs[w.r] = newDecoders()
		}
		srcs = append(srcs, w.r.recompressSource(w.b, w.refs, decs[w.r]))
	}
	if err := store.store(ctx, srcs); err != nil {
		return err
	}
	for i, src := range srcs {
		if want := ws[i].b.hash; src.hash != want {
			return fmt.Errorf("blob %s: %w", want, ErrChecksum)
		}
	}
	b.plain = append(b.plain, store.entries...)
	for _, s := range srcs {
		b.done += s.size
	}
	return nil
}

// writeSolid decodes blobs and writes them into one new solid resource.
func (b *builder) writeSolid(ctx context.Context, ws []*needed) error {
	var total int64
	for _, w := range ws {
		total += w.b.size
	}
	if total == 0 {
		return nil
	}
	sw, err := newSolidWriter(ctx, b.out, b.solidComp, b.solidChunk, b.threads, total)
	if err != nil {
		return err
	}
	defer sw.abort()
	base := b.solidTotal
	var off int64
	decs := map[*Reader]*decoders{}
	pw := &progressWriter{w: sw, tick: b.tick}
	for _, w := range ws {
		if decs[w.r] == nil {
			decs[w.r] = newDecoders()
		}
		rd, err := w.r.openChecked(w.b, decs[w.r])
		if err != nil {
			return err
		}
		n, err := io.CopyBuffer(pw, onlyReader{rd}, b.buf)
		if err != nil {
			return err
		}
		if n != w.b.size {
			return formatErr("blob %s: %d bytes read, %d expected", w.b.hash, n, w.b.size)
		}
		e := &blobEntry{res: resHeader{StoredSize: w.b.size, Flags: resFlagSolid, Offset: base + off}, partNumber: 1, refCount: w.refs, hash: w.b.hash}
		b.solidBlobs = append(b.solidBlobs, e)
		b.known[e.hash] = e
		off += w.b.size
	}
	res, err := sw.close()
	if err != nil {
		return err
	}
	b.solidRes = append(b.solidRes, res)
	b.solidTotal += total
	return nil
}

// progressWriter reports the bytes written through it.
type progressWriter struct {
	w    io.Writer
	tick func(int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.tick(int64(n))
	return n, err
}

// commit writes the blob table, XML data, integrity table and header, and
// renames the output over the destination.
func (b *builder) commit(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			b.abort()
		}
	}()
	// Blob table: the base's entries as they were (a solid run among them
	// must keep its order), the new metadata resources in image order, the
	// new non-solid blobs, then the one new solid run: its resource entries
	// first, then its blobs. A metadata entry always separates a base's
	// solid run from the new one, or the two runs would read as one.
	var entries []*blobEntry
	for i := range b.oldEntries {
		entries = append(entries, &b.oldEntries[i])
	}
	entries = append(entries, b.metas...)
	entries = append(entries, b.plain...)
	if len(b.solidRes) > 0 && len(b.metas) == 0 && len(b.plain) == 0 && len(b.oldEntries) > 0 {
		last := b.oldEntries[len(b.oldEntries)-1]
		if last.res.Flags&resFlagSolid != 0 {
			return fmt.Errorf("internal error: a new solid run would join the base's")
		}
	}
	for i := range b.solidRes {
		entries = append(entries, &b.solidRes[i])
	}
	entries = append(entries, b.solidBlobs...)
	table := make([]byte, 0, len(entries)*blobEntrySize)
	var eb [blobEntrySize]byte
	for _, e := range entries {
		e.put(eb[:])
		table = append(table, eb[:]...)
	}
	hdr := b.hdr
	hdr.blobTable = resHeader{StoredSize: int64(len(table)), Flags: resFlagMetadata, Offset: b.out.pos, OrigSize: int64(len(table))}
	if _, err := b.out.Write(table); err != nil {
		return err
	}
	// The metadata entries in table order are the images in order.
	var metaRes []resHeader
	for _, e := range entries {
		if e.res.Flags&resFlagMetadata != 0 {
			metaRes = append(metaRes, e.res)
		}
	}
	if len(metaRes) != len(b.xml) {
		return fmt.Errorf("internal error: %d metadata resources for %d images", len(metaRes), len(b.xml))
	}
	hdr.ImageCount = uint32(len(b.xml))
	hdr.BootIndex, hdr.bootMetadata = 0, resHeader{}
	if b.bootImage > 0 && b.bootImage <= len(metaRes) {
		hdr.BootIndex, hdr.bootMetadata = uint32(b.bootImage), metaRes[b.bootImage-1]
	}
	xmlStart := b.out.pos
	xmlData := encodeXMLData(wimXML(xmlStart, b.xml))
	hdr.xmlData = resHeader{StoredSize: int64(len(xmlData)), Flags: resFlagMetadata, Offset: xmlStart, OrigSize: int64(len(xmlData))}
	if _, err := b.out.Write(xmlData); err != nil {
		return err
	}
	hdr.integrity = resHeader{}
	if b.check {
		if err := b.out.flush(); err != nil {
			return err
		}
		s, e := integrityRange(&hdr)
		hashes, err := computeIntegrity(ctx, b.f, s, e, integrityChunk, nil)
		if err != nil {
			return err
		}
		it := marshalIntegrity(hashes, integrityChunk)
		hdr.integrity = resHeader{StoredSize: int64(len(it)), Offset: b.out.pos, OrigSize: int64(len(it))}
		if _, err := b.out.Write(it); err != nil {
			return err
		}
	}
	if err := b.out.finish(); err != nil {
		return err
	}
	if _, err := b.f.WriteAt(hdr.marshal(), 0); err != nil {
		return err
	}
	return replaceWith(b.f, b.dest)
}

// replaceWith syncs the finished temporary file f, gives it dest's
// permissions and renames it over dest.
func replaceWith(f *os.File, dest string) error {
	mode := os.FileMode(0o644)
	if st, err := os.Stat(dest); err == nil {
		mode = st.Mode().Perm()
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Chmod(mode); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), dest)
}

// abort removes the temporary file.
func (b *builder) abort() {
	if b.f != nil {
		b.f.Close()
		os.Remove(b.f.Name())
	}
}
