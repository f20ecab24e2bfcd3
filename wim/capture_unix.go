//go:build linux

package wim

import (
	"io/fs"
	"syscall"
	"time"
)

func inodeOf(info fs.FileInfo) (inodeKey, uint64, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return inodeKey{}, 0, false
	}
	return inodeKey{uint64(st.Dev), uint64(st.Ino)}, uint64(st.Nlink), true
}

func fileTimes(info fs.FileInfo) (atime, mtime time.Time) {
	mtime = info.ModTime()
	atime = mtime
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		atime = time.Unix(int64(st.Atim.Sec), int64(st.Atim.Nsec))
	}
	return atime, mtime
}

// isSparse reports whether a regular file has fewer blocks allocated than
// its size needs: it has holes, and is captured with FILE_ATTRIBUTE_SPARSE_FILE
// (as wimlib captures it), which is what tells apply to leave its runs of
// zeros as holes.
func isSparse(info fs.FileInfo) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	return ok && st.Blocks*512 < st.Size
}
