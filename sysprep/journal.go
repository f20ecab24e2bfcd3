package sysprep

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/reseal/reseal/internal/beneath"
)

// journalDir is the directory at the volume root that exists only while a
// commit is under way. It holds the staged files, the files being deleted
// and journal.json, which lists the steps of the commit.
const journalDir = "reseal-journal"

// journalBinding is the file at the volume root, outside the journal
// directory, that proves a journal is this volume's own and this run's: it
// holds the run's random identifier, which journal.json repeats, and the
// identity (inode) of the journal directory the run created. A journal
// copied in (from a WIM, another volume, an attacker) has no binding, or
// one naming another directory, and is refused before any step.
const journalBinding = "reseal-journal.id"

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
	Run     string    `json:"run"`    // the run's identifier, as in journalBinding
	Steps   []step    `json:"steps"`
}

// binding is journalBinding's content.
type binding struct {
	Run string `json:"run"`
	Dir string `json:"journal_dir"` // beneath.FileID of the journal directory; "" where unknown
}

// maxJournalSize bounds what is read of journal.json: a real one lists a
// few thousand steps of under 200 bytes.
const maxJournalSize = 64 << 20

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
//
// The journal is hostile input: a volume may come from anywhere. Recovery
// follows no link in any component of any path (internal/beneath), needs
// reseal-journal, staged and trash to be real directories, and carries
// out nothing unless the journal is bound to this volume and its run
// (journalBinding).
func RecoverJournal(target string) (_ string, err error) {
	lock, lockNote, err := lockForReading(target)
	if err != nil {
		return "", err
	}
	defer func() { err = errors.Join(err, lock.release()) }()
	if lockNote != "" {
		return "", journalAbsent(target)
	}
	return recoverJournal(target, nil)
}

// journalAbsent is the recovery of a run that may not write the volume: it
// fails when there is a journal, which only a run that can write may
// finish or roll back.
func journalAbsent(target string) error {
	vol, err := beneath.Open(target)
	if err != nil {
		return fmt.Errorf("volume %s: %w", target, err)
	}
	defer vol.Close()
	if _, err := vol.Lstat(journalDir); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("journal %s: %w", vol.Path(journalDir), err)
	}
	return fmt.Errorf("journal %s: the volume holds an interrupted generalize, which cannot be finished or rolled back without writing to it; run reseal on it where it can be written", vol.Path(journalDir))
}

// errNotOurs is wrapped when a journal directory is not provably reseal's
// own on this volume.
var errNotOurs = errors.New("not provably this volume's own reseal journal")

func recoverJournal(target string, crash *crashPoints) (_ string, err error) {
	vol, err := beneath.Open(target)
	if err != nil {
		return "", fmt.Errorf("volume %s: %w", target, err)
	}
	defer vol.Close()
	jdir := vol.Path(journalDir)
	if _, err := vol.Lstat(journalDir); errors.Is(err, fs.ErrNotExist) {
		// A binding alone is what an interruption after the journal's
		// removal leaves.
		return "", removeBinding(vol)
	} else if err != nil {
		return "", fmt.Errorf("journal %s: %w", jdir, err)
	}
	if ok, err := vol.IsRealDir(journalDir); err != nil || !ok {
		return "", fmt.Errorf("journal %s: %w: it is a link or not a directory; left as it is", jdir, errNotOurs)
	}
	b, err := readBinding(vol)
	if errors.Is(err, fs.ErrNotExist) {
		// A run is interrupted between creating the directory and binding
		// it: the directory is still empty. Anything else is not ours.
		if err := vol.Remove(journalDir); err != nil {
			return "", fmt.Errorf("journal %s: %w: %s is missing; left as it is (remove it yourself if you know where it came from)", jdir, errNotOurs, journalBinding)
		}
		return "removed an empty reseal-journal directory (an interrupted start or end of a commit; nothing to roll forward or back)", vol.SyncDir("")
	}
	if err != nil {
		return "", fmt.Errorf("journal %s: %w: %w", jdir, errNotOurs, err)
	}
	if id, err := vol.FileID(journalDir); err != nil {
		return "", fmt.Errorf("journal %s: %w", jdir, err)
	} else if id != b.Dir {
		return "", fmt.Errorf("journal %s: %w: %s names another directory (copied from elsewhere?); left as it is", jdir, errNotOurs, journalBinding)
	}
	for _, sub := range []string{stagedDir, trashDir} {
		name := journalDir + "/" + sub
		if ok, err := vol.IsRealDir(name); errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil || !ok {
			return "", fmt.Errorf("journal %s: %w: %s is a link or not a directory; left as it is", jdir, errNotOurs, sub)
		}
	}
	data, err := vol.ReadFile(journalDir+"/"+journalFile, maxJournalSize)
	if errors.Is(err, fs.ErrNotExist) {
		// The commit never reached its commit point: only the journal
		// directory was written.
		return rollBack(vol, crash)
	}
	if err != nil {
		return "", fmt.Errorf("journal %s: %w", jdir, err)
	}
	var j journal
	if err := json.Unmarshal(data, &j); err != nil {
		return "", fmt.Errorf("journal %s: %w (left as it is; inspect it before deleting it)", vol.Path(journalDir+"/"+journalFile), err)
	}
	if j.Run == "" || j.Run != b.Run {
		return "", fmt.Errorf("journal %s: %w: its run is not the one %s names; left as it is", jdir, errNotOurs, journalBinding)
	}
	if j.Version != journalVersion {
		return "", fmt.Errorf("journal %s: version %d, this reseal knows %d", jdir, j.Version, journalVersion)
	}
	if err := j.validate(); err != nil {
		return "", fmt.Errorf("journal %s: %w", jdir, err)
	}
	if j.State == stateDone {
		if err := removeJournal(vol, crash); err != nil {
			return "", err
		}
		return "finished an interrupted generalize: all its changes were already made; its journal was removed", nil
	}
	if j.State != stateCommitted {
		return "", fmt.Errorf("journal %s: unknown state %q", jdir, j.State)
	}
	done, err := carryOut(vol, &j, crash)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("rolled forward an interrupted generalize (journal of %s): %d of %d steps were finished now; the volume is fully generalized",
		j.Created.UTC().Format(time.RFC3339), done, len(j.Steps)), nil
}

func readBinding(vol *beneath.Dir) (binding, error) {
	var b binding
	data, err := vol.ReadFile(journalBinding, 4096)
	if err != nil {
		return b, err
	}
	if err := json.Unmarshal(data, &b); err != nil || b.Run == "" {
		return b, fmt.Errorf("%s is malformed", journalBinding)
	}
	return b, nil
}

// bindJournal writes journalBinding for the journal directory just
// created, durably, and returns the run's identifier.
func bindJournal(vol *beneath.Dir) (string, error) {
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	id, err := vol.FileID(journalDir)
	if err != nil {
		return "", err
	}
	b := binding{Run: hex.EncodeToString(raw[:]), Dir: id}
	data, err := json.Marshal(b)
	if err != nil {
		return "", err
	}
	if err := writeSyncedAt(vol, journalBinding, append(data, '\n')); err != nil {
		return "", fmt.Errorf("bind journal: %w", err)
	}
	return b.Run, vol.SyncDir("")
}

// removeBinding removes journalBinding when it is a regular file; a
// missing one is no error.
func removeBinding(vol *beneath.Dir) error {
	fi, err := vol.Lstat(journalBinding)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file; left as it is", vol.Path(journalBinding))
	}
	if err := vol.Remove(journalBinding); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove journal: %w", err)
	}
	return vol.SyncDir("")
}

func (j *journal) validate() error {
	for i, s := range j.Steps {
		if !localPath(s.Path) || (s.Staged != "" && !localPath(s.Staged)) || (s.Trash != "" && !localPath(s.Trash)) {
			return fmt.Errorf("step %d: a path leaves the volume", i)
		}
		first, _, _ := strings.Cut(s.Path, "/")
		if strings.EqualFold(first, journalDir) || (strings.EqualFold(s.Path, journalBinding)) {
			return fmt.Errorf("step %d: targets the journal itself", i)
		}
		switch {
		case s.Op == "replace" && strings.HasPrefix(s.Staged, stagedDir+"/") && s.Trash == "":
		case s.Op == "delete" && strings.HasPrefix(s.Trash, trashDir+"/") && s.Staged == "":
		default:
			return fmt.Errorf("step %d: malformed %q step", i, s.Op)
		}
	}
	return nil
}

func localPath(p string) bool {
	if p == "" || !filepath.IsLocal(filepath.FromSlash(p)) || strings.Contains(p, `\`) {
		return false
	}
	for _, c := range strings.Split(p, "/") {
		if c == "" || c == "." || c == ".." {
			return false
		}
	}
	return true
}

// carryOut performs every step that is not done yet (each step is a rename
// that is skipped when already made), marks the journal done and removes
// it. It returns how many steps it performed. Every path is used through
// vol, which follows no link.
func carryOut(vol *beneath.Dir, j *journal, crash *crashPoints) (int, error) {
	dirs := map[string]bool{}
	done := 0
	for i, s := range j.Steps {
		p := vol.Path(s.Path)
		if d := pathDir(s.Path); d != "" {
			dirs[d] = true
		} else {
			dirs[""] = true
		}
		switch s.Op {
		case "replace":
			staged := journalDir + "/" + s.Staged
			fi, err := vol.Lstat(staged)
			if errors.Is(err, fs.ErrNotExist) {
				continue // made before the interruption
			}
			if err != nil {
				return done, fmt.Errorf("journal step %d: %w", i, err)
			}
			if !fi.Mode().IsRegular() {
				return done, fmt.Errorf("journal step %d: %s is not a regular file", i, vol.Path(staged))
			}
			if d := pathDir(s.Path); d != "" {
				if err := vol.MkdirAll(d, 0o755); err != nil {
					return done, fmt.Errorf("journal step %d: %w", i, err)
				}
			}
			if err := vol.Rename(staged, s.Path); err != nil {
				return done, fmt.Errorf("journal step %d: replace %s: %w", i, p, err)
			}
		case "delete":
			if _, err := vol.Lstat(s.Path); errors.Is(err, fs.ErrNotExist) {
				continue
			} else if err != nil {
				return done, fmt.Errorf("journal step %d: delete %s: %w", i, p, err)
			}
			trash := journalDir + "/" + s.Trash
			if err := vol.MkdirAll(pathDir(trash), 0o755); err != nil {
				return done, fmt.Errorf("journal step %d: %w", i, err)
			}
			if err := vol.Rename(s.Path, trash); err != nil {
				return done, fmt.Errorf("journal step %d: delete %s: %w", i, p, err)
			}
		}
		done++
		if err := crash.point(); err != nil {
			return done, err
		}
	}
	for d := range dirs {
		if err := vol.SyncDir(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return done, err
		}
	}
	if err := crash.point(); err != nil {
		return done, err
	}
	j.State = stateDone
	if err := writeJournal(vol, j); err != nil {
		return done, err
	}
	if err := crash.point(); err != nil {
		return done, err
	}
	return done, removeJournal(vol, crash)
}

// pathDir is the slash-separated parent of a local name, "" at the root.
func pathDir(name string) string {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return ""
	}
	return name[:i]
}

// writeJournal replaces journal.json atomically: written to a new name
// beside it, synced, renamed over it.
func writeJournal(vol *beneath.Dir, j *journal) error {
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	tmp := journalDir + "/." + journalFile + ".new"
	if err := vol.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("write journal: %w", err)
	}
	if err := writeSyncedAt(vol, tmp, append(data, '\n')); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	if err := vol.Rename(tmp, journalDir+"/"+journalFile); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	return vol.SyncDir(journalDir)
}

// removeJournal deletes the journal directory: the staged and deleted
// files first, journal.json next, the empty directory and the binding
// last, so that an interruption leaves either a journal that says what
// happened or an empty directory.
func removeJournal(vol *beneath.Dir, crash *crashPoints) error {
	for _, sub := range []string{stagedDir, trashDir} {
		if err := vol.RemoveAll(journalDir + "/" + sub); err != nil {
			return fmt.Errorf("remove journal: %w", err)
		}
	}
	if err := crash.point(); err != nil {
		return err
	}
	if err := vol.Remove(journalDir + "/" + journalFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove journal: %w", err)
	}
	if err := crash.point(); err != nil {
		return err
	}
	if err := vol.RemoveAll(journalDir); err != nil {
		return fmt.Errorf("remove journal %s: %w", vol.Path(journalDir), err)
	}
	if err := vol.SyncDir(""); err != nil {
		return err
	}
	return removeBinding(vol)
}

// rollBack removes a bound journal that never reached its commit point.
func rollBack(vol *beneath.Dir, crash *crashPoints) (string, error) {
	if err := vol.RemoveAll(journalDir); err != nil {
		return "", fmt.Errorf("remove journal %s: %w", vol.Path(journalDir), err)
	}
	if err := vol.SyncDir(""); err != nil {
		return "", err
	}
	if err := crash.point(); err != nil {
		return "", err
	}
	if err := removeBinding(vol); err != nil {
		return "", err
	}
	return "rolled back an interrupted generalize: it had not reached its commit point, so the volume was unchanged; its staging area was removed", nil
}

// writeSyncedAt creates name below vol (it must not exist), writes content
// and syncs it.
func writeSyncedAt(vol *beneath.Dir, name string, content []byte) error {
	f, err := vol.Create(name, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", vol.Path(name), err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", vol.Path(name), err)
	}
	return f.Close()
}
