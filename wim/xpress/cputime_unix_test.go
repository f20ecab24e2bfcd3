//go:build unix

package xpress

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the user+system CPU time of this process, or of its
// finished children.
func cpuTime(t testing.TB, children bool) time.Duration {
	who := syscall.RUSAGE_SELF
	if children {
		who = syscall.RUSAGE_CHILDREN
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// userTime is like cpuTime without the system time: for apply runs, whose
// system time (writing files) is large and noisy.
func userTime(t testing.TB, children bool) time.Duration {
	who := syscall.RUSAGE_SELF
	if children {
		who = syscall.RUSAGE_CHILDREN
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano())
}
