//go:build windows

package sysprep

import (
	"errors"
	"os"
	"syscall"
)

// processAlive reports whether a process with this id exists on this host:
// opening it fails with ERROR_INVALID_PARAMETER when there is none. Access
// denied means it exists. A reused id reads as alive: the lock is then
// kept, the safe side.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err == nil {
		p.Release()
		return true
	}
	return !errors.Is(err, errorInvalidParameter)
}

const errorInvalidParameter = syscall.Errno(87) // ERROR_INVALID_PARAMETER

// isNoLinkSupport reports whether a hard link failed because the file
// system has none (FAT, exFAT, network shares).
func isNoLinkSupport(err error) bool {
	const errorInvalidFunction, errorNotSupported = syscall.Errno(1), syscall.Errno(50)
	return errors.Is(err, errorInvalidFunction) || errors.Is(err, errorNotSupported)
}
