package wim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
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
	return r.applyImage(ctx, img, dest, opts)
}

// applyImage applies img, an image of r or part of one (Extract), to dest.
func (r *Reader) applyImage(ctx context.Context, img *Image, dest string, opts ApplyOptions) error {
	plan, err := planApply(img)
	if err != nil {
		return err
	}
	absDest, err := filepath.Abs(dest)
	if err != nil {
		return err
	}
	a := &applier{r: r, dest: absDest, plan: plan, opts: opts, dec: newDecoders(), buf: make([]byte, 128<<10)}
	if err := a.run(ctx); err != nil {
		if a.written.Load() > 0 || a.created.Load() > 0 {
			return fmt.Errorf("%w (%s holds %d new or replaced files, %d of %d bytes of file data written; every file the error concerned was left as it was)",
				err, a.dest, a.created.Load(), a.written.Load(), a.total)
		}
		return err
	}
	return nil
}

// applyPlan is the checked form of an image: what to create, in order.
type applyPlan struct {
	security  [][]byte         // the image's security descriptors
	dirs      []*File          // parents before children, root first
	files     []*File          // regular files (not links), including hard-link members
	links     []*File          // symbolic links and junctions
	targets   map[*File]string // on-disk link text; absolute ones are relative to dest (prefix "/")
	firstOf   map[uint64]*File // hard-link group -> first member (the one that gets the data)
	skipped   map[*File]bool   // links not created (absolute, pointing outside the captured tree)
	warnings  []string
	nwarnings int
}

// maxWarnings bounds the warnings kept: an image of a million odd entries
// gets the first ones and a count.
const maxWarnings = 100

// warn records a warning, made only if it is kept.
func (p *applyPlan) warn(msg func() string) {
	p.nwarnings++
	switch {
	case p.nwarnings <= maxWarnings:
		p.warnings = append(p.warnings, msg())
	case p.nwarnings == maxWarnings+1:
		p.warnings = append(p.warnings, "") // replaced by the count
	}
	if p.nwarnings > maxWarnings {
		p.warnings[maxWarnings] = fmt.Sprintf("... and %d more warnings", p.nwarnings-maxWarnings)
	}
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
	case !hostNameOK(n):
		return fmt.Errorf("%w: name %q below %s cannot be created safely on this system", ErrUnsafe, n, f.Parent.Path())
	}
	return nil
}

func planApply(img *Image) (*applyPlan, error) {
	p := &applyPlan{targets: map[*File]string{}, firstOf: map[uint64]*File{}, security: img.SecurityDescriptors}
	dirGroups := map[uint64]*File{}
	// Names are checked per directory (as the host compares them: without
	// case on Windows), never as whole paths, whose total length a deep tree
	// makes quadratic.
	names := map[string]bool{}
	var walk func(f *File) error
	walk = func(f *File) error {
		if f.Parent != nil {
			if err := checkName(f); err != nil {
				return err
			}
		}
		clear(names)
		for _, c := range f.Children {
			k := hostNameKey(c.Name)
			if names[k] {
				return fmt.Errorf("%w: two entries named %s", ErrUnsafe, c.Path())
			}
			names[k] = true
		}
		isLink := f.IsReparsePoint() && (f.ReparseTag == ReparseTagSymlink || f.ReparseTag == ReparseTagMountPoint)
		switch {
		case f.Parent == nil:
			p.dirs = append(p.dirs, f)
		case isLink:
			if len(f.Children) > 0 {
				return fmt.Errorf("%w: link %s also has entries below it", ErrUnsafe, f.Path())
			}
			p.links = append(p.links, f)
		case f.IsDir():
			p.dirs = append(p.dirs, f)
		default:
			if f.IsReparsePoint() {
				p.warn(func() string {
					return fmt.Sprintf("%s: reparse point with tag %#x applied as a plain file", f.Path(), f.ReparseTag)
				})
			}
			p.files = append(p.files, f)
			if g := f.HardLinkGroup; g != 0 {
				if first := p.firstOf[g]; first == nil {
					p.firstOf[g] = f
				} else if first.Data.Hash != f.Data.Hash {
					return fmt.Errorf("%w: hard-linked entries %s and %s have different contents", ErrUnsafe, first.Path(), f.Path())
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

// maxLinkSteps bounds the work of resolving an image's links (path
// components walked, counted over every link and every link followed): a
// crafted image of many links to long targets through each other is refused
// rather than resolved for hours. Real images need a few thousand.
const maxLinkSteps = 4 << 20

// maxLinkHops is how many links one resolution may pass through (Linux's
// limit is 40 too).
const maxLinkHops = 40

// linkPos is where a path leads in the image: a directory of the image,
// then names that the image does not hold as directories (nonexistent, or
// files), taken lexically.
type linkPos struct {
	dir   *File
	extra []string
}

// resolveLinks decides the on-disk text of every link, refusing those whose
// target, followed through the image's own links, leaves the image root.
// A symbolic link whose target is absolute and that capture marked as
// pointing outside the captured tree (rpfix) is not created: it is listed
// in skipped, with a warning, as capture warned when it recorded it.
// dec is the caller's decoders: link data read through the same chunk cache
// as the files' data is not decoded again.
func (p *applyPlan) resolveLinks(r *Reader, rpfix bool, dec *decoders) error {
	if len(p.links) == 0 {
		return nil
	}
	isLink := map[*File]bool{}
	for _, l := range p.links {
		isLink[l] = true
	}
	// Reparse data is read and decoded once per blob: many links sharing one
	// long target cost one copy of it.
	byHash := map[Hash]LinkTarget{}
	parsed := map[*File]LinkTarget{}
	rooted := map[*File]bool{}
	p.skipped = map[*File]bool{}
	for _, l := range p.links {
		lt, ok := byHash[l.Reparse.Hash]
		if !ok {
			data, err := r.readSmallStream(l.Reparse.Hash, dec)
			if err != nil {
				return fmt.Errorf("%s: reparse data: %w", l.Path(), err)
			}
			if lt, ok = parseLinkReparse(l.ReparseTag, data); !ok {
				return fmt.Errorf("%w: %s: malformed link reparse data", ErrFormat, l.Path())
			}
			byHash[l.Reparse.Hash] = lt
		}
		if !lt.Relative && rpfix && l.ReparseFlags&1 != 0 {
			p.skipped[l] = true
			p.warn(func() string {
				return fmt.Sprintf("%s: symbolic link to %s%s not created: it points outside the captured tree (capture recorded it as not fixed)", l.Path(), lt.Drive, lt.Path)
			})
			continue
		}
		parsed[l] = lt
		// A target with the relative flag that starts with '\' is relative to
		// the root of the link's volume (Windows' reading), that is the image
		// root; never the host's root.
		rooted[l] = !lt.Relative || strings.HasPrefix(lt.Path, `\`)
	}
	children := map[*File]map[string]*File{}
	lookup := func(dir *File, name string) *File {
		m := children[dir]
		if m == nil {
			m = make(map[string]*File, len(dir.Children))
			for _, c := range dir.Children {
				m[hostNameKey(c.Name)] = c
			}
			children[dir] = m
		}
		return m[hostNameKey(name)]
	}
	root := p.dirs[0]
	steps := 0
	// Each link is resolved once (memo); a link met again while it is being
	// resolved is a cycle.
	memo := map[*File]linkPos{}
	busy := map[*File]bool{}
	var follow func(l *File, depth int) (linkPos, error)
	follow = func(l *File, depth int) (linkPos, error) {
		if r, ok := memo[l]; ok {
			return r, nil
		}
		if busy[l] || depth > maxLinkHops {
			return linkPos{}, fmt.Errorf("%w: link %s: too many levels of links (a cycle?)", ErrUnsafe, l.Path())
		}
		busy[l] = true
		defer delete(busy, l)
		lt := parsed[l]
		cur := linkPos{dir: l.Parent}
		if rooted[l] {
			cur.dir = root
		}
		for _, c := range strings.Split(lt.Path, `\`) {
			if steps++; steps > maxLinkSteps {
				return linkPos{}, fmt.Errorf("%w: the image's links need more than %d steps to resolve", ErrLimit, maxLinkSteps)
			}
			switch c {
			case "", ".":
				continue
			case "..":
				switch {
				case len(cur.extra) > 0:
					cur.extra = cur.extra[:len(cur.extra)-1]
				case cur.dir.Parent == nil:
					return linkPos{}, fmt.Errorf("%w: link %s leads outside the image (%s)", ErrUnsafe, l.Path(), lt.Path)
				default:
					cur.dir = cur.dir.Parent
				}
				continue
			}
			if strings.ContainsAny(c, "/\x00") || !hostNameOK(c) {
				return linkPos{}, fmt.Errorf("%w: link %s: target component %q", ErrUnsafe, l.Path(), c)
			}
			if len(cur.extra) > 0 {
				cur.extra = append(cur.extra, c)
				continue
			}
			next := lookup(cur.dir, c)
			switch {
			case next == nil || p.skipped[next]:
				cur.extra = []string{c}
			case isLink[next]:
				res, err := follow(next, depth+1)
				if err != nil {
					return linkPos{}, err
				}
				cur = linkPos{dir: res.dir, extra: append([]string(nil), res.extra...)}
			case next.IsDir():
				cur.dir = next
			default:
				cur.extra = []string{c}
			}
		}
		memo[l] = cur
		return cur, nil
	}
	for _, l := range p.links {
		if p.skipped[l] {
			continue
		}
		if _, err := follow(l, 0); err != nil {
			return err
		}
		lt := parsed[l]
		text := strings.ReplaceAll(lt.Path, `\`, "/")
		if rooted[l] {
			text = "/" + strings.TrimLeft(text, "/")
		}
		p.targets[l] = text
	}
	return nil
}

// checkLinksOnDisk proves, before any link is created, that every link
// will resolve inside root as the file system will resolve it once all of
// them exist: each target is walked component by component over what is on
// disk now (a link already in DEST is followed, whatever made it) with the
// links about to be created laid over it; a name that does not exist is
// taken lexically (as a directory that might be made later), so that a
// dangling link is held to the same rule. Every position of the walk must
// stay inside root: a ".." from root, or a link to an absolute path not
// under root, is refused.
func checkLinksOnDisk(root string, links map[string]string) error {
	overlay := make(map[string]string, len(links))
	for path, text := range links {
		overlay[hostPathKey(path)] = text
	}
	steps := 0
	for path, text := range links {
		if err := resolveOnDisk(root, path, text, overlay, &steps); err != nil {
			return fmt.Errorf("%w: symbolic link %s -> %s: %v", ErrUnsafe, path, text, err)
		}
	}
	return nil
}

func resolveOnDisk(root, linkPath, text string, overlay map[string]string, steps *int) error {
	sep := string(filepath.Separator)
	split := func(s string) []string {
		return strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == filepath.Separator })
	}
	start := func(dir, text string) (string, []string, error) {
		if !hostRooted(text) {
			return dir, split(text), nil
		}
		if !hostSamePath(text, root) && !hostHasPrefix(text, root+sep) {
			return "", nil, fmt.Errorf("absolute target %s is not under %s", text, root)
		}
		return root, split(text[len(root):]), nil
	}
	cur, comps, err := start(filepath.Dir(linkPath), text)
	if err != nil {
		return err
	}
	hops := 0
	for len(comps) > 0 {
		c := comps[0]
		comps = comps[1:]
		if *steps++; *steps > maxLinkSteps {
			return fmt.Errorf("%w: more than %d steps to resolve the links", ErrLimit, maxLinkSteps)
		}
		switch c {
		case ".":
			continue
		case "..":
			if hostSamePath(cur, root) {
				return fmt.Errorf("it leads above %s", root)
			}
			cur = filepath.Dir(cur)
			continue
		}
		next := cur + sep + c
		if hostSamePath(cur, sep) {
			next = cur + c
		}
		t, isLink := overlay[hostPathKey(next)]
		if !isLink {
			if st, err := os.Lstat(next); err == nil && st.Mode()&fs.ModeSymlink != 0 {
				if t, err = os.Readlink(next); err != nil {
					return err
				}
				isLink = true
			}
		}
		if !isLink {
			cur = next
			continue
		}
		if hops++; hops > maxLinkHops {
			return fmt.Errorf("too many levels of links at %s", next)
		}
		dir, tc, err := start(cur, t)
		if err != nil {
			return fmt.Errorf("through %s: %v", next, err)
		}
		cur = dir
		comps = append(tc, comps...)
	}
	return nil
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
	// dirPaths holds the host path of every directory of the plan, made
	// once (a file's path is its directory's and its name); fresh, the
	// directories this apply created: empty when made, so a file in one
	// replaces nothing and is created under its own name (see createNew).
	// Both are written before the files and only read after.
	dirPaths map[*File]string
	fresh    map[*File]bool
	// What is in dest so far, for the error that ends an apply: files
	// renamed into place, bytes of file data written (verified or not) and
	// the total to write.
	created, written atomic.Int64
	total            int64
}

func (a *applier) hostPath(f *File) string {
	if f.Parent == nil {
		return a.dest
	}
	if dir, ok := a.dirPaths[f.Parent]; ok {
		return joinName(dir, f.Name)
	}
	return filepath.Join(a.dest, filepath.FromSlash(f.Path()[1:]))
}

// joinName is filepath.Join(dir, name) for a name checked by checkName (no
// separator, not "." or ".."), without cleaning dir again.
func joinName(dir, name string) string {
	if strings.HasSuffix(dir, string(filepath.Separator)) {
		return dir + name
	}
	return dir + string(filepath.Separator) + name
}

// direct reports whether f's data may be written under its own name: its
// directory was created by this apply (so nothing of the user's is there
// to replace).
func (a *applier) direct(f *File) bool { return f.Parent != nil && a.fresh[f.Parent] }

func (a *applier) run(ctx context.Context) error {
	if err := a.plan.resolveLinks(a.r, a.r.header.RPFix(), a.dec); err != nil {
		return err
	}
	if a.opts.Warning != nil {
		for _, w := range a.plan.warnings {
			a.opts.Warning(w)
		}
	}
	if err := os.MkdirAll(a.dest, 0o755); err != nil {
		return err
	}
	// Links are proven to stay inside the destination as the file system
	// resolves it: from its real path.
	real, err := filepath.EvalSymlinks(a.dest)
	if err != nil {
		return err
	}
	if real, err = filepath.Abs(real); err != nil {
		return err
	}
	a.dest = real
	a.ntfs = isNTFS3G(a.dest)
	release, locked := lockTarget(a.dest)
	defer release()
	existing := []string{a.dest} // directories that may hold a killed apply's temporaries
	a.dirPaths = make(map[*File]string, len(a.plan.dirs))
	a.fresh = make(map[*File]bool, len(a.plan.dirs))
	a.dirPaths[a.plan.dirs[0]] = a.dest
	for _, d := range a.plan.dirs[1:] {
		path := a.hostPath(d)
		a.dirPaths[d] = path
		if err := os.Mkdir(path, 0o755); err != nil {
			st, lerr := os.Lstat(path)
			if lerr != nil || !st.IsDir() {
				return fmt.Errorf("create directory %s: %w", path, err)
			}
			existing = append(existing, path)
		} else if !a.ntfs {
			a.fresh[d] = true
		}
		if err := a.ntfsExtras(d, path); err != nil {
			return err
		}
	}
	a.removeStaleTemps(existing, locked)
	if err := a.writeFiles(ctx); err != nil {
		return err
	}
	if a.ntfs {
		if err := a.ntfsLinks(); err != nil {
			return err
		}
		return a.ntfsFinish()
	}
	texts := map[string]string{}
	var created []*File
	for _, l := range a.plan.links {
		if a.plan.skipped[l] {
			continue
		}
		text := a.plan.targets[l]
		if strings.HasPrefix(text, "/") {
			text = filepath.Join(a.dest, filepath.FromSlash(text[1:]))
		} else {
			text = filepath.FromSlash(text)
		}
		texts[a.hostPath(l)] = text
		created = append(created, l)
	}
	if err := checkLinksOnDisk(a.dest, texts); err != nil {
		return err
	}
	for _, l := range created {
		path := a.hostPath(l)
		if err := createSymlink(texts[path], path, l.IsDir()); err != nil {
			return err
		}
	}
	// Files got their times as they were put in place (writeFiles); links
	// and directories get theirs last, directories deepest first, so that
	// creating entries does not disturb them.
	for _, l := range created {
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
	a.total = total

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
		a.written.Add(n)
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
	// Other goroutines decode the solid chunks this one will need next
	// while it hashes and hands out the current one's files.
	stopAhead := a.dec.startAhead(blobs)
	defer stopAhead()
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
		if err := writeFileAtomic(first, a.direct(files[0]), rd, a.buf, progress, files[0]); err != nil {
			fail(fmt.Errorf("%s: %w", first, err))
			break
		}
		a.created.Add(1)
		if len(files) > 1 {
			jobs <- fileJob{files: files[1:], copyFrom: files[0]}
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
		if !a.ntfs {
			break
		}
		if g := f.HardLinkGroup; g != 0 && a.plan.firstOf[g] != f {
			continue
		}
		if err := a.ntfsExtras(f, a.hostPath(f)); err != nil {
			return err
		}
	}
	for _, f := range a.plan.files {
		if g := f.HardLinkGroup; g != 0 && a.plan.firstOf[g] != f {
			path := a.hostPath(f)
			if err := linkAtomic(a.hostPath(a.plan.firstOf[g]), path); err != nil {
				return err
			}
			// The members share one inode: the last one's times stand.
			if err := setTimes(path, f, false); err != nil {
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
	copyFrom *File
}

// applyWorker is what one file-writing goroutine owns.
type applyWorker struct {
	dec      *decoders
	buf      []byte
	progress func(int64)
}

// runJob creates the files of j, each with its times.
func (a *applier) runJob(w *applyWorker, j fileJob) error {
	if b := j.blob; b != nil {
		first := a.hostPath(j.files[0])
		rd, err := a.r.openChecked(b, w.dec)
		if err == nil {
			err = writeFileAtomic(first, a.direct(j.files[0]), rd, w.buf, w.progress, j.files[0])
		}
		if err != nil {
			return fmt.Errorf("%s: %w", first, err)
		}
		a.created.Add(1)
		j = fileJob{files: j.files[1:], copyFrom: j.files[0]}
	}
	var src string
	if j.copyFrom != nil {
		src = a.hostPath(j.copyFrom)
	}
	for _, f := range j.files {
		path := a.hostPath(f)
		var err error
		if j.copyFrom != nil {
			err = copyFileAtomic(src, path, a.direct(f), w.buf, f)
		} else {
			err = writeWholeFile(path, a.direct(f), j.data, f)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		a.created.Add(1)
	}
	if j.copyFrom != nil && len(j.files) > 0 {
		// Reading it for the copies may have moved its access time.
		return setTimes(src, j.copyFrom, false)
	}
	return nil
}

// writeWholeFile puts a new file with data (and the times of times, when
// not nil) at path, as writeFileAtomic does.
func writeWholeFile(path string, direct bool, data []byte, times *File) error {
	f, err := createNew(path, direct, isSparseEntry(times))
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.discard()
		return err
	}
	return f.commit(times)
}

// writeFileAtomic fills a new file from r and puts it at path, with the
// access and modification times of times (when not nil). The data goes to
// a temporary name beside path and is renamed over path only once r has
// reached its end without an error (for blobs, that is once the SHA-1
// matched), so that a file already at path stays as it was until its
// replacement is complete and verified; a link at path is replaced, never
// written through. On any error the temporary file is removed. Writes are
// of buf's size (a decoded chunk is smaller), so a file costs few calls.
// With direct (path's directory was created empty by this apply, so no file
// of the user's can be at path), the file is created under its own name,
// exclusively, and removed on an error (see createNew).
func writeFileAtomic(path string, direct bool, r io.Reader, buf []byte, progress func(int64), times *File) (err error) {
	f, err := createNew(path, direct, isSparseEntry(times))
	if err != nil {
		return err
	}
	for {
		n, rerr := readFull(r, buf)
		if n > 0 {
			if _, err = f.Write(buf[:n]); err != nil {
				f.discard()
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
			f.discard()
			return rerr
		}
	}
	return f.commit(times)
}

// readFull reads from r until buf is full or r ends (io.EOF, possibly with
// n > 0) or fails.
func readFull(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// tempName returns a name beside path for a file being written: hidden,
// marked as reseal's, unique, and short enough for any file system however
// long the final name is.
func tempName(path string) string {
	dir, base := filepath.Split(path)
	for len(base) > 180 {
		_, n := utf8.DecodeLastRuneInString(base)
		base = base[:len(base)-n]
	}
	return filepath.Join(dir, fmt.Sprintf(".%s.reseal-apply-%08x", base, rand.Uint32()))
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

func copyFileAtomic(src, dst string, direct bool, buf []byte, times *File) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := writeFileAtomic(dst, direct, f, buf, nil, times); err != nil {
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

// isSparseEntry reports whether f is marked sparse in the image: only then
// may apply leave its runs of zeros as holes (newFile).
func isSparseEntry(f *File) bool { return f != nil && f.Attributes&AttrSparseFile != 0 }
