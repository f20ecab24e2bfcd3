//go:build linux

package sysprep

import (
	"bytes"
	"os"
	"strconv"
	"strings"
)

// bootID identifies this boot of the machine: a lock written in an earlier
// boot belongs to a process that no longer exists, whatever runs under its
// pid now.
func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// processStart is when a process started, in clock ticks since boot (field
// 22 of /proc/PID/stat): with the pid and the boot it identifies one
// process, so a pid reused by another process is told from the lock's
// holder. "" when unknown.
func processStart(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The command name (field 2) is in parentheses and may hold spaces and
	// parentheses itself: the fields after it start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return ""
	}
	fields := strings.Fields(string(b[i+1:]))
	const startTime = 22 - 3 // fields after ')' begin with field 3
	if len(fields) <= startTime {
		return ""
	}
	return fields[startTime]
}
