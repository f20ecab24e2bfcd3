package sysprep

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/reseal/reseal/hive"
	"github.com/reseal/reseal/internal/testenv"
	"github.com/reseal/reseal/sample"
	"github.com/reseal/reseal/winimage"
)

// writeSample writes the sample volume with the given blockers.
func writeSample(t testing.TB, windows string, blockers ...string) string {
	t.Helper()
	dir := t.TempDir()
	if err := sample.Write(dir, sample.Options{Windows: windows, Blockers: blockers, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestSampleCleanGeneralizes(t *testing.T) {
	for _, w := range sample.WindowsVersions() {
		t.Run(w, func(t *testing.T) {
			root := writeSample(t, w)
			r, err := Preflight(context.Background(), root, Options{Now: fixedNow})
			if err != nil {
				t.Fatal(err)
			}
			if r.HasErrors() {
				t.Fatalf("clean sample refused: %+v", r.Findings)
			}
			for _, f := range r.Findings {
				t.Logf("%s %s: %s", f.Severity, f.ID, f.Message)
			}
			g, err := Generalize(context.Background(), root, Options{Now: fixedNow})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d actions, not run offline: %v", len(g.Actions), g.NotRunOffline)
			// Every hive written back passes reseal's structural check and
			// opens in hivex, which walks it whole.
			py := testenv.PythonHivex(t)
			for _, n := range []string{"SYSTEM", "SOFTWARE", "SAM", "SECURITY", "DEFAULT"} {
				p := filepath.Join(root, "Windows", "System32", "config", n)
				h, err := hive.Open(p, &hive.OpenOptions{ReadOnly: true})
				if err != nil {
					t.Fatal(err)
				}
				if probs := h.Check(); len(probs) > 0 {
					t.Errorf("%s: %v", n, probs[:min(3, len(probs))])
				}
				h.Close()
				if len(dumpWithHivex(t, py, p)) == 0 {
					t.Errorf("hivex sees no keys in %s", n)
				}
			}
		})
	}
}

func TestSampleBlockers(t *testing.T) {
	for _, b := range sample.Blockers() {
		t.Run(b.Name, func(t *testing.T) {
			root := writeSample(t, "", b.Name)
			before := treeHash(t, root)
			r, err := Generalize(context.Background(), root, Options{Now: fixedNow})
			var ids []string
			for _, f := range r.Findings {
				ids = append(ids, f.ID)
				if f.ID == b.Finding {
					t.Logf("%s: %s | where %s | fix %s", f.Severity, f.Message, f.Where, f.Fix)
				}
			}
			if !slices.Contains(ids, b.Finding) {
				t.Fatalf("finding %s missing; got %v", b.Finding, ids)
			}
			if b.Severity == "error" {
				if !errors.Is(err, ErrRefused) {
					t.Fatalf("err = %v, want ErrRefused", err)
				}
				if treeHash(t, root) != before {
					t.Error("a refused generalize changed the volume")
				}
			} else if err != nil {
				t.Fatalf("warning-only blocker refused: %v", err)
			}
		})
	}
}

// TestDamagedStateRepositoryRefuses: a state repository SQLite cannot read
// is not taken as "no packages": preflight refuses with appx-unreadable and
// the volume stays unchanged.
func TestDamagedStateRepositoryRefuses(t *testing.T) {
	root := writeSample(t, "10")
	srd := filepath.Join(root, filepath.FromSlash(winimage.StateRepositoryPath))
	os.Remove(srd + "-wal")
	if err := os.WriteFile(srd, []byte("SQLite format 3\x00 but not really a database................................................................................................"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := treeHash(t, root)
	r, err := Generalize(context.Background(), root, Options{Now: fixedNow})
	if !errors.Is(err, ErrRefused) || !slices.Contains(findingIDs(r.Findings, SeverityError), "appx-unreadable") {
		t.Fatalf("err %v, findings %+v", err, r.Findings)
	}
	if treeHash(t, root) != before {
		t.Error("volume changed")
	}
}
