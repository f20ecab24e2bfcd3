package winimage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/reseal/reseal/wim"
)

// WIMBackend is an installation inside a WIM: one image, read through its
// metadata and blobs, never applied. Reparse points (symbolic links,
// junctions) are reported as links and never followed. As a Committer it
// writes the changed image as a new WIM, or as a new image of the same WIM
// (see WIMOutput); the source image is never changed.
type WIMBackend struct {
	Output WIMOutput

	r     *wim.Reader
	path  string
	index int
	info  wim.ImageInfo
	img   *wim.Image

	mu   sync.Mutex
	dirs map[*wim.File]map[string]*wim.File // children by exact name, built on first use
}

// WIMOutput says where WIMBackend.Commit writes the changed image.
type WIMOutput struct {
	// Path of a new WIM holding the changed image alone; "" with Append.
	Path string
	// Append adds the changed image to the source WIM as a new image.
	Append bool
	// Name and Description of the new image ("" keeps the source's; a
	// name is required when appending).
	Name, Description string
	Check             bool
	Threads           int
	Now               func() time.Time
}

// IsWIMTarget splits a target of the form IMAGE.wim:INDEX or
// IMAGE.wim:NAME (also .esd, .swm). ok is false for anything else, such as
// a directory whose name has a colon.
func IsWIMTarget(target string) (wimPath, image string, ok bool) {
	i := strings.LastIndexByte(target, ':')
	if i <= 0 || i == len(target)-1 {
		return "", "", false
	}
	p, img := target[:i], target[i+1:]
	if strings.ContainsAny(img, `/\`) {
		return "", "", false
	}
	switch strings.ToLower(path.Ext(p)) {
	case ".wim", ".esd":
	default:
		return "", "", false
	}
	if st, err := os.Stat(target); err == nil && st.IsDir() {
		return "", "", false
	}
	return p, img, true
}

// ErrNoImage is wrapped by OpenWIM's error for an image the WIM does not
// have.
var ErrNoImage = errors.New("no such image in the WIM")

type noImageError struct{ err error }

func (e noImageError) Error() string        { return e.err.Error() }
func (e noImageError) Is(target error) bool { return target == ErrNoImage }

// OpenWIM opens image (an index or a name) of the WIM at wimPath.
func OpenWIM(wimPath, image string) (*WIMBackend, error) {
	r, err := wim.Open(wimPath)
	if err != nil {
		return nil, err
	}
	idx, err := r.ImageIndex(image)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("%s: %w", wimPath, noImageError{err})
	}
	img, err := r.Image(idx)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("%s: %w", wimPath, err)
	}
	w := &WIMBackend{r: r, path: wimPath, index: idx, img: img, dirs: map[*wim.File]map[string]*wim.File{}}
	for _, info := range r.Images() {
		if info.Index == idx {
			w.info = info
		}
	}
	return w, nil
}

// String names the image: IMAGE.wim:1.
func (w *WIMBackend) String() string { return fmt.Sprintf("%s:%d", w.path, w.index) }

// Path is the WIM file.
func (w *WIMBackend) Path() string { return w.path }

// Index is the image's 1-based index in its WIM.
func (w *WIMBackend) Index() int { return w.index }

// Info is what the WIM's XML data says of the image.
func (w *WIMBackend) Info() wim.ImageInfo { return w.info }

// Reader is the WIM the image is read from.
func (w *WIMBackend) Reader() *wim.Reader { return w.r }

// Close closes the WIM.
func (w *WIMBackend) Close() error { return w.r.Close() }

func (w *WIMBackend) find(name string) (*wim.File, error) {
	f := w.img.Root
	if name == "." || name == "" {
		return f, nil
	}
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, part := range strings.Split(name, "/") {
		if !f.IsDir() || f.IsReparsePoint() {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		m := w.dirs[f]
		if m == nil {
			m = make(map[string]*wim.File, len(f.Children))
			for _, c := range f.Children {
				if _, dup := m[c.Name]; !dup {
					m[c.Name] = c
				}
			}
			w.dirs[f] = m
		}
		next := m[part]
		if next == nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		f = next
	}
	return f, nil
}

// Lstat describes an entry of the image; reparse points are links.
func (w *WIMBackend) Lstat(name string) (fs.FileInfo, error) {
	f, err := w.find(name)
	if err != nil {
		return nil, err
	}
	return wimInfo{f}, nil
}

// Stat is Lstat: links inside an image are never followed.
func (w *WIMBackend) Stat(name string) (fs.FileInfo, error) { return w.Lstat(name) }

// ReadDir lists a directory of the image, sorted by name.
func (w *WIMBackend) ReadDir(name string) ([]fs.DirEntry, error) {
	f, err := w.find(name)
	if err != nil {
		return nil, err
	}
	if !f.IsDir() || f.IsReparsePoint() {
		// ENOTDIR, as a directory's would be: a path through a junction
		// or a file resolves as absent, not as a failure.
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: syscall.ENOTDIR}
	}
	out := make([]fs.DirEntry, 0, len(f.Children))
	for _, c := range f.Children {
		out = append(out, fs.FileInfoToDirEntry(wimInfo{c}))
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// Open opens a regular file of the image; its data is checked against its
// SHA-1 as it is read.
func (w *WIMBackend) Open(name string) (fs.File, error) {
	f, err := w.find(name)
	if err != nil {
		return nil, err
	}
	if f.IsDir() || f.IsReparsePoint() {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("not a regular file")}
	}
	rd, _, err := w.r.OpenStream(f.Data.Hash)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &wimFile{r: rd, info: wimInfo{f}}, nil
}

// Commit writes the image with the change set applied where Output says.
func (w *WIMBackend) Commit(ctx context.Context, cs *ChangeSet) error {
	var changes []wim.ImageChange
	for _, c := range cs.Changes {
		switch c.Op {
		case ChangeRemove:
			changes = append(changes, wim.ImageChange{Path: c.Path, Remove: true})
		case ChangeWrite:
			changes = append(changes, wim.ImageChange{Path: c.Path, Data: c.Content})
		case ChangeHive:
			var buf bytes.Buffer
			if _, err := c.Hive.WriteTo(&buf); err != nil {
				return fmt.Errorf("write hive %s: %w", c.Path, err)
			}
			changes = append(changes, wim.ImageChange{Path: c.Path, Data: buf.Bytes()})
			for _, l := range c.Logs {
				changes = append(changes, wim.ImageChange{Path: l, Data: nil})
			}
		default:
			return fmt.Errorf("change %v of %s: unknown", c.Op, c.Path)
		}
	}
	o := w.Output
	dest := o.Path
	if o.Append {
		dest = w.path
	} else if dest == "" {
		return fmt.Errorf("%s: no output WIM named", w)
	}
	return wim.UpdateImage(ctx, w.r, w.index, changes, dest, wim.UpdateOptions{Append: o.Append, Name: o.Name,
		Description: o.Description, Check: o.Check, Threads: o.Threads, Now: o.Now})
}

type wimInfo struct{ f *wim.File }

func (i wimInfo) Name() string {
	if i.f.Parent == nil {
		return "."
	}
	return i.f.Name
}
func (i wimInfo) Size() int64 { return i.f.Data.Size }
func (i wimInfo) Mode() fs.FileMode {
	switch {
	case i.f.IsReparsePoint():
		return fs.ModeSymlink | 0o777
	case i.f.IsDir():
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (i wimInfo) ModTime() time.Time { return wim.FiletimeToTime(i.f.LastWriteTime) }
func (i wimInfo) IsDir() bool        { return i.Mode().IsDir() }
func (i wimInfo) Sys() any {
	return &FileAttributes{Attributes: i.f.Attributes, ReparseTag: i.f.ReparseTag}
}

type wimFile struct {
	r    io.Reader
	info wimInfo
}

func (f *wimFile) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *wimFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *wimFile) Close() error               { return nil }
