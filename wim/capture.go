package wim

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/reseal/reseal/internal/atomicfile"
)

// CaptureOptions tunes Capture.
type CaptureOptions struct {
	Name, Description string
	// DisplayName, DisplayDescription, Flags (the edition, e.g.
	// "Professional") and Windows (what DISM records of a Windows
	// installation) go into the image's XML data when set.
	DisplayName, DisplayDescription, Flags string
	Windows                                *WindowsInfo
	// Compression of the new WIM's resources (the zero value is none; the
	// command line defaults to XPRESS). When appending, the existing WIM's
	// compression and chunk size are kept and this is ignored.
	Compression Compression
	// CompressionLevel: CompressionLevelMax makes LZX slower and smaller.
	CompressionLevel CompressionLevel
	ChunkSize        int  // 0 = 32 KiB
	Threads          int  // 0 = runtime.NumCPU()
	Check            bool // write an integrity table
	// Solid stores the file data as one solid resource of
	// SolidCompression (none means LZMS) with SolidChunkSize-byte chunks
	// (0: DefaultSolidChunkSize); the metadata resource keeps Compression.
	Solid            bool
	SolidCompression Compression
	SolidChunkSize   int
	Append           bool // append as a new image to an existing WIM
	Boot             bool // mark the new image bootable (the WIM's boot index, as for WinPE)
	// Exclude adds exclusion globs (WimScript.ini semantics) to Config.
	// Warning reports each of them, and each of a given Config's, that
	// excluded nothing.
	Exclude []string
	// ExcludeQuietly adds exclusion globs that are not reported when they
	// exclude nothing (a caller's own control files, usually absent).
	ExcludeQuietly []string
	// Config is the capture configuration; nil means DefaultCaptureConfig.
	Config *CaptureConfig
	// Progress, if set, is called with bytes of file data read so far and
	// the total to read. Capture reads files while it still scans the tree
	// (not with Solid): the total is then what the scan has found so far,
	// and grows until it is complete.
	Progress func(done, total int64)
	// Warning, if set, receives what was skipped (sockets, devices, ...);
	// it may be called on another goroutine than Progress, though never
	// on two at once.
	Warning func(msg string)
}

// staleCaptureAge is how long a capture's temporary must have gone
// unchanged to count as left by an interrupted one.
const staleCaptureAge = 10 * time.Minute

// Capture writes the directory tree srcDir as an image: a new WIM at
// wimPath, or with Append a new image at the end of the existing one. The
// WIM is written to a temporary file beside wimPath and renamed over it only
// when complete, so a failure leaves any previous file untouched.
//
// On Linux, regular files, directories, symbolic links (as reparse points,
// with absolute targets inside srcDir made relative to the image root, as
// wimlib's --rpfix does), hard links and timestamps are captured. File data
// is streamed chunk by chunk: it is hashed while it is compressed, and a
// blob that turns out to be a duplicate is dropped from the output again, so
// memory does not grow with file sizes.
func Capture(ctx context.Context, srcDir, wimPath string, opts CaptureOptions) (err error) {
	st, err := os.Stat(srcDir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory", srcDir)
	}
	if opts.Name == "" {
		abs, _ := filepath.Abs(srcDir)
		opts.Name = filepath.Base(abs)
	}
	return captureWith(ctx, wimPath, opts, true, func(ctx context.Context, scan *scanner) (*File, error) {
		scan.root = srcDir
		if abs, err := filepath.Abs(srcDir); err == nil {
			scan.absRoot = abs
			scan.root = abs
		}
		root, err := scan.scan(ctx)
		if err != nil {
			return nil, err
		}
		for _, g := range scan.match.unmatched() {
			scan.warnf("exclusion %q matched nothing in %s", g, srcDir)
		}
		return root, nil
	})
}

// captureWith writes the image that scanTree finds (filling in the scanner
// it is given) as Capture describes; srcDir or another source is the
// caller's business. With concurrent (and not Solid), the scan runs while
// the data of the files it has found so far is stored: see scanRun.
func captureWith(ctx context.Context, wimPath string, opts CaptureOptions, concurrent bool, scanTree func(context.Context, *scanner) (*File, error)) (err error) {
	if opts.ChunkSize == 0 {
		opts.ChunkSize = defaultChunkSize
		if opts.Compression == CompressLZMS {
			opts.ChunkSize = defaultLZMSChunkSize
		}
	}
	if opts.Threads <= 0 {
		opts.Threads = runtime.NumCPU()
	}
	var old *Reader
	if opts.Append {
		old, err = openForRewrite(wimPath)
		if err != nil {
			return err
		}
		defer old.Close()
		if len(old.more) > 0 {
			return fmt.Errorf("%s is a split WIM: join it before appending", wimPath)
		}
		for _, im := range old.Images() {
			if im.Name == opts.Name {
				return fmt.Errorf("%s already has an image named %q", wimPath, opts.Name)
			}
		}
		opts.Compression = old.header.Compression()
		opts.ChunkSize = int(old.header.ChunkSize)
		if opts.Compression == CompressNone {
			opts.ChunkSize = defaultChunkSize
		}
	}
	cs := opts.ChunkSize
	if cs < 4096 || cs > maxChunkSize || cs&(cs-1) != 0 {
		return fmt.Errorf("invalid chunk size %d (a power of two from 4 KiB)", cs)
	}
	if !canCompress(opts.Compression, cs) {
		return fmt.Errorf("cannot write %v compression with %d-byte chunks", opts.Compression, cs)
	}
	if opts.Solid {
		if opts.SolidCompression == CompressNone {
			opts.SolidCompression = CompressLZMS
		}
		if opts.SolidChunkSize == 0 {
			opts.SolidChunkSize = DefaultSolidChunkSize(opts.SolidCompression)
		}
		if !canCompress(opts.SolidCompression, opts.SolidChunkSize) {
			return fmt.Errorf("cannot write solid %v compression with %d-byte chunks", opts.SolidCompression, opts.SolidChunkSize)
		}
	}
	cfg := opts.Config
	if cfg == nil {
		cfg = DefaultCaptureConfig()
	}
	scan := &scanner{match: newMatcher(cfg, opts.Exclude, opts.ExcludeQuietly, opts.Config != nil), warn: opts.Warning, inodes: map[inodeKey]*linkGroup{}, data: map[*File]*blobSource{}, reparse: map[*File]*blobSource{}}
	if abs, err := filepath.Abs(wimPath); err == nil {
		scan.skip = abs // a WIM written (or appended to) inside the tree is not captured into itself
	}
	var root *File
	concurrent = concurrent && !opts.Solid
	if !concurrent {
		if root, err = scanTree(ctx, scan); err != nil {
			return err
		}
	}

	dir := filepath.Dir(wimPath)
	// Temporaries of an interrupted capture to this WIM: ours by name,
	// regular files, untouched for longer than any live capture leaves
	// its own (it writes continuously).
	atomicfile.CleanStale(wimPath, staleCaptureAge)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(wimPath)+".reseal-*")
	if err != nil {
		// Name the WIM asked for, not the temporary file beside it.
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("create %s: %w", wimPath, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := &wimWriter{f: tmp, opts: opts, old: old}
	if concurrent {
		// The temporary is in the tree when the WIM is: never captured.
		if abs, err := filepath.Abs(tmp.Name()); err == nil {
			scan.skipTemp = abs
		}
		w.scan = startScan(ctx, scan, scanTree)
		defer w.scan.wait()
	}
	if err = w.write(ctx, scan, root); err != nil {
		return err
	}
	// Sync before the rename only when an existing file is replaced: that is
	// when a crash must not leave a truncated WIM where a good one was.
	mode := os.FileMode(0o644)
	if st, statErr := os.Stat(wimPath); statErr == nil {
		mode = st.Mode().Perm()
		if err = tmp.Sync(); err != nil {
			return err
		}
	}
	if err = tmp.Chmod(mode); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), wimPath); err != nil {
		return err
	}
	return nil
}

// inodeKey identifies a file on its file system, for hard links.
type inodeKey struct{ dev, ino uint64 }

type linkGroup struct {
	id    uint64
	first *File
	src   *blobSource
}

type scanner struct {
	root, absRoot string
	skip          string // absolute path of the WIM being written
	skipTemp      string // and of its temporary, when the scan runs while it is written
	match         *matcher
	warn          func(string)
	inodes        map[inodeKey]*linkGroup
	nextGroup     uint64
	data          map[*File]*blobSource // unnamed data stream of each regular file
	reparse       map[*File]*blobSource
	sources       []*blobSource // distinct sources, in tree order
	total         int64
	ntfs          bool // the source is an NTFS-3G mount: read its NTFS metadata
	sds           [][]byte
	sdIndex       map[string]int32
	named         map[*File][]*blobSource // named data streams, in order
	// queue, when set, receives each source as it is found (scanRun);
	// found is the bytes found so far.
	queue *sourceQueue
	found atomic.Int64
}

func (s *scanner) warnf(format string, args ...any) {
	if s.warn != nil {
		s.warn(fmt.Sprintf(format, args...))
	}
}

func (s *scanner) scan(ctx context.Context) (*File, error) {
	st, err := os.Stat(s.root)
	if err != nil {
		return nil, err
	}
	root := &File{Attributes: AttrDirectory, SecurityID: -1}
	setTimesFrom(root, st)
	s.ntfs = isNTFS3G(s.root)
	if s.ntfs {
		if _, err := s.ntfsMeta(root, s.root, true); err != nil {
			return nil, err
		}
	}
	if err := s.scanDir(ctx, root, s.root, "", 0); err != nil {
		return nil, err
	}
	return root, nil
}

func (s *scanner) scanDir(ctx context.Context, dir *File, hostDir, imageDir string, depth int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if depth > maxTreeDepth {
		return fmt.Errorf("%s: directory tree deeper than %d", hostDir, maxTreeDepth)
	}
	d, names, err := openScanDir(hostDir)
	if err != nil {
		return err
	}
	// Every entry is looked at before going down into a subdirectory: the
	// directory is closed first (open descriptors stay one whatever the
	// depth).
	type entry struct {
		name, hostPath, imagePath string
		info                      fs.FileInfo
	}
	entries := make([]entry, 0, len(names))
	for _, name := range names {
		imagePath := imageDir + "/" + name
		hostPath := filepath.Join(hostDir, name)
		if s.match.excluded(imagePath) || hostPath == s.skip || hostPath == s.skipTemp {
			continue
		}
		if !utf8.ValidString(name) {
			d.close()
			return fmt.Errorf("%s: the name is not valid UTF-8", hostPath)
		}
		if strings.ContainsRune(name, '\\') {
			d.close()
			return fmt.Errorf("%s: a backslash cannot be part of a Windows file name", hostPath)
		}
		info, err := d.lstat(name)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed while we looked
			}
			d.close()
			return err
		}
		entries = append(entries, entry{name, hostPath, imagePath, info})
	}
	d.close()
	for _, e := range entries {
		name, hostPath, imagePath, info := e.name, e.hostPath, e.imagePath, e.info
		f := &File{Name: name, SecurityID: -1, Parent: dir}
		setTimesFrom(f, info)
		var meta *ntfsMeta
		if s.ntfs {
			if meta, err = s.ntfsMeta(f, hostPath, info.IsDir()); err != nil {
				return err
			}
		}
		switch mode := info.Mode(); {
		case mode.IsDir():
			f.Attributes |= AttrDirectory
			dir.Children = append(dir.Children, f)
			if err := s.scanDir(ctx, f, hostPath, imagePath, depth+1); err != nil {
				return err
			}
		case mode.IsRegular():
			if meta == nil || !meta.hasAttrib {
				f.Attributes = AttrNormal
				if isSparse(info) {
					f.Attributes = AttrSparseFile
				}
			}
			dir.Children = append(dir.Children, f)
			s.addRegular(f, hostPath, info)
		case mode&fs.ModeSymlink != 0 && meta != nil && meta.reparse != nil:
			dir.Children = append(dir.Children, f) // the reparse data was taken as NTFS stores it
		case mode&fs.ModeSymlink != 0:
			target, err := os.Readlink(hostPath)
			if err != nil {
				return err
			}
			if err := s.addSymlink(f, hostPath, target); err != nil {
				return err
			}
			dir.Children = append(dir.Children, f)
		default:
			s.warnf("%s: skipped (not a file, directory or symbolic link)", hostPath)
		}
	}
	return nil
}

// ntfsMeta reads the NTFS metadata NTFS-3G exposes for f and applies it:
// attributes, security descriptor, DOS name, reparse data, timestamps and
// named data streams.
func (s *scanner) ntfsMeta(f *File, hostPath string, isDir bool) (*ntfsMeta, error) {
	m, err := readNTFSMeta(hostPath)
	if err != nil {
		return nil, err
	}
	if m.hasAttrib {
		f.Attributes = m.attrib &^ AttrReparsePoint
		if isDir {
			f.Attributes |= AttrDirectory
		}
	}
	if m.acl != nil {
		if s.sdIndex == nil {
			s.sdIndex = map[string]int32{}
		}
		id, ok := s.sdIndex[string(m.acl)]
		if !ok {
			id = int32(len(s.sds))
			s.sds = append(s.sds, m.acl)
			s.sdIndex[string(m.acl)] = id
		}
		f.SecurityID = id
	}
	f.ShortName = m.dosName
	if m.hasTimes {
		f.CreationTime, f.LastWriteTime, f.LastAccessTime = m.times[0], m.times[1], m.times[2]
	}
	if m.reparse != nil {
		f.Attributes |= AttrReparsePoint
		f.ReparseTag = m.tag
		f.ReparseFlags = 0
		if lt, ok := parseLinkReparse(m.tag, m.reparse); ok && lt.Relative {
			f.ReparseFlags = 1
		}
		data := append([]byte(nil), m.reparse...)
		s.reparse[f] = &blobSource{data: data, size: int64(len(data)), refs: 1}
	}
	for _, ads := range m.streams {
		src := &blobSource{data: ads.data, size: int64(len(ads.data)), refs: 1}
		if s.named == nil {
			s.named = map[*File][]*blobSource{}
		}
		f.NamedStreams = append(f.NamedStreams, Stream{Name: ads.name})
		s.named[f] = append(s.named[f], src)
	}
	return m, nil
}

func setTimesFrom(f *File, info fs.FileInfo) {
	atime, mtime := fileTimes(info)
	f.LastWriteTime = TimeToFiletime(mtime)
	f.LastAccessTime = TimeToFiletime(atime)
	f.CreationTime = f.LastWriteTime
}

func (s *scanner) addRegular(f *File, hostPath string, info fs.FileInfo) {
	key, nlink, ok := inodeOf(info)
	if ok && nlink > 1 {
		if g := s.inodes[key]; g != nil {
			if g.id == 0 {
				s.nextGroup++
				g.id = s.nextGroup
				g.first.HardLinkGroup = g.id
			}
			f.HardLinkGroup = g.id
			if g.src != nil {
				g.src.refs++
				s.data[f] = g.src
			}
			return
		}
	}
	var src *blobSource
	if info.Size() > 0 {
		src = &blobSource{path: hostPath, size: info.Size(), refs: 1}
		s.sources = append(s.sources, src)
		s.data[f] = src
		s.total += info.Size()
		s.found.Add(info.Size())
		if s.queue != nil {
			s.queue.add(src)
		}
	}
	if ok && nlink > 1 {
		s.inodes[key] = &linkGroup{first: f, src: src}
	}
}

// addSymlink turns a symbolic link into a symlink reparse point. Relative
// targets are kept; absolute targets inside the captured tree are rewritten
// relative to the image root and marked fixed (wimlib's --rpfix); others are
// kept as they are and marked not fixed.
func (s *scanner) addSymlink(f *File, hostPath, target string) error {
	if !utf8.ValidString(target) || target == "" {
		return fmt.Errorf("%s: symbolic link target is empty or not valid UTF-8", hostPath)
	}
	f.Attributes = AttrReparsePoint
	if st, err := os.Stat(hostPath); err == nil && st.IsDir() {
		f.Attributes |= AttrDirectory
	}
	f.ReparseTag = ReparseTagSymlink
	relative := !filepath.IsAbs(target)
	text := target
	f.ReparseFlags = 1 // not fixed
	if !relative {
		clean := filepath.Clean(target)
		if s.absRoot != "" {
			if rel, err := filepath.Rel(s.absRoot, clean); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				text = "/" + filepath.ToSlash(rel)
				if rel == "." {
					text = "/"
				}
				f.ReparseFlags = 0
			}
		}
		if f.ReparseFlags != 0 {
			s.warnf("%s: symbolic link to %s points outside the captured tree: recorded as it is and marked not fixed (as wimlib does); reseal apply skips such a link", hostPath, target)
		}
	}
	text = strings.ReplaceAll(filepath.ToSlash(text), "/", `\`)
	data := symlinkReparse(text, relative)
	src := &blobSource{data: data, size: int64(len(data)), refs: 1}
	s.reparse[f] = src
	return nil
}

// wimWriter lays out the new file: header, blobs, metadata resource, blob
// table, XML data and integrity table.
type wimWriter struct {
	f    *os.File
	opts CaptureOptions
	old  *Reader
	scan *scanRun // the scan, when it runs while the files' data is stored
}

// scanRun is a scan running on its own goroutine while the store writes
// the data of the files it has found so far (scanner.queue, in the order
// found, so the output is the same as after a whole scan): the scan of a
// big tree is seconds of system calls that the store need not wait for.
// What a scan learns later about a source already stored is its
// references (a further hard link): the store writes entries without
// them and they are added once both are done.
type scanRun struct {
	cancel context.CancelFunc
	done   chan struct{}
	root   *File
	err    error
}

func startScan(ctx context.Context, scan *scanner, scanTree func(context.Context, *scanner) (*File, error)) *scanRun {
	ctx, cancel := context.WithCancel(ctx)
	r := &scanRun{cancel: cancel, done: make(chan struct{})}
	scan.queue = newSourceQueue()
	go func() {
		defer close(r.done)
		r.root, r.err = scanTree(ctx, scan)
		scan.queue.close()
	}()
	return r
}

// wait stops the scan if it still runs (the store failed) and waits for it.
func (r *scanRun) wait() {
	r.cancel()
	<-r.done
}

func (w *wimWriter) write(ctx context.Context, scan *scanner, root *File) error {
	var hdr Header
	start := int64(headerSize)
	var oldEntries []blobEntry
	known := map[Hash]*blobEntry{}
	if w.old != nil {
		hdr = w.old.header
		if _, err := w.old.copyTo(w.f); err != nil {
			return err
		}
		start = w.old.size
		oldEntries = append(oldEntries, w.old.rawTable...)
		for i := range oldEntries {
			e := &oldEntries[i]
			if e.res.Flags&resFlagMetadata == 0 && !(e.res.Flags&resFlagSolid != 0 && e.res.OrigSize == solidMagicSize) && e.res.Flags&resFlagFree == 0 {
				if known[e.hash] == nil {
					known[e.hash] = e
				}
			}
		}
	} else {
		hdr = Header{Version: versionDefault, Flags: hdrFlagRPFix, PartNumber: 1, TotalParts: 1}
		if _, err := rand.Read(hdr.GUID[:]); err != nil {
			return err
		}
		switch w.opts.Compression {
		case CompressXPRESS:
			hdr.Flags |= hdrFlagCompression | hdrFlagXPRESS
		case CompressLZX:
			hdr.Flags |= hdrFlagCompression | hdrFlagLZX
		case CompressLZMS:
			// LZMS exists only in version 3584 WIMs.
			hdr.Version = versionSolid
			hdr.Flags |= hdrFlagCompression | hdrFlagLZMS
		}
		if w.opts.Compression != CompressNone {
			hdr.ChunkSize = uint32(w.opts.ChunkSize)
		}
		if _, err := w.f.WriteAt(make([]byte, headerSize), 0); err != nil {
			return err
		}
	}
	hdr.Flags &^= hdrFlagWriteInProg
	out := newOutFile(w.f, start)
	store := &blobStore{out: out, comp: w.opts.Compression, level: w.opts.CompressionLevel, chunkSize: w.opts.ChunkSize, threads: w.opts.Threads, known: known, progress: w.opts.Progress}
	switch {
	case w.scan != nil:
		store.deferRefs, store.totalNow = true, scan.found.Load
		err := store.storeFrom(ctx, scan.queue.get)
		if err != nil {
			w.scan.cancel()
		}
		<-w.scan.done
		if err != nil {
			return err
		}
		if w.scan.err != nil {
			return w.scan.err
		}
		root = w.scan.root
		for _, src := range scan.sources {
			store.known[src.hash].refCount += src.refs
		}
		store.deferRefs, store.totalNow, store.total = false, nil, scan.total
	case !w.opts.Solid:
		store.total = scan.total
		if err := store.store(ctx, scan.sources); err != nil {
			return err
		}
	}
	var reparseSrcs []*blobSource
	root.Walk(func(f *File) error {
		if src := scan.reparse[f]; src != nil && src.size > 0 {
			reparseSrcs = append(reparseSrcs, src)
		}
		for _, src := range scan.named[f] {
			if src.size > 0 {
				reparseSrcs = append(reparseSrcs, src)
			}
		}
		return nil
	})
	var solidRes *blobEntry
	var solidBlobs []*blobEntry
	if w.opts.Solid {
		// Solid resources exist only in version 3584 WIMs.
		hdr.Version = versionSolid
		var err error
		srcs := append(append([]*blobSource(nil), scan.sources...), reparseSrcs...)
		solidRes, solidBlobs, err = storeSolid(ctx, out, known, srcs, w.opts.SolidCompression, w.opts.SolidChunkSize, w.opts.Threads, w.opts.Progress)
		if err != nil {
			return err
		}
	} else if err := store.store(ctx, reparseSrcs); err != nil {
		return err
	}
	info := ImageInfo{Name: w.opts.Name, Description: w.opts.Description, DisplayName: w.opts.DisplayName,
		DisplayDescription: w.opts.DisplayDescription, Flags: w.opts.Flags, Windows: w.opts.Windows}
	root.Walk(func(f *File) error {
		if src := scan.data[f]; src != nil {
			f.Data = Stream{Hash: src.hash, Size: src.size}
		}
		if src := scan.reparse[f]; src != nil {
			f.Reparse = Stream{Hash: src.hash, Size: src.size}
		}
		for i, src := range scan.named[f] {
			f.NamedStreams[i].Hash, f.NamedStreams[i].Size = src.hash, src.size
			info.TotalBytes += src.size
		}
		if f.IsDir() && !f.IsReparsePoint() {
			info.DirCount++
		} else {
			info.FileCount++
		}
		info.TotalBytes += f.Data.Size + f.Reparse.Size
		return nil
	})
	for _, g := range scan.inodes {
		if g.id != 0 && g.src != nil {
			info.HardLinkBytes += int64(g.src.refs-1) * g.src.size
		}
	}
	meta := marshalMetadata(root, scan.sds)
	msrc := &blobSource{data: meta, size: int64(len(meta)), metadata: true, refs: 1}
	store.progress = nil
	if err := store.store(ctx, []*blobSource{msrc}); err != nil {
		return err
	}

	// Blob table: the old entries as they were (solid runs must keep their
	// order), then the new blobs, the new metadata resource last.
	table := make([]byte, 0, (len(oldEntries)+len(store.entries))*blobEntrySize)
	var eb [blobEntrySize]byte
	for i := range oldEntries {
		oldEntries[i].put(eb[:])
		table = append(table, eb[:]...)
	}
	for _, e := range store.entries {
		e.put(eb[:])
		table = append(table, eb[:]...)
	}
	// The new solid run last: the new metadata entry before it keeps it
	// apart from a solid run of the old entries.
	if solidRes != nil {
		solidRes.put(eb[:])
		table = append(table, eb[:]...)
		for _, e := range solidBlobs {
			e.put(eb[:])
			table = append(table, eb[:]...)
		}
	}
	hdr.blobTable = resHeader{StoredSize: int64(len(table)), Flags: resFlagMetadata, Offset: out.pos, OrigSize: int64(len(table))}
	if _, err := out.Write(table); err != nil {
		return err
	}
	hdr.ImageCount++
	if w.opts.Boot {
		meta := store.entries[len(store.entries)-1]
		hdr.BootIndex, hdr.bootMetadata = hdr.ImageCount, meta.res
	}

	now := TimeToFiletime(time.Now())
	images := [][]byte{}
	if w.old != nil {
		images = append(images, w.old.rawXML...)
	}
	images = append(images, imageXML(info, now, now))
	xmlStart := out.pos
	xmlData := encodeXMLData(wimXML(xmlStart, images))
	hdr.xmlData = resHeader{StoredSize: int64(len(xmlData)), Flags: resFlagMetadata, Offset: xmlStart, OrigSize: int64(len(xmlData))}
	if _, err := out.Write(xmlData); err != nil {
		return err
	}
	hdr.integrity = resHeader{}
	if w.opts.Check || (w.old != nil && w.old.header.HasIntegrity()) {
		if err := out.flush(); err != nil {
			return err
		}
		s, e := integrityRange(&hdr)
		hashes, err := computeIntegrity(ctx, w.f, s, e, integrityChunk, nil)
		if err != nil {
			return err
		}
		it := marshalIntegrity(hashes, integrityChunk)
		hdr.integrity = resHeader{StoredSize: int64(len(it)), Offset: out.pos, OrigSize: int64(len(it))}
		if _, err := out.Write(it); err != nil {
			return err
		}
	}
	if err := out.finish(); err != nil {
		return err
	}
	_, err := w.f.WriteAt(hdr.marshal(), 0)
	return err
}

// copyTo copies the whole WIM file to w.
func (r *Reader) copyTo(w io.WriterAt) (int64, error) {
	buf := make([]byte, 1<<20)
	var off int64
	for off < r.size {
		n := min(int64(len(buf)), r.size-off)
		if _, err := r.r.ReadAt(buf[:n], off); err != nil {
			return off, err
		}
		if _, err := w.WriteAt(buf[:n], off); err != nil {
			return off, err
		}
		off += n
	}
	return off, nil
}
