package sysprep

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// plantedVolume is a sample volume inside base, beside an outside
// directory holding a file that must never change.
type plantedVolume struct {
	base, root, outside string
}

func newPlantedVolume(t *testing.T) *plantedVolume {
	t.Helper()
	base := t.TempDir()
	pv := &plantedVolume{base: base, root: filepath.Join(base, "vol"), outside: filepath.Join(base, "outside")}
	must(t, os.MkdirAll(pv.outside, 0o755))
	must(t, os.WriteFile(filepath.Join(pv.outside, "victim.txt"), []byte("keep"), 0o644))
	copyTree(t, writeSample(t, "10"), pv.root)
	return pv
}

func (pv *plantedVolume) outsideHash(t *testing.T) string {
	t.Helper()
	return treeHash(t, pv.outside)
}

func (pv *plantedVolume) plant(t *testing.T, bound bool, j journal, files map[string]string, links map[string]string) {
	t.Helper()
	jdir := filepath.Join(pv.root, journalDir)
	must(t, os.MkdirAll(jdir, 0o755))
	for name, content := range files {
		p := filepath.Join(jdir, filepath.FromSlash(name))
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(content), 0o644))
	}
	for name, target := range links {
		p := filepath.Join(pv.root, filepath.FromSlash(name))
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.Symlink(target, p))
	}
	if bound {
		j.Run = bindTestJournal(t, pv.root)
	} else {
		// What an attacker can write: a binding naming a run, but not
		// the directory this volume gave the journal.
		j.Run = "0123456789abcdef0123456789abcdef"
		b, _ := json.Marshal(binding{Run: j.Run, Dir: "1"})
		must(t, os.WriteFile(filepath.Join(pv.root, journalBinding), b, 0o644))
	}
	data, err := json.Marshal(j)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(jdir, journalFile), data, 0o644))
}

// TestPlantedJournalNeverReachesOutside plants journals whose paths run
// through symbolic links to a directory outside the volume (in a step's
// path, as staged/ or trash/, as the journal directory itself), bound to
// the volume or not, and runs every command that recovers journals: none
// may change a byte outside the volume.
func TestPlantedJournalNeverReachesOutside(t *testing.T) {
	committed := func(steps ...step) journal {
		return journal{Version: journalVersion, State: stateCommitted, Steps: steps}
	}
	cases := []struct {
		name  string
		j     journal
		files map[string]string
		links map[string]string // volume-relative name -> link target
	}{
		{"delete through a linked directory", committed(step{Op: "delete", Path: "evil/victim.txt", Trash: "trash/0000"}),
			nil, map[string]string{"evil": "../outside"}},
		{"replace through a linked directory", committed(step{Op: "replace", Path: "evil/victim.txt", Staged: "staged/0000"}),
			map[string]string{"staged/0000": "pwned"}, map[string]string{"evil": "../outside"}},
		{"replace through a deeper link", committed(step{Op: "replace", Path: "Windows/evil/victim.txt", Staged: "staged/0000"}),
			map[string]string{"staged/0000": "pwned"}, map[string]string{"Windows/evil": "../../outside"}},
		{"trash is a link", committed(step{Op: "delete", Path: "Windows/Temp", Trash: "trash/0000"}),
			nil, map[string]string{journalDir + "/trash": "../../outside"}},
		{"staged is a link", committed(step{Op: "replace", Path: "moved.txt", Staged: "staged/victim.txt"}),
			nil, map[string]string{journalDir + "/staged": "../../outside"}},
		{"staged file is a link", committed(step{Op: "replace", Path: "moved.txt", Staged: "staged/0000"}),
			nil, map[string]string{journalDir + "/staged/0000": "../../../outside/victim.txt"}},
		{"done journal with linked trash", journal{Version: journalVersion, State: stateDone},
			nil, map[string]string{journalDir + "/trash": "../../outside"}},
	}
	commands := map[string]func(root string) error{
		"preflight": func(root string) error {
			_, err := Preflight(context.Background(), root, Options{Now: fixedNow})
			return err
		},
		"generalize --dry-run": func(root string) error {
			_, err := Generalize(context.Background(), root, Options{Now: fixedNow, DryRun: true})
			return err
		},
		"generalize": func(root string) error {
			_, err := Generalize(context.Background(), root, Options{Now: fixedNow})
			return err
		},
		"capture (Reserve)": func(root string) error {
			r, err := Reserve(root)
			if err == nil {
				r.Release()
			}
			return err
		},
	}
	for _, tc := range cases {
		for _, bound := range []bool{false, true} {
			for cmd, run := range commands {
				name := tc.name + "/unbound/" + cmd
				if bound {
					name = tc.name + "/bound/" + cmd
				}
				t.Run(name, func(t *testing.T) {
					pv := newPlantedVolume(t)
					pv.plant(t, bound, tc.j, tc.files, tc.links)
					before := pv.outsideHash(t)
					err := run(pv.root)
					if after := pv.outsideHash(t); after != before {
						t.Fatalf("a file outside the volume changed (command error: %v)", err)
					}
					if err == nil {
						t.Fatal("the planted journal was accepted")
					}
					if !bound && !errors.Is(err, errNotOurs) {
						t.Errorf("an unbound journal refused for another reason: %v", err)
					}
				})
			}
		}
	}
}

// TestJournalDirectoryLinkRefused: reseal-journal itself as a link to a
// directory holding a journal is never read.
func TestJournalDirectoryLinkRefused(t *testing.T) {
	pv := newPlantedVolume(t)
	elsewhere := filepath.Join(pv.base, "elsewhere")
	must(t, os.MkdirAll(filepath.Join(elsewhere, stagedDir), 0o755))
	must(t, os.WriteFile(filepath.Join(elsewhere, journalFile), []byte(`{"version":1,"state":"committed","steps":[]}`), 0o644))
	must(t, os.Symlink(elsewhere, filepath.Join(pv.root, journalDir)))
	before := treeHash(t, pv.base)
	if _, err := RecoverJournal(pv.root); !errors.Is(err, errNotOurs) {
		t.Fatalf("err = %v", err)
	}
	if treeHash(t, pv.base) != before {
		t.Error("a refused journal changed something")
	}
}

// TestJournalCopiedFromAnotherVolume: a genuine, bound journal copied with
// its binding to another volume (as a WIM or a file copy carries it) is
// not this volume's own.
func TestJournalCopiedFromAnotherVolume(t *testing.T) {
	a := newPlantedVolume(t)
	must(t, os.WriteFile(filepath.Join(a.root, "a.txt"), []byte("old"), 0o644))
	a.plant(t, true, journal{Version: journalVersion, State: stateCommitted, Steps: []step{{Op: "replace", Path: "a.txt", Staged: "staged/0000"}}},
		map[string]string{"staged/0000": "new"}, nil)
	b := filepath.Join(t.TempDir(), "vol")
	copyTree(t, a.root, b)
	before := treeHash(t, b)
	if _, err := RecoverJournal(b); !errors.Is(err, errNotOurs) {
		t.Fatalf("err = %v", err)
	}
	if treeHash(t, b) != before {
		t.Error("the copied journal changed the volume")
	}
	// On the volume it belongs to, it rolls forward.
	if _, err := RecoverJournal(a.root); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(a.root, "a.txt")); string(data) != "new" {
		t.Errorf("a.txt = %q", data)
	}
}
