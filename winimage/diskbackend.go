package winimage

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/reseal/reseal/disk/diskvol"
	"github.com/reseal/reseal/ntfs"
)

// DiskBackend is an installation on an NTFS volume inside a disk image
// (raw, VHD, VHDX, qcow2), read directly: no mount, no root. It only
// reads (it is not a Committer). Reparse points (symbolic links,
// junctions) are reported as links and never followed, as in a WIM.
type DiskBackend struct {
	v    *diskvol.Volume
	mu   sync.Mutex
	dirs map[int64]map[string]*ntfs.File
}

// IsDiskTarget reports whether target names a disk image (DISK or
// DISK:PART) rather than a directory or a WIM.
func IsDiskTarget(target string) bool { return diskvol.IsDiskImage(target) }

// OpenDisk opens the Windows volume of the disk image target (DISK or
// DISK:PART; without a partition number the NTFS partition holding
// Windows\System32\config is chosen). progress sees MFT records read.
func OpenDisk(ctx context.Context, target string, progress func(done, total int64)) (*DiskBackend, error) {
	path, part := diskvol.ParseTarget(target)
	v, err := diskvol.Open(ctx, path, part, progress)
	if err != nil {
		return nil, err
	}
	return &DiskBackend{v: v, dirs: map[int64]map[string]*ntfs.File{}}, nil
}

// NewDiskBackend is the backend of a disk volume already open; closing it
// closes the volume.
func NewDiskBackend(v *diskvol.Volume) *DiskBackend {
	return &DiskBackend{v: v, dirs: map[int64]map[string]*ntfs.File{}}
}

// Volume is the disk volume read.
func (d *DiskBackend) Volume() *diskvol.Volume { return d.v }

// Dirty says why the NTFS volume may be inconsistent (empty when clean).
func (d *DiskBackend) Dirty() []string { return d.v.NTFS.Dirty() }

// String names the installation: DISK:PART.
func (d *DiskBackend) String() string { return d.v.String() }

// Close closes the disk image.
func (d *DiskBackend) Close() error { return d.v.Close() }

func (d *DiskBackend) find(name string) (*ntfs.File, error) {
	f := d.v.Tree.Root()
	if name == "." || name == "" {
		return f, nil
	}
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, part := range strings.Split(name, "/") {
		if !f.Dir || f.ReparseTag() != 0 {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		m := d.dirs[f.Record]
		if m == nil {
			entries := d.v.Tree.Children(f)
			m = make(map[string]*ntfs.File, len(entries))
			for _, e := range entries {
				if _, dup := m[e.Name]; !dup {
					m[e.Name] = e.File
				}
			}
			d.dirs[f.Record] = m
		}
		next := m[part]
		if next == nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		f = next
	}
	return f, nil
}

// Lstat describes an entry; reparse points are links.
func (d *DiskBackend) Lstat(name string) (fs.FileInfo, error) {
	f, err := d.find(name)
	if err != nil {
		return nil, err
	}
	base := name
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		base = name[i+1:]
	}
	return diskInfo{base, f}, nil
}

// Stat is Lstat: links inside the volume are never followed.
func (d *DiskBackend) Stat(name string) (fs.FileInfo, error) { return d.Lstat(name) }

// ReadDir lists a directory, sorted by name.
func (d *DiskBackend) ReadDir(name string) ([]fs.DirEntry, error) {
	f, err := d.find(name)
	if err != nil {
		return nil, err
	}
	if !f.Dir || f.ReparseTag() != 0 {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fmt.Errorf("not a directory")}
	}
	entries := d.v.Tree.Children(f) // sorted by name
	out := make([]fs.DirEntry, 0, len(entries))
	for _, e := range entries {
		out = append(out, fs.FileInfoToDirEntry(diskInfo{e.Name, e.File}))
	}
	return out, nil
}

// Open opens a regular file's unnamed data stream.
func (d *DiskBackend) Open(name string) (fs.File, error) {
	f, err := d.find(name)
	if err != nil {
		return nil, err
	}
	if f.Dir || f.ReparseTag() != 0 {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("not a regular file")}
	}
	info, _ := d.Lstat(name)
	var r *io.SectionReader
	for _, s := range f.Streams {
		if s.Name == "" {
			sr, err := f.OpenStream("")
			if err != nil {
				return nil, &fs.PathError{Op: "open", Path: name, Err: err}
			}
			r = io.NewSectionReader(sr, 0, sr.Size())
		}
	}
	if r == nil {
		r = io.NewSectionReader(strings.NewReader(""), 0, 0)
	}
	return &diskFile{r: r, info: info}, nil
}

type diskInfo struct {
	name string
	f    *ntfs.File
}

func (i diskInfo) Name() string { return i.name }
func (i diskInfo) Size() int64 {
	for _, s := range i.f.Streams {
		if s.Name == "" {
			return s.Size
		}
	}
	return 0
}
func (i diskInfo) Mode() fs.FileMode {
	switch {
	case i.f.ReparseTag() != 0:
		return fs.ModeSymlink | 0o777
	case i.f.Dir:
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (i diskInfo) ModTime() time.Time { return ntfs.FiletimeToTime(i.f.Modified) }
func (i diskInfo) IsDir() bool        { return i.Mode().IsDir() }
func (i diskInfo) Sys() any {
	return &FileAttributes{Attributes: i.f.Attributes, ReparseTag: i.f.ReparseTag()}
}

type diskFile struct {
	r    *io.SectionReader
	info fs.FileInfo
}

func (f *diskFile) Read(p []byte) (int, error)              { return f.r.Read(p) }
func (f *diskFile) ReadAt(p []byte, off int64) (int, error) { return f.r.ReadAt(p, off) }
func (f *diskFile) Seek(off int64, whence int) (int64, error) {
	return f.r.Seek(off, whence)
}
func (f *diskFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *diskFile) Close() error               { return nil }

var _ Backend = (*DiskBackend)(nil)
