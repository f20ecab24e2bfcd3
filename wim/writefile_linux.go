//go:build linux

package wim

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// writeWholeFile creates path with data using plain system calls (the
// os package would register each file with the poller). A file or link
// already at path is unlinked, never written through; on an error the new
// file is removed.
func writeWholeFile(path string, data []byte) (err error) {
	const flags = unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := unix.Open(path, flags, 0o644)
	if errors.Is(err, unix.EEXIST) {
		var st unix.Stat_t
		if unix.Lstat(path, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			return fmt.Errorf("create %s: a directory is in the way", path)
		}
		unix.Unlink(path)
		fd, err = unix.Open(path, flags, 0o644)
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			unix.Unlink(path)
		}
	}()
	for len(data) > 0 {
		n, werr := unix.Write(fd, data)
		if errors.Is(werr, unix.EINTR) {
			continue
		}
		if werr != nil {
			unix.Close(fd)
			return fmt.Errorf("write %s: %w", path, werr)
		}
		data = data[n:]
	}
	if err := unix.Close(fd); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}
