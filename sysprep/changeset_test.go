package sysprep

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/reseal/reseal/internal/atomicfile"
	"github.com/reseal/reseal/winimage"
)

// plainCommitter is the simplest backend that commits itself: a directory
// changed in place, without a journal. It shows what a Committer must do
// with each kind of change, and lets the change set be compared with the
// journaled commit on the same volume.
type plainCommitter struct {
	*winimage.DirBackend
	commits int
}

func (p *plainCommitter) Commit(ctx context.Context, cs *winimage.ChangeSet) error {
	p.commits++
	for _, c := range cs.Changes {
		if err := ctx.Err(); err != nil {
			return err
		}
		host := filepath.Join(p.Root(), filepath.FromSlash(c.Path))
		switch c.Op {
		case winimage.ChangeRemove:
			if err := os.RemoveAll(host); err != nil {
				return err
			}
		case winimage.ChangeWrite:
			if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
				return err
			}
			if err := atomicfile.WriteBytes(host, 0o644, c.Content); err != nil {
				return err
			}
		case winimage.ChangeHive:
			f, err := os.Create(host)
			if err != nil {
				return err
			}
			if _, err := c.Hive.WriteTo(f); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			for _, l := range c.Logs {
				if err := os.Truncate(filepath.Join(p.Root(), filepath.FromSlash(l)), 0); err != nil {
					return err
				}
			}
		default:
			return errors.New("unknown change")
		}
	}
	return nil
}

// TestChangeSetMatchesJournal generalizes one volume through the journal
// and a copy of it through a change set committed by another backend: the
// two end the same (hives compared by content).
func TestChangeSetMatchesJournal(t *testing.T) {
	golden := writeSample(t, "11")
	journaled := filepath.Join(t.TempDir(), "vol")
	copyTree(t, golden, journaled)
	if _, err := Generalize(context.Background(), journaled, Options{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	viaSet := filepath.Join(t.TempDir(), "vol")
	copyTree(t, golden, viaSet)
	dir, err := winimage.NewDirBackend(viaSet)
	if err != nil {
		t.Fatal(err)
	}
	pc := &plainCommitter{DirBackend: dir}
	pre, err := Preflight(context.Background(), viaSet, Options{Now: fixedNow, Backend: pc})
	if err != nil || pre.HasErrors() {
		t.Fatalf("preflight through the backend: %v %+v", err, pre.Findings)
	}
	r, err := Generalize(context.Background(), viaSet, Options{Now: fixedNow, Backend: pc})
	if err != nil {
		t.Fatal(err)
	}
	if pc.commits != 1 || len(r.Actions) == 0 {
		t.Fatalf("%d commits of %d actions", pc.commits, len(r.Actions))
	}
	if _, err := os.Stat(filepath.Join(viaSet, journalDir)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a backend that commits itself got a journal: %v", err)
	}
	if a, b := logicalHash(t, journaled), logicalHash(t, viaSet); a != b {
		t.Errorf("the change set left the volume different from the journaled commit")
	}
}

// TestBackendWithoutCommitRefused: a backend that cannot commit is read
// (preflight, dry run) but never generalized.
func TestBackendWithoutCommitRefused(t *testing.T) {
	root := writeSample(t, "10")
	dir, err := winimage.NewDirBackend(root)
	if err != nil {
		t.Fatal(err)
	}
	before := treeHash(t, root)
	if _, err := Generalize(context.Background(), root, Options{Now: fixedNow, Backend: dir}); err == nil {
		t.Fatal("a read-only backend was generalized")
	}
	r, err := Generalize(context.Background(), root, Options{Now: fixedNow, Backend: dir, DryRun: true})
	if err != nil || len(r.Actions) == 0 {
		t.Fatalf("dry run: %v, %d actions", err, len(r.Actions))
	}
	if treeHash(t, root) != before {
		t.Error("the volume changed")
	}
}
