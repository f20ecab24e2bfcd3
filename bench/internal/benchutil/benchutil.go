// Package benchutil holds what the benchmark commands (bench/wim, bench/reg,
// bench/servicing) all need: the machine's load, written beside every
// figure, and the sizes of what they measure.
package benchutil

import (
	"os"
	"path/filepath"
	"strings"
)

// LoadAverage returns the first n of the machine's load averages (1, 5 and
// 15 minutes) separated by spaces, or "?" where /proc/loadavg cannot be
// read: on a shared machine a figure means little without it.
func LoadAverage(n int) string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < n {
		return "?"
	}
	return strings.Join(f[:n], " ")
}

// TreeSize returns the bytes and the number of regular files under root.
func TreeSize(root string) (int64, int) {
	var size int64
	var n int
	filepath.Walk(root, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			size += info.Size()
			n++
		}
		return nil
	})
	return size, n
}

// FileSize returns the size of the file at p, or 0 if it cannot be read.
func FileSize(p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return st.Size()
}
