//go:build !unix

package beneath

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Dir is a directory opened for operations beneath it. Without the *at
// system calls (Windows), every component of a name is checked with Lstat
// and refused when it is a reparse point or not a directory, then the path
// is used.
type Dir struct {
	root string
}

// Open opens the directory at path.
func Open(path string) (*Dir, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: path, Err: errors.New("not a directory")}
	}
	return &Dir{root: path}, nil
}

// Close releases the directory.
func (d *Dir) Close() error { return nil }

// resolve checks every directory component of name and returns its host
// path.
func (d *Dir) resolve(name string) (string, error) {
	parts, err := checkName(name)
	if err != nil {
		return "", err
	}
	p := d.root
	for _, c := range parts[:len(parts)-1] {
		p = filepath.Join(p, c)
		fi, err := os.Lstat(p)
		if err != nil {
			return "", err
		}
		if !fi.IsDir() || fi.Mode()&(fs.ModeSymlink|fs.ModeIrregular) != 0 {
			return "", &fs.PathError{Op: "open", Path: p, Err: ErrLink}
		}
	}
	return filepath.Join(p, parts[len(parts)-1]), nil
}

// Lstat describes name without following it.
func (d *Dir) Lstat(name string) (fs.FileInfo, error) {
	p, err := d.resolve(name)
	if err != nil {
		return nil, err
	}
	return os.Lstat(p)
}

// Mkdir creates the directory name; its parents must exist.
func (d *Dir) Mkdir(name string, perm fs.FileMode) error {
	p, err := d.resolve(name)
	if err != nil {
		return err
	}
	return os.Mkdir(p, perm)
}

// Rename moves from to to, both below the directory.
func (d *Dir) Rename(from, to string) error {
	fp, err := d.resolve(from)
	if err != nil {
		return err
	}
	tp, err := d.resolve(to)
	if err != nil {
		return err
	}
	return os.Rename(fp, tp)
}

// Remove removes the file or empty directory name.
func (d *Dir) Remove(name string) error {
	p, err := d.resolve(name)
	if err != nil {
		return err
	}
	return os.Remove(p)
}

// RemoveAll removes name and everything below it; os.RemoveAll does not
// follow links below the path it is given.
func (d *Dir) RemoveAll(name string) error {
	p, err := d.resolve(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return os.RemoveAll(p)
}

// OpenRegular opens name for reading; it must be a regular file.
func (d *Dir) OpenRegular(name string) (*os.File, error) {
	p, err := d.resolve(name)
	if err != nil {
		return nil, err
	}
	return OpenRegularPath(p)
}

// OpenRegularPath opens the host path for reading; it must be a regular
// file, not a link or reparse point.
func OpenRegularPath(path string) (*os.File, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&(fs.ModeSymlink|fs.ModeIrregular) != 0 {
		return nil, &fs.PathError{Op: "open", Path: path, Err: ErrLink}
	}
	if !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "open", Path: path, Err: ErrNotRegular}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: path, Err: ErrNotRegular}
	}
	return f, nil
}

// SyncDir is a no-op: Windows makes renames durable itself.
func (d *Dir) SyncDir(name string) error {
	if name == "" {
		return nil
	}
	_, err := d.resolve(name)
	return err
}

// FileID is "" where no stable file identity is at hand without more
// system calls: callers then rely on what else binds a file to them.
func (d *Dir) FileID(name string) (string, error) {
	_, err := d.Lstat(name)
	return "", err
}

// Create creates the regular file name for writing; it must not exist.
func (d *Dir) Create(name string, perm fs.FileMode) (*os.File, error) {
	p, err := d.resolve(name)
	if err != nil {
		return nil, err
	}
	return os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
}

// Device returns 0: without device numbers every name counts as on the
// root's file system, and a rename across volumes fails by itself.
func (d *Dir) Device(name string) (uint64, error) {
	if name == "" {
		return 0, nil
	}
	_, err := d.Lstat(name)
	return 0, err
}

// ReadDirNames lists the names in the directory name ("" for the
// directory itself).
func (d *Dir) ReadDirNames(name string) ([]string, error) {
	p := d.root
	if name != "" {
		var err error
		if p, err = d.resolve(name); err != nil {
			return nil, err
		}
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}
