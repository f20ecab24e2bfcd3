// Package beneath opens and changes files below a directory without ever
// following a symbolic link (or, on Windows, any reparse point) in any
// component of the path, and without leaving the directory. It is for
// trees that may be hostile, such as a volume another machine wrote: a
// planted link must never carry an operation outside the tree.
//
// Names are slash-separated and local (filepath.IsLocal): no "..", no
// absolute paths, no empty components. On Linux the parent of a name is
// opened with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS); where openat2 is
// missing (old kernels, seccomp filters, other Unix systems) it is walked
// one component at a time with O_NOFOLLOW|O_DIRECTORY, and the final
// component is used through the *at system calls, which do not follow it.
// On Windows each component is checked with Lstat and refused when it is a
// reparse point (symbolic link, junction, mount point) before the path is
// used; that check and the use are not atomic, so a writer racing the walk
// on the same machine is outside what it defends against.
package beneath

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
)

// ErrLink is wrapped when a component of a name is a symbolic link, a
// reparse point or not a directory where one is needed.
var ErrLink = errors.New("a path component is a link or not a real directory")

// ErrNotRegular is wrapped by ReadFile when the name is not a regular file
// (a FIFO, a device, a directory).
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped by ReadFile when a file exceeds the caller's budget.
var ErrTooLarge = errors.New("file larger than allowed")

// checkName validates a slash-separated local name and splits it.
func checkName(name string) ([]string, error) {
	if name == "" || strings.Contains(name, `\`) || strings.ContainsRune(name, 0) ||
		!filepath.IsLocal(filepath.FromSlash(name)) {
		return nil, fmt.Errorf("%q: %w", name, errBadName)
	}
	parts := strings.Split(name, "/")
	for _, p := range parts {
		if p == "" || p == "." || p == ".." {
			return nil, fmt.Errorf("%q: %w", name, errBadName)
		}
	}
	return parts, nil
}

var errBadName = errors.New("not a local slash-separated name")

// ReadFile reads a regular file of at most max bytes. It never blocks on a
// FIFO or device: those are refused with ErrNotRegular.
func (d *Dir) ReadFile(name string, max int64) ([]byte, error) {
	f, err := d.OpenRegular(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: d.path(name), Err: err}
	}
	if int64(len(data)) > max {
		return nil, &fs.PathError{Op: "read", Path: d.path(name), Err: ErrTooLarge}
	}
	return data, nil
}

// path is the name as a host path, for errors.
func (d *Dir) path(name string) string {
	return filepath.Join(d.root, filepath.FromSlash(name))
}

// Path is the host path of name below the directory, for messages only:
// using it would follow links again.
func (d *Dir) Path(name string) string { return d.path(name) }

// MkdirAll creates name and its missing parents below the directory;
// existing components must be real directories.
func (d *Dir) MkdirAll(name string, perm fs.FileMode) error {
	parts, err := checkName(name)
	if err != nil {
		return err
	}
	for i := range parts {
		sub := strings.Join(parts[:i+1], "/")
		if err := d.Mkdir(sub, perm); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		fi, err := d.Lstat(sub)
		if err != nil {
			return err
		}
		if !fi.IsDir() || fi.Mode()&(fs.ModeSymlink|fs.ModeIrregular) != 0 {
			return &fs.PathError{Op: "mkdir", Path: d.path(sub), Err: ErrLink}
		}
	}
	return nil
}

// IsRealDir reports whether name is a directory reached without links and
// is not itself a link or reparse point.
func (d *Dir) IsRealDir(name string) (bool, error) {
	fi, err := d.Lstat(name)
	if err != nil {
		return false, err
	}
	return fi.IsDir() && fi.Mode()&(fs.ModeSymlink|fs.ModeIrregular) == 0, nil
}
