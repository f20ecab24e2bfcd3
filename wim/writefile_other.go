//go:build !linux

package wim

import "bytes"

// writeWholeFile creates path with data (see writeFileAtomic).
func writeWholeFile(path string, data []byte) error {
	return writeFileAtomic(path, bytes.NewReader(data), make([]byte, 64<<10), nil)
}
