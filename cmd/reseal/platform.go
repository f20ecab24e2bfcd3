package main

import (
	"os"
	"runtime"
)

func goos() string   { return runtime.GOOS }
func goarch() string { return runtime.GOARCH }

// isTerminal reports whether f is a character device a person may be
// watching; progress output is drawn only then.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	if err != nil {
		return false
	}
	return st.Mode()&os.ModeCharDevice != 0
}
