//go:build unix

package wim

import (
	"fmt"
	"math"
	"time"

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
	ts, err := unix.TimeToTimespec(t)
	if err != nil {
		// Only where time_t is 32 bits: the nearest time it can hold.
		limit := int64(math.MaxInt32)
		if t.Unix() < 0 {
			limit = math.MinInt32
		}
		ts, _ = unix.TimeToTimespec(time.Unix(limit, 0))
	}
	return ts
}
