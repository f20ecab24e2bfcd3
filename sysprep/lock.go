package sysprep

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/reseal/reseal/internal/beneath"
)

// LockFile is the file at the volume root that exists while a reseal
// command reads or changes the volume. It is created with O_EXCL, so only
// one run at a time holds it; it names its holder (process id, host, start
// time) so that a second run can say who holds it and can take over a lock
// whose holder died.
const LockFile = "reseal.lock"

// takeoverFile is held, also with O_EXCL, for the instant it takes to
// replace a stale lock, so that two runs finding the same stale lock do not
// both take it over.
const takeoverFile = "reseal.lock.takeover"

// maxLockSize caps what is read of a lock file: a real one is under 200
// bytes.
const maxLockSize = 4096

// lockTempPrefix begins the name a lock is written under before it is
// linked into place as LockFile: the lock appears whole or not at all, so
// a kill right after its creation cannot leave an empty one.
const lockTempPrefix = "reseal.lock.new-"

// emptyLockAge is how old an empty lock file must be to count as stale.
// reseal writes locks whole (lockTempPrefix); an empty one comes from an
// older reseal or a file system without hard links, whose writer died in
// the microseconds between creating and writing it.
const emptyLockAge = time.Minute

// LockHolder is what a lock file says about the run holding it.
type LockHolder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
	// Where the platform tells them (Linux): the boot the lock was taken
	// in and the process's start time in clock ticks since that boot, so
	// that a lock from before a reboot, or a pid since reused by another
	// process, is recognised as stale.
	Boot      string `json:"boot,omitempty"`
	ProcStart string `json:"proc_start,omitempty"`
}

func (h LockHolder) String() string {
	return fmt.Sprintf("process %d on host %q, started %s", h.PID, h.Host, h.Started.UTC().Format(time.RFC3339))
}

// ErrLocked is wrapped by every run that found the volume locked by
// another one.
var ErrLocked = errors.New("the volume is in use by another reseal run")

// LockedError says which lock file stopped a run, who holds it (nil when
// the file cannot be read) and what to do.
type LockedError struct {
	Path   string      // the lock file
	Holder *LockHolder // nil: unreadable or empty
	Advice string
}

func (e *LockedError) Error() string {
	who := "an unknown holder (the lock file is empty or unreadable)"
	if e.Holder != nil {
		who = e.Holder.String()
	}
	return fmt.Sprintf("%v: lock file %s is held by %s; %s", ErrLocked, e.Path, who, e.Advice)
}

func (e *LockedError) Unwrap() error { return ErrLocked }

// volumeLock is a held lock; release removes it.
type volumeLock struct {
	path string
}

// lockVolume takes the volume's lock, taking over a stale one: a lock is
// stale only when it names this host and its process no longer exists
// (gone, from an earlier boot, or its pid now another process's). A
// lock from another host (the volume was mounted there, or is shared) may
// belong to a live run this host cannot see, so it is never taken over; the
// error tells the user how to remove it.
func lockVolume(target string) (*volumeLock, error) {
	if st, err := os.Stat(target); err != nil {
		return nil, err // names the user's path, not the lock's
	} else if !st.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", target)
	}
	path := filepath.Join(target, LockFile)
	me := LockHolder{PID: os.Getpid(), Started: time.Now().UTC().Truncate(time.Second), Boot: bootID()}
	me.ProcStart = processStart(me.PID)
	me.Host, _ = os.Hostname()
	cleanLockTemps(target, me)
	data, err := json.Marshal(me)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		err := createWhole(target, path, data)
		if err == nil {
			return &volumeLock{path: path}, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("lock volume: %w", err)
		}
		if attempt == 3 {
			return nil, &LockedError{Path: path, Advice: "other reseal runs keep taking it; retry"}
		}
		holder, err := readLock(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // released meanwhile
		}
		if errors.Is(err, beneath.ErrNotRegular) || errors.Is(err, beneath.ErrLink) {
			return nil, &LockedError{Path: path,
				Advice: "it is not a regular file (a link, FIFO or directory); remove it and retry"}
		}
		if err == nil && holder == nil && emptyAndOld(path) {
			// Its writer died between creating and writing it.
			if err := takeOver(target, path, nil); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil || holder == nil {
			return nil, &LockedError{Path: path, Holder: holder,
				Advice: "if no reseal run is using this volume on any machine, remove the lock file and retry"}
		}
		if holder.Host != me.Host {
			return nil, &LockedError{Path: path, Holder: holder,
				Advice: fmt.Sprintf("this host (%q) cannot tell whether that process still runs; if no reseal runs on %q against this volume, remove the lock file and retry", me.Host, holder.Host)}
		}
		if holderRuns(*holder, me.Boot) {
			return nil, &LockedError{Path: path, Holder: holder,
				Advice: "wait for it to finish"}
		}
		if err := takeOver(target, path, holder); err != nil {
			return nil, err
		}
	}
}

// holderRuns reports whether the holder of a lock taken on this host may
// still run: it does unless the lock comes from an earlier boot, no process
// has its pid, or the process with its pid started at another time than the
// holder (the pid was reused). What cannot be told counts as running.
func holderRuns(h LockHolder, thisBoot string) bool {
	if h.Boot != "" && thisBoot != "" && h.Boot != thisBoot {
		return false
	}
	if !processAlive(h.PID) {
		return false
	}
	if h.ProcStart != "" {
		if now := processStart(h.PID); now != "" && now != h.ProcStart {
			return false
		}
	}
	return true
}

// takeOver removes a stale lock, under the takeover file so that only one
// run removes it, and only if it is still the lock that was found stale.
func takeOver(target, path string, stale *LockHolder) error {
	tpath := filepath.Join(target, takeoverFile)
	if err := createExclusive(tpath, nil); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return &LockedError{Path: tpath, Advice: "another reseal run is taking over a stale lock; retry, and if this persists while no reseal runs, remove " + tpath}
		}
		return fmt.Errorf("lock volume: %w", err)
	}
	defer os.Remove(tpath)
	now, err := readLock(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case stale == nil && err == nil && now == nil && emptyAndOld(path):
	case err != nil || now == nil || stale == nil || *now != *stale:
		return &LockedError{Path: path, Holder: now, Advice: "it changed while this run was taking over a stale lock; retry"}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale lock: %w", err)
	}
	return nil
}

// createWhole creates the lock at path with data, whole: data is written
// and synced under a temporary name, which is then hard-linked to path (a
// link fails when path exists, as O_EXCL does). Where the file system has
// no hard links it falls back to createExclusive.
func createWhole(dir, path string, data []byte) error {
	tmp, err := os.CreateTemp(dir, lockTempPrefix+"*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = &fs.PathError{Op: "create", Path: path, Err: pe.Err}
		}
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	err = os.Link(tmp.Name(), path)
	if err == nil || errors.Is(err, fs.ErrExist) {
		return err
	}
	var le *os.LinkError
	if errors.As(err, &le) && (errors.Is(le.Err, syscall.EPERM) || errors.Is(le.Err, errors.ErrUnsupported) || isNoLinkSupport(le.Err)) {
		return createExclusive(path, data)
	}
	return err
}

// cleanLockTemps removes the temporary names of locks whose writers died
// before removing them (a temporary lives for the instant between writing
// and linking it): only reseal's own pattern, only regular files, and only
// when its holder is a process of this host that no longer runs, or it is
// older than emptyLockAge.
func cleanLockTemps(dir string, me LockHolder) {
	matches, _ := filepath.Glob(filepath.Join(dir, lockTempPrefix+"*"))
	for _, m := range matches {
		fi, err := os.Lstat(m)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		stale := time.Since(fi.ModTime()) > emptyLockAge
		if !stale {
			h, err := readLock(m)
			stale = err == nil && h != nil && h.Host == me.Host && h.PID != me.PID && !holderRuns(*h, me.Boot)
		}
		if stale {
			os.Remove(m)
		}
	}
}

// emptyAndOld reports whether the lock at path is an empty regular file
// last changed more than emptyLockAge ago.
func emptyAndOld(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Size() == 0 && time.Since(fi.ModTime()) > emptyLockAge
}

func createExclusive(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// readLock reads a lock file; a nil holder with no error means the file
// holds nothing readable (its writer died between creating and writing it).
func readLock(path string) (*LockHolder, error) {
	// Never blocks on a FIFO planted in its place, never follows a link.
	f, err := beneath.OpenRegularPath(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxLockSize))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var h LockHolder
	if json.Unmarshal(data, &h) != nil || h.PID <= 0 {
		return nil, nil
	}
	return &h, nil
}

// release removes the lock. It is safe on a nil lock.
func (l *volumeLock) release() error {
	if l == nil {
		return nil
	}
	if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("unlock volume: %w", err)
	}
	return nil
}

// readOnlyVolume reports whether err says the volume cannot be written:
// nobody can change it then, so a read-only run needs no lock.
func readOnlyVolume(err error) bool {
	return errors.Is(err, syscall.EROFS)
}

// cannotWrite reports whether err says this run may not create the lock:
// the volume is read-only, or the user may not write its root. A run that
// only reads (preflight, a dry run) goes on without a lock then, and says
// so.
func cannotWrite(err error) bool {
	return readOnlyVolume(err) || errors.Is(err, fs.ErrPermission)
}

// lockForReading takes the volume's lock for a run that only reads
// (preflight, a dry run, capture). Where the lock cannot be created
// because the volume cannot be written here (read-only media, no
// permission), nobody can change it through this mount either: the run
// goes on without a lock and the returned note says so.
func lockForReading(target string) (*volumeLock, string, error) {
	lock, err := lockVolume(target)
	if err == nil {
		return lock, "", nil
	}
	if !errors.Is(err, ErrLocked) && cannotWrite(err) {
		why := "the volume is read-only"
		if !readOnlyVolume(err) {
			why = "this user may not write the volume's root"
		}
		return nil, fmt.Sprintf("no lock taken: %s (%s cannot be created); this run only reads, so it went on without one, and recovered no journal", why, LockFile), nil
	}
	return nil, "", err
}

// CheckVolumeLock fails, wrapping ErrLocked, when a directory holding the
// file at path (its own or any above it) has a lock of a reseal run that
// may still run: the file belongs to that run's volume until it is done.
// A stale lock of this host is ignored (the next run on the volume takes
// it over).
func CheckVolumeLock(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	me, _ := os.Hostname()
	boot := bootID()
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		lp := filepath.Join(dir, LockFile)
		if _, err := os.Lstat(lp); err == nil {
			holder, err := readLock(lp)
			switch {
			case errors.Is(err, fs.ErrNotExist):
			case err != nil || holder == nil:
				return &LockedError{Path: lp, Advice: "the file is inside that volume; if no reseal run is using it, remove the lock file and retry"}
			case holder.PID == os.Getpid() && holder.Host == me:
				// This process holds it.
			case holder.Host != me || holderRuns(*holder, boot):
				return &LockedError{Path: lp, Holder: holder, Advice: "the file is inside that volume; wait for the run to finish"}
			}
		}
		if parent := filepath.Dir(dir); parent == dir {
			return nil
		}
	}
}
