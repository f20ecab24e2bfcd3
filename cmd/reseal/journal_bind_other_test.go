//go:build !unix

package main

import (
	"os"
	"path/filepath"
	"testing"
)

// bindTestJournal binds vol's reseal-journal directory to the run "r1";
// where no file identity is at hand the run alone binds it.
func bindTestJournal(t *testing.T, vol string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(vol, "reseal-journal.id"), []byte(`{"run":"r1","journal_dir":""}`), 0o644); err != nil {
		t.Fatal(err)
	}
}
