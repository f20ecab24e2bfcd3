//go:build unix

package beneath

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/reseal/reseal/internal/unixmode"
	"golang.org/x/sys/unix"
)

// Dir is a directory opened for operations beneath it.
type Dir struct {
	root string
	fd   int
}

// Open opens the directory at path (which may itself be reached through a
// link: it is the caller's choice of tree).
func Open(path string) (*Dir, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return &Dir{root: path, fd: fd}, nil
}

// Close releases the directory.
func (d *Dir) Close() error {
	if d == nil || d.fd < 0 {
		return nil
	}
	err := unix.Close(d.fd)
	d.fd = -1
	return err
}

// parent opens the directory holding name's last component, refusing any
// link on the way, and returns it with the last component. The returned fd
// must be closed with closeParent.
func (d *Dir) parent(name string) (int, string, error) {
	parts, err := checkName(name)
	if err != nil {
		return -1, "", err
	}
	base := parts[len(parts)-1]
	if len(parts) == 1 {
		return d.fd, base, nil
	}
	dir := strings.Join(parts[:len(parts)-1], "/")
	fd, err := openBeneath(d.fd, dir)
	if err == errNoOpenat2 {
		fd, err = walk(d.fd, parts[:len(parts)-1])
	}
	if err != nil {
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.EXDEV) {
			err = ErrLink
		}
		return -1, "", &fs.PathError{Op: "open", Path: d.path(dir), Err: err}
	}
	return fd, base, nil
}

func (d *Dir) closeParent(fd int) {
	if fd != d.fd {
		unix.Close(fd)
	}
}

// walk opens dirs one component at a time, refusing links: O_NOFOLLOW
// makes opening a link fail (ELOOP), O_DIRECTORY a non-directory (ENOTDIR).
func walk(start int, dirs []string) (int, error) {
	fd := start
	for _, c := range dirs {
		next, err := unix.Openat(fd, c, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if fd != start {
			unix.Close(fd)
		}
		if err != nil {
			return -1, err
		}
		fd = next
	}
	return fd, nil
}

func (d *Dir) pathErr(op, name string, err error) error {
	if errors.Is(err, unix.ELOOP) {
		err = ErrLink
	}
	return &fs.PathError{Op: op, Path: d.path(name), Err: err}
}

// Lstat describes name without following it.
func (d *Dir) Lstat(name string) (fs.FileInfo, error) {
	pfd, base, err := d.parent(name)
	if err != nil {
		return nil, err
	}
	defer d.closeParent(pfd)
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil, d.pathErr("lstat", name, err)
	}
	return statInfo{name: base, st: st}, nil
}

// Mkdir creates the directory name; its parents must exist.
func (d *Dir) Mkdir(name string, perm fs.FileMode) error {
	pfd, base, err := d.parent(name)
	if err != nil {
		return err
	}
	defer d.closeParent(pfd)
	if err := unix.Mkdirat(pfd, base, uint32(perm.Perm())); err != nil {
		return d.pathErr("mkdir", name, err)
	}
	return nil
}

// Rename moves from to to, both below the directory. A link as the last
// component of either is moved or replaced itself, never followed.
func (d *Dir) Rename(from, to string) error {
	ffd, fbase, err := d.parent(from)
	if err != nil {
		return err
	}
	defer d.closeParent(ffd)
	tfd, tbase, err := d.parent(to)
	if err != nil {
		return err
	}
	defer d.closeParent(tfd)
	if err := unix.Renameat(ffd, fbase, tfd, tbase); err != nil {
		return &os.LinkError{Op: "rename", Old: d.path(from), New: d.path(to), Err: err}
	}
	return nil
}

// Remove removes the file or empty directory name.
func (d *Dir) Remove(name string) error {
	pfd, base, err := d.parent(name)
	if err != nil {
		return err
	}
	defer d.closeParent(pfd)
	err = unix.Unlinkat(pfd, base, 0)
	if errors.Is(err, unix.EISDIR) || errors.Is(err, unix.EPERM) {
		err = unix.Unlinkat(pfd, base, unix.AT_REMOVEDIR)
	}
	if err != nil {
		return d.pathErr("remove", name, err)
	}
	return nil
}

// RemoveAll removes name and everything below it, following no link (a
// link is removed, not what it points to). A missing name is no error.
func (d *Dir) RemoveAll(name string) error {
	pfd, base, err := d.parent(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer d.closeParent(pfd)
	if err := removeAllAt(pfd, base, 0); err != nil {
		return d.pathErr("remove", name, err)
	}
	return nil
}

const maxDepth = 512

func removeAllAt(pfd int, name string, depth int) error {
	err := unix.Unlinkat(pfd, name, 0)
	if err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	if !errors.Is(err, unix.EISDIR) && !errors.Is(err, unix.EPERM) {
		return err
	}
	if depth > maxDepth {
		return fmt.Errorf("more than %d directories deep", maxDepth)
	}
	fd, err := unix.Openat(pfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), name)
	for {
		entries, rerr := f.ReadDir(256)
		for _, e := range entries {
			if err := removeAllAt(fd, e.Name(), depth+1); err != nil {
				f.Close()
				return err
			}
		}
		if rerr != nil || len(entries) == 0 {
			break
		}
	}
	f.Close()
	err = unix.Unlinkat(pfd, name, unix.AT_REMOVEDIR)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	return err
}

// OpenRegular opens name for reading; it must be a regular file. Opening
// does not block on a FIFO (O_NONBLOCK) and does not follow a link.
func (d *Dir) OpenRegular(name string) (*os.File, error) {
	pfd, base, err := d.parent(name)
	if err != nil {
		return nil, err
	}
	defer d.closeParent(pfd)
	fd, err := unix.Openat(pfd, base, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, d.pathErr("open", name, err)
	}
	return regularFile(fd, d.path(name))
}

// regularFile checks that fd is a regular file and clears O_NONBLOCK.
func regularFile(fd int, path string) (*os.File, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "open", Path: path, Err: ErrNotRegular}
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// OpenRegularPath opens the host path for reading without blocking on a
// FIFO or following a final link; it must be a regular file.
func OpenRegularPath(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			err = ErrLink
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return regularFile(fd, path)
}

// SyncDir makes renames inside the directory name durable ("" is the
// directory itself).
func (d *Dir) SyncDir(name string) error {
	fd, release, err := d.dirFD(name)
	if err != nil {
		return err
	}
	defer release()
	if err := unix.Fsync(fd); err != nil && !errors.Is(err, unix.EINVAL) {
		return d.pathErr("sync", name, err)
	}
	return nil
}

// FileID identifies name (its inode number) for as long as it exists. The
// device number is left out: it changes when the same volume is mounted
// again (loop devices, FUSE).
func (d *Dir) FileID(name string) (string, error) {
	pfd, base, err := d.parent(name)
	if err != nil {
		return "", err
	}
	defer d.closeParent(pfd)
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return "", d.pathErr("lstat", name, err)
	}
	return fmt.Sprintf("%d", uint64(st.Ino)), nil
}

type statInfo struct {
	name string
	st   unix.Stat_t
}

func (s statInfo) Name() string      { return s.name }
func (s statInfo) Size() int64       { return s.st.Size }
func (s statInfo) Mode() fs.FileMode { return unixmode.FileMode(uint32(s.st.Mode)) }
func (s statInfo) ModTime() time.Time {
	sec, nsec := s.st.Mtim.Unix()
	return time.Unix(sec, nsec)
}
func (s statInfo) IsDir() bool { return s.Mode().IsDir() }
func (s statInfo) Sys() any    { return &s.st }

// Create creates the regular file name for writing; it must not exist (a
// link in its place is not followed: the create fails).
func (d *Dir) Create(name string, perm fs.FileMode) (*os.File, error) {
	pfd, base, err := d.parent(name)
	if err != nil {
		return nil, err
	}
	defer d.closeParent(pfd)
	fd, err := unix.Openat(pfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(perm.Perm()))
	if err != nil {
		return nil, d.pathErr("create", name, err)
	}
	return os.NewFile(uintptr(fd), d.path(name)), nil
}

// Device identifies the file system (mount) name is on ("" for the
// directory itself): a different one than the root's means a mount point
// on the way. On Linux it is the mount id (statx), which tells a bind
// mount of the same file system apart too; elsewhere the device number.
func (d *Dir) Device(name string) (uint64, error) {
	if name == "" {
		id, err := mountID(d.fd, "")
		if err != nil {
			return 0, d.pathErr("stat", name, err)
		}
		return id, nil
	}
	pfd, base, err := d.parent(name)
	if err != nil {
		return 0, err
	}
	defer d.closeParent(pfd)
	id, err := mountID(pfd, base)
	if err != nil {
		return 0, d.pathErr("lstat", name, err)
	}
	return id, nil
}

// ReadDirNames lists the names in the directory name ("" for the
// directory itself), reached without links.
func (d *Dir) ReadDirNames(name string) ([]string, error) {
	var fd int
	if name == "" {
		// A descriptor of its own: the File below closes it, never d.fd.
		var err error
		if fd, err = unix.Openat(d.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
			return nil, d.pathErr("open", name, err)
		}
	} else {
		var err error
		if fd, _, err = d.dirFD(name); err != nil {
			return nil, err
		}
	}
	f := os.NewFile(uintptr(fd), d.path(name))
	defer f.Close()
	return f.Readdirnames(-1)
}

// dirFD returns a descriptor of the directory name ("" is the root itself),
// reached without links, and what releases it.
func (d *Dir) dirFD(name string) (int, func(), error) {
	if name == "" {
		return d.fd, func() {}, nil
	}
	pfd, base, err := d.parent(name)
	if err != nil {
		return -1, nil, err
	}
	fd, err := unix.Openat(pfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	d.closeParent(pfd)
	if err != nil {
		return -1, nil, d.pathErr("open", name, err)
	}
	return fd, func() { unix.Close(fd) }, nil
}
