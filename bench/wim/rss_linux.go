package main

import (
	"os"
	"syscall"
)

// peakRSS is the finished process's peak resident set size in bytes
// (getrusage's ru_maxrss, which Linux gives in kilobytes).
func peakRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return int64(ru.Maxrss) * 1024
	}
	return 0
}
