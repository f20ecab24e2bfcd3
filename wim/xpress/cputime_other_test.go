//go:build !unix

package xpress

import (
	"testing"
	"time"
)

var processStart = time.Now()

// cpuTime falls back to wall time where getrusage is missing.
func cpuTime(t testing.TB, children bool) time.Duration { return time.Since(processStart) }

func userTime(t testing.TB, children bool) time.Duration { return time.Since(processStart) }
