//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reseal/reseal/internal/wimbomb"
)

// Memory bombs (issue 9, item 3): small WIMs whose metadata, security data
// or XML decompress to far more than any real WIM holds. reseal verify,
// info and apply, run as the user runs them (the built binary, in a child
// process), must each end with exit 0, 1 or 3, print no Go runtime crash,
// and peak under 512 MB of resident memory. A child that passes 1 GiB is
// killed at once, so that the test fails quickly where the budget is
// missing instead of exhausting the machine.
func TestMemoryBombs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and WIMs of up to 1 GiB of metadata")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "reseal")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	bombs := []struct {
		name  string
		make  func(path string) error
		codes []int // exit codes accepted
	}{
		// The three: 1 GiB of identical entries; 134 million
		// zero-length security descriptors; 64 MiB of XML.
		{"metadata-1GiB", func(p string) error { return wimbomb.Metadata(p, 1<<30) }, []int{3}},
		{"security-134M", func(p string) error { return wimbomb.Security(p, 134_000_000) }, []int{3}},
		{"xml-64MiB", func(p string) error { return wimbomb.XML(p, 64<<20) }, []int{3}},
		// Just under the size limits, so that the budgets themselves are
		// what holds: 250 MiB of entries (refused by the entry budget), 90
		// MiB (parsed, then refused for its duplicate names), 30 million
		// descriptors, XML just under its limit (accepted).
		{"metadata-250MiB", func(p string) error { return wimbomb.Metadata(p, 250<<20) }, []int{3}},
		{"metadata-90MiB", func(p string) error { return wimbomb.Metadata(p, 90<<20) }, []int{1}},
		{"security-30M", func(p string) error { return wimbomb.Security(p, 30_000_000) }, []int{3}},
		{"xml-8MiB", func(p string) error { return wimbomb.XML(p, 8<<20-100) }, []int{0}},
	}
	for _, b := range bombs {
		t.Run(b.name, func(t *testing.T) {
			wimPath := filepath.Join(dir, b.name+".wim")
			if err := b.make(wimPath); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(wimPath)
			st, _ := os.Stat(wimPath)
			for _, args := range [][]string{{"verify", wimPath}, {"info", wimPath}, {"apply", wimPath, filepath.Join(t.TempDir(), "dest")}} {
				code, rss, stderr := runMeasured(t, bin, args...)
				t.Logf("%s (%d bytes): reseal %s: exit %d, peak RSS %d MB", b.name, st.Size(), args[0], code, rss>>20)
				if rss >= 512<<20 {
					t.Errorf("reseal %s: peak RSS %d MB, want under 512 MB", args[0], rss>>20)
				}
				if strings.Contains(stderr, "fatal error") || strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
					t.Errorf("reseal %s crashed:\n%.2000s", args[0], stderr)
				}
				ok := code == 0 && args[0] == "info" // info reads no metadata
				for _, c := range b.codes {
					ok = ok || code == c
				}
				if args[0] == "apply" && b.codes[0] == 0 {
					ok = code == 0
				}
				if args[0] == "verify" && b.codes[0] == 1 {
					ok = code == 1
				}
				if !ok {
					t.Errorf("reseal %s: exit %d, want one of %v; stderr:\n%.1000s", args[0], code, b.codes, stderr)
				}
				if code == 3 && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
					t.Errorf("reseal %s: the error is not one line:\n%.1000s", args[0], stderr)
				}
			}
		})
	}
}

// runMeasured runs the binary and returns its exit code, its peak resident
// memory in bytes and its stderr. It kills the child once its resident
// memory passes 1 GiB (polled) or after two minutes.
func runMeasured(t *testing.T, bin string, args ...string) (int, int64, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var killed string
	go func() {
		deadline := time.Now().Add(2 * time.Minute)
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if rss := currentRSS(cmd.Process.Pid); rss > 1<<30 {
				killed = fmt.Sprintf("killed at %d MB resident", rss>>20)
				cmd.Process.Kill()
				return
			}
			if time.Now().After(deadline) {
				killed = "killed after two minutes"
				cmd.Process.Kill()
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = int64(ru.Maxrss) << 10 // kilobytes on Linux
	}
	code := cmd.ProcessState.ExitCode()
	if killed != "" {
		t.Errorf("reseal %s: %s", args[0], killed)
		if rss < 1<<30 {
			rss = 1 << 30
		}
	} else if err != nil && code < 0 {
		t.Errorf("reseal %s: %v", args[0], err)
	}
	return code, rss, stderr.String()
}

// currentRSS reads a process's resident set size from /proc.
func currentRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
