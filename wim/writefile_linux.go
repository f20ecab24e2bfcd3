//go:build linux

package wim

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// newFile is a file being written under a temporary name beside its final
// path (or under that path, see createNew; see writeFileAtomic), through plain system calls: the os package
// would register each file with the poller (four fcntl and an epoll_ctl per
// file) and os.Rename looks at the target first; apply creates tens of
// thousands of files.
//
// In a file marked FILE_ATTRIBUTE_SPARSE_FILE, pieces of zeros are not
// written but left as holes, as wimlib applies such a file: a sparse disk
// image in a WIM costs no writes and no space for its empty parts. Other
// files are written whole, also as wimlib does: a hole would make a file
// sparse that Windows never saw as sparse (on an NTFS mount, a sparse
// system file), which is not ours to decide.
type newFile struct {
	fd        int
	tmp, path string
	off       int64 // bytes of data so far
	sparse    bool  // runs of zeros may be left as holes
	hole      bool  // the data ends with a hole: the size is set at commit
}

// zeros is compared with the data written; it is never written to.
var zeros [sparseUnit]byte

// sparseUnit is the largest piece of data checked for zeros: writes of
// more are checked a piece at a time.
const sparseUnit = 128 << 10

// createNew creates a new temporary file beside path. With direct (path's
// directory was created empty by this apply) it creates path itself,
// exclusively (O_EXCL: never a file or link that appeared there since), and
// commit has nothing to rename: a rename per file is a tenth of an apply's
// system time. Such a file is removed on an error like a temporary; an
// apply killed part-way may leave it short under its own name, in a
// directory that did not exist before (as wimlib's apply does), and the next
// apply into the target replaces it (the directory then exists: temporary
// and rename). When path exists after all, it falls back to a temporary.
func createNew(path string, direct, sparse bool) (*newFile, error) {
	const flags = unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC
	if direct {
		fd, err := unix.Open(path, flags, 0o644)
		if err == nil {
			return &newFile{fd: fd, tmp: path, path: path, sparse: sparse}, nil
		}
		if !errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
	}
	var tmp string
	var err error
	for range 8 {
		tmp = tempName(path)
		fd, err := unix.Open(tmp, flags, 0o644)
		if err == nil {
			return &newFile{fd: fd, tmp: tmp, path: path, sparse: sparse}, nil
		}
		if !errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("create %s: %w", tmp, err)
		}
	}
	return nil, fmt.Errorf("create a temporary file beside %s: %w", path, err)
}

func (f *newFile) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		piece := p[:min(len(p), sparseUnit)]
		p = p[len(piece):]
		// Only whole blocks become holes: a short piece of zeros (a small
		// file, a file's tail) is written.
		if f.sparse && len(piece)%4096 == 0 && string(piece) == string(zeros[:len(piece)]) {
			f.off += int64(len(piece))
			f.hole = true
			continue
		}
		for len(piece) > 0 {
			n, err := unix.Pwrite(f.fd, piece, f.off)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil {
				return total - len(p) - len(piece), fmt.Errorf("write %s: %w", f.tmp, err)
			}
			piece = piece[n:]
			f.off += int64(n)
		}
		f.hole = false
	}
	return total, nil
}

// commit gives the file the access and modification times of times (when
// not nil), closes it and renames it over path, replacing a file or link
// there; a directory in the way is an error. On an error the temporary file
// is removed.
func (f *newFile) commit(times *File) error {
	if f.hole {
		if err := unix.Ftruncate(f.fd, f.off); err != nil {
			f.discard()
			return fmt.Errorf("set the size of %s: %w", f.tmp, err)
		}
	}
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
	if f.tmp == f.path {
		return nil // created under its own name (direct)
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
