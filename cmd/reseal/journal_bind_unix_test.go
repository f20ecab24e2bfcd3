//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// bindTestJournal binds vol's reseal-journal directory to the run "r1" as
// an interrupted commit leaves it (reseal-journal.id beside it naming the
// directory's inode), so that recovery accepts it as the volume's own.
func bindTestJournal(t *testing.T, vol string) {
	t.Helper()
	fi, err := os.Lstat(filepath.Join(vol, "reseal-journal"))
	if err != nil {
		t.Fatal(err)
	}
	ino := fi.Sys().(*syscall.Stat_t).Ino
	data := `{"run":"r1","journal_dir":"` + strconv.FormatUint(uint64(ino), 10) + `"}`
	if err := os.WriteFile(filepath.Join(vol, "reseal-journal.id"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
