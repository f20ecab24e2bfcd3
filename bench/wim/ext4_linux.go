package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// newExt4 makes an ext4 file system of size bytes in the image file img
// (on tmpfs), mounts it through a loop device at mnt and returns a
// directory on it and a function that unmounts it and removes the image.
// The inode tables and journal are written by mkfs (not lazily by the
// kernel after the mount), so no background work overlaps the run.
func newExt4(img, mnt string, size int64) (string, func(), error) {
	os.Remove(img)
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		return "", nil, err
	}
	if err := os.Truncate(img, size); err != nil {
		os.Remove(img)
		return "", nil, err
	}
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		os.Remove(img)
		return "", nil, err
	}
	steps := [][]string{
		{"mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", img},
		{"mount", "-o", "loop", img, mnt},
	}
	for _, c := range steps {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			os.Remove(img)
			return "", nil, fmt.Errorf("-apply-on ext4 (needs root, mkfs.ext4 and loop devices): %s: %v\n%s", strings.Join(c, " "), err, out)
		}
	}
	release := func() {
		if err := unix.Unmount(mnt, 0); err != nil {
			fmt.Fprintf(os.Stderr, "wimbench: unmount %s: %v\n", mnt, err)
			return
		}
		os.Remove(mnt)
		os.Remove(img)
	}
	return filepath.Join(mnt, "apply"), release, nil
}
