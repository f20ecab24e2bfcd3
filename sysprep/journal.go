package sysprep

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reseal/reseal/internal/atomicfile"
)

// journalDir is the directory at the volume root that exists only while a
// commit is under way. It holds the staged files, the files being deleted
// and journal.json, which lists the steps of the commit.
const journalDir = "reseal-journal"

const (
	journalFile    = "journal.json"
	stagedDir      = "staged"
	trashDir       = "trash"
	journalVersion = 1
	stateCommitted = "committed" // every file is staged: roll forward
	stateDone      = "done"      // every step is carried out: clean up
)

// journal is the durable description of a commit. Its presence with state
// "committed" is the commit point: before it, nothing on the volume has
// changed and a crash rolls back; after it, every step can be redone and a
// crash rolls forward.
type journal struct {
	Version int       `json:"version"`
	State   string    `json:"state"`
	Created time.Time `json:"created"`
	Target  string    `json:"target"` // for people reading it; not used
	Steps   []step    `json:"steps"`
}

// step is one rename. Paths are relative: Path to the volume root, Staged
// and Trash to the journal directory.
type step struct {
	Op     string `json:"op"` // "replace" (Staged -> Path) or "delete" (Path -> Trash)
	Path   string `json:"path"`
	Staged string `json:"staged,omitempty"`
	Trash  string `json:"trash,omitempty"`
}

// errCrash is how tests stop a commit or a recovery abruptly, the way a kill
// would: nothing after that point runs, nothing is cleaned up.
var errCrash = errors.New("simulated crash")

// crashPoints counts the durable steps of a commit or recovery and stops at
// the chosen one (0 = never).
type crashPoints struct {
	at, n int
}

func (c *crashPoints) point() error {
	if c == nil {
		return nil
	}
	c.n++
	if c.at > 0 && c.n == c.at {
		return errCrash
	}
	return nil
}

// RecoverJournal finishes or rolls back a commit interrupted on the volume
// at target (killed, power lost, disk full), and says which; "" when there
// was nothing to recover. Every reseal command that opens a volume calls it
// first. It holds the volume's lock (LockFile) while it works; on a
// read-only volume, which nobody can change, it only looks.
func RecoverJournal(target string) (_ string, err error) {
	lock, err := lockVolume(target)
	if err != nil && !readOnlyVolume(err) {
		return "", err
	}
	defer func() { err = errors.Join(err, lock.release()) }()
	return recoverJournal(target, nil)
}

func recoverJournal(target string, crash *crashPoints) (string, error) {
	jdir := filepath.Join(target, journalDir)
	if _, err := os.Lstat(jdir); errors.Is(err, fs.ErrNotExist) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("journal %s: %w", jdir, err)
	}
	data, err := os.ReadFile(filepath.Join(jdir, journalFile))
	if errors.Is(err, fs.ErrNotExist) {
		// The commit never reached its commit point: only the journal
		// directory was written.
		return rollBack(target)
	}
	if err != nil {
		return "", fmt.Errorf("journal %s: %w", jdir, err)
	}
	var j journal
	if err := json.Unmarshal(data, &j); err != nil {
		return "", fmt.Errorf("journal %s: %w (left as it is; inspect it before deleting it)", filepath.Join(jdir, journalFile), err)
	}
	if j.Version != journalVersion {
		return "", fmt.Errorf("journal %s: version %d, this reseal knows %d", jdir, j.Version, journalVersion)
	}
	if err := j.validate(); err != nil {
		return "", fmt.Errorf("journal %s: %w", jdir, err)
	}
	if j.State == stateDone {
		if err := removeJournal(target, crash); err != nil {
			return "", err
		}
		return "finished an interrupted generalize: all its changes were already made; its journal was removed", nil
	}
	if j.State != stateCommitted {
		return "", fmt.Errorf("journal %s: unknown state %q", jdir, j.State)
	}
	done, err := carryOut(target, &j, crash)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("rolled forward an interrupted generalize (journal of %s): %d of %d steps were finished now; the volume is fully generalized",
		j.Created.UTC().Format(time.RFC3339), done, len(j.Steps)), nil
}

func (j *journal) validate() error {
	for i, s := range j.Steps {
		if !localPath(s.Path) || (s.Staged != "" && !localPath(s.Staged)) || (s.Trash != "" && !localPath(s.Trash)) {
			return fmt.Errorf("step %d: a path leaves the volume", i)
		}
		if first, _, _ := strings.Cut(s.Path, "/"); strings.EqualFold(first, journalDir) {
			return fmt.Errorf("step %d: targets the journal itself", i)
		}
		switch {
		case s.Op == "replace" && s.Staged != "":
		case s.Op == "delete" && s.Trash != "":
		default:
			return fmt.Errorf("step %d: malformed %q step", i, s.Op)
		}
	}
	return nil
}

func localPath(p string) bool {
	return p != "" && filepath.IsLocal(filepath.FromSlash(p)) && !strings.Contains(p, `\`)
}

// carryOut performs every step that is not done yet (each step is a rename
// that is skipped when already made), marks the journal done and removes
// it. It returns how many steps it performed.
func carryOut(target string, j *journal, crash *crashPoints) (int, error) {
	jdir := filepath.Join(target, journalDir)
	dirs := map[string]bool{}
	done := 0
	for i, s := range j.Steps {
		p := filepath.Join(target, filepath.FromSlash(s.Path))
		dirs[filepath.Dir(p)] = true
		switch s.Op {
		case "replace":
			staged := filepath.Join(jdir, filepath.FromSlash(s.Staged))
			if _, err := os.Lstat(staged); errors.Is(err, fs.ErrNotExist) {
				continue // made before the interruption
			}
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return done, fmt.Errorf("journal step %d: %w", i, err)
			}
			if err := os.Rename(staged, p); err != nil {
				return done, fmt.Errorf("journal step %d: replace %s: %w", i, p, err)
			}
		case "delete":
			if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
				continue
			}
			trash := filepath.Join(jdir, filepath.FromSlash(s.Trash))
			if err := os.MkdirAll(filepath.Dir(trash), 0o755); err != nil {
				return done, fmt.Errorf("journal step %d: %w", i, err)
			}
			if err := os.Rename(p, trash); err != nil {
				return done, fmt.Errorf("journal step %d: delete %s: %w", i, p, err)
			}
		}
		done++
		if err := crash.point(); err != nil {
			return done, err
		}
	}
	for d := range dirs {
		if err := atomicfile.SyncDir(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return done, err
		}
	}
	if err := crash.point(); err != nil {
		return done, err
	}
	j.State = stateDone
	if err := writeJournal(jdir, j); err != nil {
		return done, err
	}
	if err := crash.point(); err != nil {
		return done, err
	}
	return done, removeJournal(target, crash)
}

func writeJournal(jdir string, j *journal) error {
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(jdir, journalFile), 0o644, append(data, '\n')); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	return nil
}

// removeJournal deletes the journal directory: the staged and deleted
// files first, journal.json next, the empty directory last, so that an
// interruption leaves either a journal that says what happened or an empty
// directory.
func removeJournal(target string, crash *crashPoints) error {
	jdir := filepath.Join(target, journalDir)
	for _, sub := range []string{stagedDir, trashDir} {
		if err := os.RemoveAll(filepath.Join(jdir, sub)); err != nil {
			return fmt.Errorf("remove journal: %w", err)
		}
	}
	if err := crash.point(); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(jdir, journalFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove journal: %w", err)
	}
	if err := crash.point(); err != nil {
		return err
	}
	if err := os.RemoveAll(jdir); err != nil {
		return fmt.Errorf("remove journal %s: %w", jdir, err)
	}
	return atomicfile.SyncDir(target)
}

// rollBack removes a journal that never reached its commit point.
func rollBack(target string) (string, error) {
	jdir := filepath.Join(target, journalDir)
	entries, err := os.ReadDir(jdir)
	if err != nil {
		return "", fmt.Errorf("journal %s: %w", jdir, err)
	}
	if err := os.RemoveAll(jdir); err != nil {
		return "", fmt.Errorf("remove journal %s: %w", jdir, err)
	}
	if err := atomicfile.SyncDir(target); err != nil {
		return "", err
	}
	if len(entries) == 0 {
		return "removed an empty reseal-journal directory (an interrupted start or end of a commit; nothing to roll forward or back)", nil
	}
	return "rolled back an interrupted generalize: it had not reached its commit point, so the volume was unchanged; its staging area was removed", nil
}
