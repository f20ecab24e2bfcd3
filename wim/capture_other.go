//go:build !linux

package wim

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// openSource opens a regular file of the tree for reading.
func openSource(path string) (io.ReadCloser, error) { return os.Open(path) }

// dirScan is a directory being scanned.
type dirScan struct{ path string }

// openScanDir returns the names of the entries of the directory path, sorted.
func openScanDir(path string) (*dirScan, []string, error) {
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return &dirScan{path: path}, names, nil
}

// lstat returns the entry name's lstat.
func (d *dirScan) lstat(name string) (fs.FileInfo, error) {
	return os.Lstat(filepath.Join(d.path, name))
}

func (d *dirScan) close() {}

func inodeOf(info fs.FileInfo) (inodeKey, uint64, bool) { return inodeKey{}, 0, false }

func fileTimes(info fs.FileInfo) (atime, mtime time.Time) {
	return info.ModTime(), info.ModTime()
}

// isSparse: outside Linux the attributes come from the file system itself
// (or are not known), so no file is marked sparse from its block count.
func isSparse(info fs.FileInfo) bool { return false }
