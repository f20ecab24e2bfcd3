package sysprep

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reseal/reseal/internal/beneath"
)

// writeTestJournal plants a journal bound to the volume, as a commit
// interrupted on it would leave it.
func writeTestJournal(t testing.TB, root string, j journal) {
	t.Helper()
	jdir := filepath.Join(root, journalDir)
	must(t, os.MkdirAll(filepath.Join(jdir, stagedDir), 0o755))
	j.Run = bindTestJournal(t, root)
	data, err := json.Marshal(j)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(jdir, journalFile), data, 0o644))
}

// bindTestJournal writes the binding of the journal directory at root and
// returns its run.
func bindTestJournal(t testing.TB, root string) string {
	t.Helper()
	vol, err := beneath.Open(root)
	must(t, err)
	defer vol.Close()
	if err := vol.Remove(journalBinding); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	run, err := bindJournal(vol)
	must(t, err)
	return run
}

func TestRecoverJournalRefusesBadJournals(t *testing.T) {
	for name, j := range map[string]journal{
		"escaping path":   {Version: 1, State: stateCommitted, Steps: []step{{Op: "replace", Path: "../outside", Staged: "staged/0000"}}},
		"absolute path":   {Version: 1, State: stateCommitted, Steps: []step{{Op: "delete", Path: "/etc/passwd", Trash: "trash/0"}}},
		"journal itself":  {Version: 1, State: stateCommitted, Steps: []step{{Op: "delete", Path: "reseal-journal/x", Trash: "trash/0"}}},
		"unknown op":      {Version: 1, State: stateCommitted, Steps: []step{{Op: "chmod", Path: "x"}}},
		"future version":  {Version: 9, State: stateCommitted},
		"unknown state":   {Version: 1, State: "half"},
		"staged escaping": {Version: 1, State: stateCommitted, Steps: []step{{Op: "replace", Path: "x", Staged: "../../y"}}},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			writeTestJournal(t, root, j)
			before := treeHash(t, root)
			if msg, err := RecoverJournal(root); err == nil {
				t.Fatalf("accepted: %q", msg)
			}
			if treeHash(t, root) != before {
				t.Error("a refused journal changed the volume")
			}
		})
	}
}

func TestRecoverJournalOutcomes(t *testing.T) {
	root := t.TempDir()
	if msg, err := RecoverJournal(root); msg != "" || err != nil {
		t.Errorf("no journal: %q %v", msg, err)
	}
	// Staging never finished: rolled back.
	must(t, os.MkdirAll(filepath.Join(root, journalDir, stagedDir), 0o755))
	bindTestJournal(t, root)
	must(t, os.WriteFile(filepath.Join(root, journalDir, stagedDir, "0000"), []byte("new"), 0o644))
	msg, err := RecoverJournal(root)
	if err != nil || !strings.HasPrefix(msg, "rolled back") {
		t.Errorf("staging: %q %v", msg, err)
	}
	// Committed, half carried out: rolled forward.
	must(t, os.WriteFile(filepath.Join(root, "a.txt"), []byte("old"), 0o644))
	must(t, os.WriteFile(filepath.Join(root, "gone.txt"), []byte("x"), 0o644))
	writeTestJournal(t, root, journal{Version: 1, State: stateCommitted, Created: time.Unix(0, 0), Steps: []step{
		{Op: "replace", Path: "a.txt", Staged: "staged/0000"},
		{Op: "delete", Path: "gone.txt", Trash: "trash/0001"},
		{Op: "replace", Path: "new/dir/b.txt", Staged: "staged/0001"},
	}})
	must(t, os.WriteFile(filepath.Join(root, journalDir, stagedDir, "0000"), []byte("new"), 0o644))
	must(t, os.WriteFile(filepath.Join(root, journalDir, stagedDir, "0001"), []byte("b"), 0o644))
	msg, err = RecoverJournal(root)
	if err != nil || !strings.HasPrefix(msg, "rolled forward") || !strings.Contains(msg, "3 of 3") {
		t.Errorf("committed: %q %v", msg, err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "a.txt")); string(b) != "new" {
		t.Errorf("a.txt = %q", b)
	}
	if _, err := os.Stat(filepath.Join(root, "gone.txt")); err == nil {
		t.Error("gone.txt survived")
	}
	if b, _ := os.ReadFile(filepath.Join(root, "new", "dir", "b.txt")); string(b) != "b" {
		t.Errorf("b.txt = %q", b)
	}
	if _, err := os.Stat(filepath.Join(root, journalDir)); err == nil {
		t.Error("journal left")
	}
}
