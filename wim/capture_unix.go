//go:build linux

package wim

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/reseal/reseal/internal/unixmode"
	"golang.org/x/sys/unix"
)

// statOf returns what capture needs of info's system data: its lstat as
// os.Lstat gives it (*syscall.Stat_t) or as a scan of a directory's
// descriptor does (*unix.Stat_t, see openScanDir).
func statOf(info fs.FileInfo) (dev, ino, nlink uint64, atime unix.Timespec, blocks, size int64, ok bool) {
	switch st := info.Sys().(type) {
	case *syscall.Stat_t:
		return uint64(st.Dev), uint64(st.Ino), uint64(st.Nlink), unix.Timespec(st.Atim), int64(st.Blocks), int64(st.Size), true
	case *unix.Stat_t:
		return uint64(st.Dev), uint64(st.Ino), uint64(st.Nlink), st.Atim, int64(st.Blocks), int64(st.Size), true
	}
	return 0, 0, 0, unix.Timespec{}, 0, 0, false
}

func inodeOf(info fs.FileInfo) (inodeKey, uint64, bool) {
	dev, ino, nlink, _, _, _, ok := statOf(info)
	if !ok {
		return inodeKey{}, 0, false
	}
	return inodeKey{dev, ino}, nlink, true
}

func fileTimes(info fs.FileInfo) (atime, mtime time.Time) {
	mtime = info.ModTime()
	atime = mtime
	if _, _, _, at, _, _, ok := statOf(info); ok {
		atime = time.Unix(int64(at.Sec), int64(at.Nsec))
	}
	return atime, mtime
}

// isSparse reports whether a regular file has fewer blocks allocated than
// its size needs: it has holes, and is captured with FILE_ATTRIBUTE_SPARSE_FILE
// (as wimlib captures it), which is what tells apply to leave its runs of
// zeros as holes.
func isSparse(info fs.FileInfo) bool {
	_, _, _, _, blocks, size, ok := statOf(info)
	return ok && blocks*512 < size
}

// dirScan is a directory being scanned, read through plain system calls:
// one open, getdents and close, and an fstatat of each entry relative to
// it (os.ReadDir and os.Lstat by path cost five more calls a directory
// for the poller, a path walk and two allocations an entry).
type dirScan struct {
	fd   int
	path string
}

// openScanDir opens the directory path (following a link, as os.ReadDir
// does: the root may be one) and returns its entries' names, sorted.
func openScanDir(path string) (*dirScan, []string, error) {
	fd, err := openRetry(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	if err != nil {
		return nil, nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	d := &dirScan{fd: fd, path: path}
	var names []string
	buf := make([]byte, 32<<10)
	for {
		n, err := unix.ReadDirent(fd, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			d.close()
			return nil, nil, &fs.PathError{Op: "readdirent", Path: path, Err: err}
		}
		if n <= 0 {
			break
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names) // without "." and ".."
	}
	slices.Sort(names)
	return d, names, nil
}

// lstat returns the entry name's lstat; an entry gone since it was listed
// gives an error wrapping fs.ErrNotExist.
func (d *dirScan) lstat(name string) (fs.FileInfo, error) {
	info := &statInfo{name: name}
	for {
		err := unix.Fstatat(d.fd, name, &info.st, unix.AT_SYMLINK_NOFOLLOW)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "lstat", Path: filepath.Join(d.path, name), Err: err}
		}
		return info, nil
	}
}

func (d *dirScan) close() { unix.Close(d.fd) }

// statInfo is an fs.FileInfo of an fstatat.
type statInfo struct {
	name string
	st   unix.Stat_t
}

func (i *statInfo) Name() string       { return i.name }
func (i *statInfo) Size() int64        { return int64(i.st.Size) }
func (i *statInfo) ModTime() time.Time { return time.Unix(int64(i.st.Mtim.Sec), int64(i.st.Mtim.Nsec)) }
func (i *statInfo) IsDir() bool        { return i.st.Mode&unix.S_IFMT == unix.S_IFDIR }
func (i *statInfo) Sys() any           { return &i.st }

func (i *statInfo) Mode() fs.FileMode { return unixmode.FileMode(i.st.Mode) }

func openRetry(path string, flags int) (int, error) {
	for {
		fd, err := unix.Open(path, flags, 0)
		if !errors.Is(err, unix.EINTR) {
			return fd, err
		}
	}
}

// sourceFile is a file being captured, read through plain system calls:
// os.Open would register each file with the poller (three or four fcntl and
// an epoll_ctl per file: more calls than the open, read and close a small
// file needs, and capture reads tens of thousands).
type sourceFile struct {
	fd   int
	path string
}

// openSource opens a regular file of the tree for reading. O_NOFOLLOW: the
// scan saw a regular file there; a link put in its place since is refused,
// never followed out of the tree.
func openSource(path string) (io.ReadCloser, error) {
	fd, err := openRetry(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return &sourceFile{fd: fd, path: path}, nil
}

func (f *sourceFile) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, err := unix.Read(f.fd, p)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return 0, &fs.PathError{Op: "read", Path: f.path, Err: err}
		}
		if n == 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

func (f *sourceFile) Close() error {
	if f.fd < 0 {
		return os.ErrClosed
	}
	err := unix.Close(f.fd)
	f.fd = -1
	return err
}
