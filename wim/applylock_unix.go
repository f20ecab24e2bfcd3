//go:build unix

package wim

import (
	"os"

	"golang.org/x/sys/unix"
)

// lockTarget takes the advisory lock of the target directory dir without
// waiting (see applystale.go). It returns the release function and whether
// the lock was taken; without it the apply goes on, only more carefully.
func lockTarget(dir string) (release func(), locked bool) {
	f, err := os.Open(dir)
	if err != nil {
		return func() {}, false
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return func() {}, false
	}
	return func() { f.Close() }, true
}
