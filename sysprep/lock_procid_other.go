//go:build !linux

package sysprep

// bootID is unknown on this platform: locks are judged by pid alone.
func bootID() string { return "" }

// processStart is unknown on this platform.
func processStart(pid int) string { return "" }
