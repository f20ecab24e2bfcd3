//go:build unix

package sysprep

import (
	"errors"
	"syscall"
)

// processAlive reports whether a process with this id exists on this host.
// A process of another user exists too (EPERM). A reused id reads as alive:
// the lock is then kept, the safe side.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
