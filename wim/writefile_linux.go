//go:build linux

package wim

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// writeWholeFile puts a new file with data at path using plain system calls
// (the os package would register each file with the poller): written under
// a temporary name beside path, then renamed over it, so that a file
// already at path is replaced only by a complete one and a link there is
// replaced, never written through. On an error the temporary file is
// removed and path is left as it was.
func writeWholeFile(path string, data []byte) (err error) {
	const flags = unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC
	var tmp string
	fd := -1
	for range 8 {
		tmp = tempName(path)
		fd, err = unix.Open(tmp, flags, 0o644)
		if !errors.Is(err, unix.EEXIST) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	defer func() {
		if err != nil {
			unix.Unlink(tmp)
		}
	}()
	for len(data) > 0 {
		n, werr := unix.Write(fd, data)
		if errors.Is(werr, unix.EINTR) {
			continue
		}
		if werr != nil {
			unix.Close(fd)
			return fmt.Errorf("write %s: %w", tmp, werr)
		}
		data = data[n:]
	}
	if err := unix.Close(fd); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	var st unix.Stat_t
	if unix.Lstat(path, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return fmt.Errorf("create %s: a directory is in the way", path)
	}
	if err := unix.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s to %s: %w", tmp, path, err)
	}
	return nil
}
