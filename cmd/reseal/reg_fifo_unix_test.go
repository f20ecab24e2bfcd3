//go:build unix

package main

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestHiveFIFONeverHangs: a FIFO given as the hive fails at once.
func TestHiveFIFONeverHangs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "SYSTEM")
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, args := range [][]string{
		{"reg", "query", path},
		{"reg", "set", path, "K", "v", "--data", "x"},
	} {
		done := make(chan int, 1)
		go func() { code, _, _ := runCLI(t, args...); done <- code }()
		select {
		case code := <-done:
			if code == exitOK {
				t.Errorf("%v: accepted a FIFO", args)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%v hangs on a FIFO", args)
		}
	}
}
