//go:build unix

// Package unixmode turns the st_mode of a stat(2) result into an
// fs.FileMode, the way os.Lstat does, for code that calls the system
// directly (fstatat on a directory descriptor) and so has no os.FileInfo.
package unixmode

import (
	"io/fs"

	"golang.org/x/sys/unix"
)

// FileMode returns the permission bits and the type of mode. A type that
// fs has no name for is fs.ModeIrregular, as in os.
func FileMode(mode uint32) fs.FileMode {
	m := fs.FileMode(mode & 0o777)
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		m |= fs.ModeDir
	case unix.S_IFLNK:
		m |= fs.ModeSymlink
	case unix.S_IFIFO:
		m |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		m |= fs.ModeSocket
	case unix.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		m |= fs.ModeDevice
	default:
		m |= fs.ModeIrregular
	}
	return m
}
