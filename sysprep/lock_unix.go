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

// isNoLinkSupport reports whether a hard link failed because the file
// system has none (FAT, some FUSE file systems).
func isNoLinkSupport(err error) bool {
	return errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.EMLINK)
}
