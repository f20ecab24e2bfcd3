//go:build !linux

package wim

import (
	"io/fs"
	"time"
)

func inodeOf(info fs.FileInfo) (inodeKey, uint64, bool) { return inodeKey{}, 0, false }

func fileTimes(info fs.FileInfo) (atime, mtime time.Time) {
	return info.ModTime(), info.ModTime()
}
