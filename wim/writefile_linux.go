//go:build linux

package wim

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// newFile is a file being written under a temporary name beside its final
// path (see writeFileAtomic), through plain system calls: the os package
// would register each file with the poller (four fcntl and an epoll_ctl per
// file) and os.Rename looks at the target first; apply creates tens of
// thousands of files.
type newFile struct {
	fd        int
	tmp, path string
}

// createNew creates a new temporary file beside path.
func createNew(path string) (*newFile, error) {
	const flags = unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC
	var tmp string
	var err error
	for range 8 {
		tmp = tempName(path)
		fd, err := unix.Open(tmp, flags, 0o644)
		if err == nil {
			return &newFile{fd: fd, tmp: tmp, path: path}, nil
		}
		if !errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("create %s: %w", tmp, err)
		}
	}
	return nil, fmt.Errorf("create a temporary file beside %s: %w", path, err)
}

func (f *newFile) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		n, err := unix.Write(f.fd, p[done:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return done, fmt.Errorf("write %s: %w", f.tmp, err)
		}
		done += n
	}
	return done, nil
}

// commit gives the file the access and modification times of times (when
// not nil), closes it and renames it over path, replacing a file or link
// there; a directory in the way is an error. On an error the temporary file
// is removed.
func (f *newFile) commit(times *File) error {
	if times != nil {
		ts := [2]unix.Timespec{timespec(times.LastAccessTime), timespec(times.LastWriteTime)}
		// utimensat with a NULL path is futimens(2): the open file itself.
		if _, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(f.fd), 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0); e != 0 {
			f.discard()
			return fmt.Errorf("set times of %s: %w", f.tmp, e)
		}
	}
	err := unix.Close(f.fd)
	f.fd = -1
	if err != nil {
		f.discard()
		return fmt.Errorf("close %s: %w", f.tmp, err)
	}
	// rename(2) over a directory fails with EISDIR: no need to look first.
	if err := unix.Rename(f.tmp, f.path); err != nil {
		f.discard()
		if errors.Is(err, unix.EISDIR) || errors.Is(err, unix.ENOTEMPTY) || errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("create %s: a directory is in the way", f.path)
		}
		return fmt.Errorf("rename %s to %s: %w", f.tmp, f.path, err)
	}
	return nil
}

// discard closes and removes the temporary file.
func (f *newFile) discard() {
	if f.fd >= 0 {
		unix.Close(f.fd)
		f.fd = -1
	}
	unix.Unlink(f.tmp)
}

// writeWholeFile puts a new file with data (and the times of times, when
// not nil) at path, as writeFileAtomic does.
func writeWholeFile(path string, data []byte, times *File) error {
	f, err := createNew(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.discard()
		return err
	}
	return f.commit(times)
}
