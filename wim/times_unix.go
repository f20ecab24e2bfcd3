//go:build unix

package wim

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// setTimes sets the access and modification times of path from f, without
// following a symbolic link.
func setTimes(path string, f *File, _ bool) error {
	ts := []unix.Timespec{timespec(f.LastAccessTime), timespec(f.LastWriteTime)}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, path, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times of %s: %w", path, err)
	}
	return nil
}

func timespec(ft uint64) unix.Timespec {
	t := FiletimeToTime(ft)
	return unix.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}
