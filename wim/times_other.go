//go:build !unix

package wim

import (
	"fmt"
	"os"
)

// setTimes sets the access and modification times of path from f; links
// keep the times the system gave them.
func setTimes(path string, f *File, link bool) error {
	if link {
		return nil
	}
	if err := os.Chtimes(path, FiletimeToTime(f.LastAccessTime), FiletimeToTime(f.LastWriteTime)); err != nil {
		return fmt.Errorf("set times of %s: %w", path, err)
	}
	return nil
}
