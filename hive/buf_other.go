//go:build !linux

package hive

// newBuffer returns a zeroed buffer of n bytes.
func newBuffer(n int) []byte { return make([]byte, n) }
