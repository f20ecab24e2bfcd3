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

// isSparse: outside Linux the attributes come from the file system itself
// (or are not known), so no file is marked sparse from its block count.
func isSparse(info fs.FileInfo) bool { return false }
