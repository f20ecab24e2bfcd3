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

// FuzzReadLog: whatever the log file holds, readLog returns a beginning of
// it from which recovery reads exactly what it reads from the whole file
// (the same entries, pages and highest sequence number).
func FuzzReadLog(f *testing.F) {
	dir := testenv.CorpusDir()
	for _, name := range []string{"regipy/UsrClass.dat.LOG1", "regipy/transactions_ntuser.dat.log2", "dfwinreg/NTUSER.DAT.LOG"} {
		if b, err := os.ReadFile(filepath.Join(dir, "hives", filepath.FromSlash(name))); err == nil && len(b) <= 1<<20 {
			f.Add(b)
		}
	}
	f.Add([]byte("regf"))
	tmp := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(tmp, "HIVE.LOG1")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		part, err := readLog(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, part) {
			t.Fatalf("readLog returned %d bytes that are not the file's beginning", len(part))
		}
		a, b := logFile{raw: data}, logFile{raw: part}
		if a.maxSeq() != b.maxSeq() {
			t.Fatalf("maxSeq %d, whole file %d", b.maxSeq(), a.maxSeq())
		}
		ea, eb := a.entries(), b.entries()
		if len(ea) != len(eb) {
			t.Fatalf("%d entries, whole file %d", len(eb), len(ea))
		}
		for i := range ea {
			if ea[i].seq != eb[i].seq || ea[i].binsSize != eb[i].binsSize || len(ea[i].pages) != len(eb[i].pages) {
				t.Fatalf("entry %d differs", i)
			}
			for j := range ea[i].pages {
				if ea[i].pages[j].off != eb[i].pages[j].off || !bytes.Equal(ea[i].pages[j].data, eb[i].pages[j].data) {
					t.Fatalf("entry %d page %d differs", i, j)
				}
			}
		}
		// An old-format or unrecognised log is read whole.
		if bb, ok := a.logBase(); (!ok || bb.fileType() != fileTypeLogNew) && len(part) != len(data) {
			t.Fatalf("not a new-format log, read %d of %d bytes", len(part), len(data))
		}
	})
}
