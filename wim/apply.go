package wim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// ApplyOptions tunes Apply.
type ApplyOptions struct {
	// Progress, if set, is called with the bytes of file data written so far
	// and the total to write.
	Progress func(done, total int64)
	// Warning, if set, receives what could not be applied exactly (for
	// example a reparse point other than a link, applied as a plain file).
	Warning func(msg string)
}

// ErrUnsafe is wrapped by errors that refuse an image because applying it
// would write outside the destination or follow inconsistent metadata.
var ErrUnsafe = errors.New("unsafe image")

// Apply extracts image index (1-based) into the directory dest, creating it
// if needed. The whole image is checked before anything is written: names
// that are not plain file names, links that lead outside dest and
// inconsistent hard-link groups are refused (errors wrapping ErrUnsafe).
// File data is written to a temporary name and renamed once its SHA-1
// matches; on an error the temporary file is removed.
func (r *Reader) Apply(ctx context.Context, index int, dest string, opts ApplyOptions) error {
	img, err := r.Image(index)
	if err != nil {
		return err
	}
	plan, err := planApply(img)
	if err != nil {
		return err
	}
	absDest, err := filepath.Abs(dest)
	if err != nil {
		return err
	}
	if opts.Warning != nil {
		for _, w := range plan.warnings {
			opts.Warning(w)
		}
	}
	a := &applier{r: r, dest: absDest, plan: plan, opts: opts, dec: newDecoders(), buf: make([]byte, 128<<10)}
	return a.run(ctx)
}

// applyPlan is the checked form of an image: what to create, in order.
type applyPlan struct {
	security [][]byte         // the image's security descriptors
	dirs     []*File          // parents before children, root first
	files    []*File          // regular files (not links), including hard-link members
	links    []*File          // symbolic links and junctions
	targets  map[*File]string // on-disk link text; absolute ones are relative to dest (prefix "/")
	firstOf  map[uint64]*File // hard-link group -> first member (the one that gets the data)
	warnings []string
}

func checkName(f *File) error {
	n := f.Name
	switch {
	case n == "":
		return fmt.Errorf("%w: an entry below %s has an empty name", ErrUnsafe, f.Parent.Path())
	case n == "." || n == "..":
		return fmt.Errorf("%w: entry %q below %s", ErrUnsafe, n, f.Parent.Path())
	case strings.ContainsAny(n, "/\\\x00"):
		return fmt.Errorf("%w: name %q below %s contains a path separator or NUL", ErrUnsafe, n, f.Parent.Path())
	case len(n) >= 2 && n[1] == ':' && isLetter(n[0]):
		return fmt.Errorf("%w: name %q below %s has a drive form", ErrUnsafe, n, f.Parent.Path())
	}
	return nil
}

func planApply(img *Image) (*applyPlan, error) {
	p := &applyPlan{targets: map[*File]string{}, firstOf: map[uint64]*File{}, security: img.SecurityDescriptors}
	byPath := map[string]*File{}
	dirGroups := map[uint64]*File{}
	var walk func(f *File) error
	walk = func(f *File) error {
		if f.Parent != nil {
			if err := checkName(f); err != nil {
				return err
			}
		}
		path := f.Path()
		if byPath[path] != nil {
			return fmt.Errorf("%w: two entries named %s", ErrUnsafe, path)
		}
		byPath[path] = f
		isLink := f.IsReparsePoint() && (f.ReparseTag == ReparseTagSymlink || f.ReparseTag == ReparseTagMountPoint)
		switch {
		case f.Parent == nil:
			p.dirs = append(p.dirs, f)
		case isLink:
			if len(f.Children) > 0 {
				return fmt.Errorf("%w: link %s also has entries below it", ErrUnsafe, path)
			}
			p.links = append(p.links, f)
		case f.IsDir():
			p.dirs = append(p.dirs, f)
		default:
			if f.IsReparsePoint() {
				p.warnings = append(p.warnings, fmt.Sprintf("%s: reparse point with tag %#x applied as a plain file", path, f.ReparseTag))
			}
			p.files = append(p.files, f)
			if g := f.HardLinkGroup; g != 0 {
				if first := p.firstOf[g]; first == nil {
					p.firstOf[g] = f
				} else if first.Data.Hash != f.Data.Hash {
					return fmt.Errorf("%w: hard-linked entries %s and %s have different contents", ErrUnsafe, first.Path(), path)
				}
			}
		}
		if g := f.HardLinkGroup; g != 0 && f.Parent != nil && f.IsDir() && !isLink {
			dirGroups[g] = f
		}
		for _, c := range f.Children {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(img.Root); err != nil {
		return nil, err
	}
	// A directory cannot be hard-linked: a file sharing its group is inconsistent.
	for g, d := range dirGroups {
		if first := p.firstOf[g]; first != nil {
			return nil, fmt.Errorf("%w: directory %s shares a hard-link group with %s", ErrUnsafe, d.Path(), first.Path())
		}
	}
	return p, nil
}

// resolveLinks decides the on-disk text of every link, refusing those whose
// target, followed through the image's own links, leaves the image root.
// dec is the caller's decoders: link data read through the same chunk cache
// as the files' data is not decoded again.
func (p *applyPlan) resolveLinks(r *Reader, rpfix bool, dec *decoders) error {
	if len(p.links) == 0 {
		return nil
	}
	byPath := map[string]*File{}
	for _, l := range p.links {
		byPath[l.Path()] = l
	}
	parsed := map[*File]LinkTarget{}
	for _, l := range p.links {
		data, err := r.readSmallStream(l.Reparse.Hash, dec)
		if err != nil {
			return fmt.Errorf("%s: reparse data: %w", l.Path(), err)
		}
		lt, ok := parseLinkReparse(l.ReparseTag, data)
		if !ok {
			return fmt.Errorf("%w: %s: malformed link reparse data", ErrFormat, l.Path())
		}
		if !lt.Relative && rpfix && l.ReparseFlags&1 != 0 {
			return fmt.Errorf("%w: link %s points outside the captured tree (%s%s)", ErrUnsafe, l.Path(), lt.Drive, lt.Path)
		}
		parsed[l] = lt
	}
	// Each link is resolved once (memo); a link met again while it is being
	// resolved is a cycle.
	memo := map[*File][]string{}
	busy := map[*File]bool{}
	var follow func(l *File, depth int) ([]string, error)
	follow = func(l *File, depth int) ([]string, error) {
		if r, ok := memo[l]; ok {
			return r, nil
		}
		if busy[l] || depth > 40 {
			return nil, fmt.Errorf("%w: link %s: too many levels of links (a cycle?)", ErrUnsafe, l.Path())
		}
		busy[l] = true
		defer delete(busy, l)
		lt := parsed[l]
		var cur []string
		if lt.Relative {
			cur = splitImagePath(l.Parent.Path())
		}
		for _, c := range strings.Split(lt.Path, `\`) {
			switch c {
			case "", ".":
				continue
			case "..":
				if len(cur) == 0 {
					return nil, fmt.Errorf("%w: link %s leads outside the image (%s)", ErrUnsafe, l.Path(), lt.Path)
				}
				cur = cur[:len(cur)-1]
				continue
			}
			if strings.ContainsAny(c, "/\x00") {
				return nil, fmt.Errorf("%w: link %s: target component %q", ErrUnsafe, l.Path(), c)
			}
			cur = append(cur, c)
			if next := byPath["/"+strings.Join(cur, "/")]; next != nil {
				resolved, err := follow(next, depth+1)
				if err != nil {
					return nil, err
				}
				cur = append([]string(nil), resolved...)
			}
		}
		memo[l] = cur
		return cur, nil
	}
	for _, l := range p.links {
		if _, err := follow(l, 0); err != nil {
			return err
		}
		lt := parsed[l]
		text := strings.ReplaceAll(lt.Path, `\`, "/")
		if !lt.Relative {
			text = "/" + strings.TrimLeft(text, "/")
		}
		p.targets[l] = text
	}
	return nil
}

func splitImagePath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// readSmallStream reads a whole stream of at most 64 KiB (reparse data).
func (r *Reader) readSmallStream(h Hash, dec *decoders) ([]byte, error) {
	if h.IsZero() {
		return nil, nil
	}
	b := r.blobs[h]
	if b == nil {
		return nil, fmt.Errorf("blob %s: not in the WIM", h)
	}
	if b.size > 64<<10 {
		return nil, formatErr("blob %s: %d bytes is too large for reparse data", h, b.size)
	}
	rd, err := r.openChecked(b, dec)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(rd)
}

type applier struct {
	r    *Reader
	dest string
	plan *applyPlan
	opts ApplyOptions
	dec  *decoders
	buf  []byte
	done int64
	ntfs bool // dest is on an NTFS-3G mount: write NTFS metadata through its xattrs
}

func (a *applier) hostPath(f *File) string {
	if f.Parent == nil {
		return a.dest
	}
	return filepath.Join(a.dest, filepath.FromSlash(f.Path()[1:]))
}

func (a *applier) run(ctx context.Context) error {
	if err := a.plan.resolveLinks(a.r, a.r.header.RPFix(), a.dec); err != nil {
		return err
	}
	if err := os.MkdirAll(a.dest, 0o755); err != nil {
		return err
	}
	a.ntfs = isNTFS3G(a.dest)
	for _, d := range a.plan.dirs[1:] {
		path := a.hostPath(d)
		if err := os.Mkdir(path, 0o755); err != nil {
			st, lerr := os.Lstat(path)
			if lerr != nil || !st.IsDir() {
				return fmt.Errorf("create directory %s: %w", path, err)
			}
		}
		if err := a.ntfsExtras(d, path); err != nil {
			return err
		}
	}
	if err := a.writeFiles(ctx); err != nil {
		return err
	}
	if a.ntfs {
		if err := a.ntfsLinks(); err != nil {
			return err
		}
		return a.ntfsFinish()
	}
	for _, l := range a.plan.links {
		text := a.plan.targets[l]
		if strings.HasPrefix(text, "/") {
			text = filepath.Join(a.dest, filepath.FromSlash(text[1:]))
		} else {
			text = filepath.FromSlash(text)
		}
		if err := createSymlink(text, a.hostPath(l), l.IsDir()); err != nil {
			return err
		}
	}
	// Timestamps last, directories deepest first, so that creating entries
	// does not disturb them.
	for _, f := range a.plan.files {
		if err := setTimes(a.hostPath(f), f, false); err != nil {
			return err
		}
	}
	for _, l := range a.plan.links {
		if err := setTimes(a.hostPath(l), l, true); err != nil {
			return err
		}
	}
	for i := len(a.plan.dirs) - 1; i >= 0; i-- {
		if err := setTimes(a.hostPath(a.plan.dirs[i]), a.plan.dirs[i], false); err != nil {
			return err
		}
	}
	return nil
}

// writeFiles writes the regular files: each blob is read once, in the order
// of the file, into its first file; other files with the same contents are
// copies of it, hard-link members are links to their group's first member.
func (a *applier) writeFiles(ctx context.Context) error {
	byBlob := map[Hash][]*File{}
	var blobs []*blob
	var total int64
	var empty []*File
	for _, f := range a.plan.files {
		if g := f.HardLinkGroup; g != 0 && a.plan.firstOf[g] != f {
			continue
		}
		h := f.Data.Hash
		if h.IsZero() {
			empty = append(empty, f)
			continue
		}
		if byBlob[h] == nil {
			b := a.r.blobs[h]
			if b == nil {
				return formatErr("%s: blob %s is not in the WIM", f.Path(), h)
			}
			blobs = append(blobs, b)
			total += b.size
		}
		byBlob[h] = append(byBlob[h], f)
	}
	sortBlobsByLocation(blobs)

	// Blobs in plain resources are decoded, checked and written by a pool of
	// workers (each with its own decoders; creating files is mostly waiting on
	// the file system). Blobs in solid resources are decoded by this goroutine
	// in file order, so that each solid chunk is decoded once; the small ones
	// are handed, verified, to the workers.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var firstErr error
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
		mu.Unlock()
	}
	jobs := make(chan fileJob, 2*applyWorkers)
	var wg sync.WaitGroup
	var progressMu sync.Mutex
	progress := func(n int64) {
		progressMu.Lock()
		a.done += n
		if a.opts.Progress != nil {
			a.opts.Progress(a.done, total)
		}
		progressMu.Unlock()
	}
	for i := 0; i < applyWorkers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &applyWorker{dec: newDecoders(), buf: make([]byte, 128<<10), progress: progress}
			for j := range jobs {
				if ctx.Err() == nil {
					if err := a.runJob(w, j); err != nil {
						fail(err)
					}
				}
			}
		}()
	}
	for _, b := range blobs {
		if ctx.Err() != nil {
			break
		}
		files := byBlob[b.hash]
		if b.solid == nil {
			// A plain resource decodes on its own: the worker does it all.
			jobs <- fileJob{files: files, blob: b}
			continue
		}
		first := a.hostPath(files[0])
		rd, err := a.r.openChecked(b, a.dec)
		if err != nil {
			fail(fmt.Errorf("%s: %w", first, err))
			break
		}
		if b.size <= smallFileSize {
			data := make([]byte, b.size)
			_, err := io.ReadFull(rd, data)
			if err == nil {
				// The read that reaches the end checks the SHA-1.
				_, err = rd.Read(make([]byte, 1))
				if err == io.EOF {
					err = nil
				}
			}
			if err != nil {
				fail(fmt.Errorf("%s: %w", first, err))
				break
			}
			progress(b.size)
			jobs <- fileJob{files: files, data: data}
			continue
		}
		if err := writeFileAtomic(first, rd, a.buf, progress); err != nil {
			fail(fmt.Errorf("%s: %w", first, err))
			break
		}
		if len(files) > 1 {
			jobs <- fileJob{files: files[1:], copyFrom: first}
		}
	}
	for _, f := range empty {
		jobs <- fileJob{files: []*File{f}}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, f := range a.plan.files {
		if g := f.HardLinkGroup; g != 0 && a.plan.firstOf[g] != f {
			continue
		}
		if err := a.ntfsExtras(f, a.hostPath(f)); err != nil {
			return err
		}
	}
	for _, f := range a.plan.files {
		if g := f.HardLinkGroup; g != 0 && a.plan.firstOf[g] != f {
			if err := linkAtomic(a.hostPath(a.plan.firstOf[g]), a.hostPath(f)); err != nil {
				return err
			}
		}
	}
	return nil
}

const (
	applyWorkers  = 8       // file creation waits on the file system more than on the CPU
	smallFileSize = 1 << 20 // blobs of solid resources up to this size are read whole and written by a worker
)

// fileJob is files to create with the same contents: data, or a blob to
// decode, or a copy of an already written file, or nothing (empty files).
type fileJob struct {
	files    []*File
	data     []byte
	blob     *blob
	copyFrom string
}

// applyWorker is what one file-writing goroutine owns.
type applyWorker struct {
	dec      *decoders
	buf      []byte
	progress func(int64)
}

func (a *applier) runJob(w *applyWorker, j fileJob) error {
	if b := j.blob; b != nil {
		first := a.hostPath(j.files[0])
		rd, err := a.r.openChecked(b, w.dec)
		if err == nil {
			err = writeFileAtomic(first, rd, w.buf, w.progress)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", first, err)
		}
		j = fileJob{files: j.files[1:], copyFrom: first}
	}
	for _, f := range j.files {
		path := a.hostPath(f)
		var err error
		if j.copyFrom != "" {
			err = copyFileAtomic(j.copyFrom, path)
		} else {
			err = writeWholeFile(path, j.data)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

// writeFileAtomic creates path (removing a file or link already there: a
// name is never followed) and fills it from r. On any error, a hash
// mismatch included, the file is removed again, so that no partial file is
// left under its final name.
func writeFileAtomic(path string, r io.Reader, buf []byte, progress func(int64)) (err error) {
	f, err := createExclusive(path)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(path)
		}
	}()
	for {
		n, rerr := r.Read(buf)
		if n > 0 {
			if _, err = f.Write(buf[:n]); err != nil {
				return err
			}
			if progress != nil {
				progress(int64(n))
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	return f.Close()
}

// createExclusive creates a new file at path, replacing a file or link that
// is there (unlinking it, never writing through it).
func createExclusive(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o644)
	if errors.Is(err, fs.ErrExist) {
		if st, lerr := os.Lstat(path); lerr == nil && st.IsDir() {
			return nil, fmt.Errorf("create %s: a directory is in the way", path)
		}
		os.Remove(path)
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o644)
	}
	return f, err
}

func copyFileAtomic(src, dst string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := writeFileAtomic(dst, f, make([]byte, 64<<10), nil); err != nil {
		return fmt.Errorf("%s: %w", dst, err)
	}
	return nil
}

func linkAtomic(oldname, newname string) error {
	tmp := newname + ".reseal-link"
	os.Remove(tmp)
	if err := os.Link(oldname, tmp); err != nil {
		return fmt.Errorf("hard link %s: %w", newname, err)
	}
	if err := os.Rename(tmp, newname); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("hard link %s: %w", newname, err)
	}
	return nil
}

func createSymlink(target, path string, dir bool) error {
	tmp := path + ".reseal-link"
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("symbolic link %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("symbolic link %s: %w", path, err)
	}
	return nil
}
