//go:build windows

package atomicfile

// Windows cannot open a directory for FlushFileBuffers through os.Open; a
// rename there is made durable by the file system's own journal.
func isUnsupportedSync(error) bool { return true }
