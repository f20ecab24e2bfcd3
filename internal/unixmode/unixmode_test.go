//go:build unix

package unixmode

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestFileModeLikeOs holds FileMode to os.Lstat's answer for each kind of
// file a test can make without privileges.
func TestFileModeLikeOs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "l")
	if err := os.Symlink("f", link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "p")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, file, link, fifo, "/dev/null"} {
		want, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			t.Fatal(err)
		}
		if got := FileMode(uint32(st.Mode)); got != want.Mode() {
			t.Errorf("%s: FileMode = %v, os.Lstat says %v", p, got, want.Mode())
		}
	}
}
