package hive

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

// TestReadLogKeepsWhatRecoveryUses reads every transaction log of the
// corpus both whole and with readLog (which stops after the last
// well-formed entry of a new-format log): the entries recovery sees, their
// pages and the highest sequence number are the same, and an old-format
// log is read whole.
func TestReadLogKeepsWhatRecoveryUses(t *testing.T) {
	dir := testenv.Corpus(t, "hives")
	var logs []string
	for _, pat := range []string{"*/*.LOG*", "*/*.log*"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		logs = append(logs, m...)
	}
	if len(logs) < 9 {
		t.Fatalf("found %d corpus logs, want at least 9", len(logs))
	}
	shorter := 0
	for _, p := range logs {
		whole, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		part, err := readLog(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if !bytes.HasPrefix(whole, part) {
			t.Errorf("%s: readLog's bytes are not the file's beginning", p)
		}
		a, b := logFile{path: p, raw: whole}, logFile{path: p, raw: part}
		if bb, ok := a.logBase(); !ok || bb.fileType() != fileTypeLogNew {
			if len(part) != len(whole) {
				t.Errorf("%s: not a new-format log, read %d of %d bytes", p, len(part), len(whole))
			}
			continue
		}
		if a.maxSeq() != b.maxSeq() {
			t.Errorf("%s: maxSeq %d, whole file %d", p, b.maxSeq(), a.maxSeq())
		}
		ea, eb := a.entries(), b.entries()
		if len(ea) != len(eb) {
			t.Fatalf("%s: %d entries, whole file %d", p, len(eb), len(ea))
		}
		for i := range ea {
			if ea[i].seq != eb[i].seq || len(ea[i].pages) != len(eb[i].pages) {
				t.Fatalf("%s: entry %d differs", p, i)
			}
			for j := range ea[i].pages {
				if ea[i].pages[j].off != eb[i].pages[j].off || !bytes.Equal(ea[i].pages[j].data, eb[i].pages[j].data) {
					t.Fatalf("%s: entry %d page %d differs", p, i, j)
				}
			}
		}
		if len(part) < len(whole) {
			shorter++
		}
		t.Logf("%s: %d entries, read %d of %d bytes", filepath.Base(p), len(eb), len(part), len(whole))
	}
	if shorter == 0 {
		t.Error("no corpus log had stale bytes after its entries; the test proves less than it should")
	}
}
