package ntfs

import (
	"io"
	"io/fs"
	"path"
	"time"
)

var errNotExist = fs.ErrNotExist

// FS returns the tree as an fs.FS: names are looked up case-insensitively,
// files read their unnamed data stream, ModTime is the last write time.
// What fs.FileInfo cannot carry (security, streams, short names, reparse
// data) is on the *File that Sys returns.
func (t *Tree) FS() fs.FS { return treeFS{t} }

type treeFS struct{ t *Tree }

func (t treeFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	f, err := t.t.Lookup(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	of := &openFile{t: t.t, f: f, name: path.Base(name)}
	if !f.Dir {
		for _, s := range f.Streams {
			if s.Name == "" {
				r, err := f.OpenStream("")
				if err != nil {
					return nil, &fs.PathError{Op: "open", Path: name, Err: err}
				}
				of.r = io.NewSectionReader(r, 0, r.Size())
			}
		}
	}
	return of, nil
}

type openFile struct {
	t    *Tree
	f    *File
	name string
	r    *io.SectionReader
	dir  []fs.DirEntry
	read bool
}

func (o *openFile) Stat() (fs.FileInfo, error) { return fileInfo{o.name, o.f}, nil }
func (o *openFile) Close() error               { return nil }
func (o *openFile) Read(p []byte) (int, error) {
	if o.f.Dir {
		return 0, &fs.PathError{Op: "read", Path: o.name, Err: fs.ErrInvalid}
	}
	if o.r == nil {
		return 0, io.EOF
	}
	return o.r.Read(p)
}
func (o *openFile) ReadAt(p []byte, off int64) (int, error) {
	if o.r == nil {
		return 0, io.EOF
	}
	return o.r.ReadAt(p, off)
}
func (o *openFile) Seek(off int64, whence int) (int64, error) {
	if o.r == nil {
		return 0, nil
	}
	return o.r.Seek(off, whence)
}

func (o *openFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if !o.f.Dir {
		return nil, &fs.PathError{Op: "readdir", Path: o.name, Err: fs.ErrInvalid}
	}
	if !o.read {
		for _, e := range o.t.Children(o.f) {
			o.dir = append(o.dir, fs.FileInfoToDirEntry(fileInfo{e.Name, e.File}))
		}
		o.read = true
	}
	if n <= 0 {
		d := o.dir
		o.dir = nil
		return d, nil
	}
	if len(o.dir) == 0 {
		return nil, io.EOF
	}
	if n > len(o.dir) {
		n = len(o.dir)
	}
	d := o.dir[:n]
	o.dir = o.dir[n:]
	return d, nil
}

type fileInfo struct {
	name string
	f    *File
}

func (i fileInfo) Name() string { return i.name }
func (i fileInfo) Size() int64 {
	for _, s := range i.f.Streams {
		if s.Name == "" {
			return s.Size
		}
	}
	return 0
}
func (i fileInfo) Mode() fs.FileMode {
	if i.f.Dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
func (i fileInfo) ModTime() time.Time { return FiletimeToTime(i.f.Modified) }
func (i fileInfo) IsDir() bool        { return i.f.Dir }
func (i fileInfo) Sys() any           { return i.f }

// FiletimeToTime converts a Windows FILETIME.
func FiletimeToTime(ft uint64) time.Time {
	const epochDiff = 116444736000000000 // 1601 to 1970 in 100 ns
	d := int64(ft) - epochDiff
	return time.Unix(d/1e7, d%1e7*100).UTC()
}
