package sysprep

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEmptyLockOfDeadWriterTakenOver: an empty lock file (its writer died
// between creating and writing it, as older reseal versions could leave)
// is taken over once it is old enough, instead of blocking every run.
func TestEmptyLockOfDeadWriterTakenOver(t *testing.T) {
	root := newTestVolume(t).save()
	lockPath := filepath.Join(root, LockFile)
	must(t, os.WriteFile(lockPath, nil, 0o644))
	old := time.Now().Add(-2 * emptyLockAge)
	must(t, os.Chtimes(lockPath, old, old))
	if _, err := Preflight(context.Background(), root, Options{Now: fixedNow}); err != nil {
		t.Fatalf("an old empty lock blocked the run: %v", err)
	}
	lockGone(t, root)
}

// TestLockWrittenWhole: the lock appears with its content or not at all;
// a temporary left by a writer killed before linking it is cleaned up
// once stale, and only reseal's own temporaries are.
func TestLockWrittenWhole(t *testing.T) {
	root := newTestVolume(t).save()
	stale := filepath.Join(root, lockTempPrefix+"123")
	fresh := filepath.Join(root, lockTempPrefix+"456")
	other := filepath.Join(root, "reseal.lock.keep")
	for _, p := range []string{stale, fresh, other} {
		must(t, os.WriteFile(p, []byte("{}"), 0o644))
	}
	// A temporary of a dead process of this host goes at once.
	dead := filepath.Join(root, lockTempPrefix+"789")
	host, _ := os.Hostname()
	data, _ := json.Marshal(LockHolder{PID: deadPID(t), Host: host, Started: time.Now().UTC()})
	must(t, os.WriteFile(dead, data, 0o644))
	old := time.Now().Add(-2 * emptyLockAge)
	must(t, os.Chtimes(stale, old, old))
	must(t, os.Chtimes(other, old, old))
	lock, err := lockVolume(root)
	must(t, err)
	holder, err := readLock(filepath.Join(root, LockFile))
	if err != nil || holder == nil || holder.PID != os.Getpid() {
		t.Fatalf("lock holds %+v, %v", holder, err)
	}
	must(t, lock.release())
	for _, p := range []string{stale, dead} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("a stale lock temporary was left: %s", filepath.Base(p))
		}
	}
	for _, p := range []string{fresh, other} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was removed: %v", filepath.Base(p), err)
		}
	}
}

// TestMissingVolumeNamed: the error for a volume that does not exist names
// the user's path, not the lock file inside it.
func TestMissingVolumeNamed(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nonexistent")
	for name, run := range map[string]func() error{
		"preflight":  func() error { _, err := Preflight(context.Background(), missing, Options{}); return err },
		"generalize": func() error { _, err := Generalize(context.Background(), missing, Options{DryRun: true}); return err },
		"reserve":    func() error { _, err := Reserve(missing); return err },
		"recover":    func() error { _, err := RecoverJournal(missing); return err },
	} {
		err := run()
		if err == nil || !strings.Contains(err.Error(), missing) || strings.Contains(err.Error(), LockFile) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Error("the missing volume was created")
	}
}

// deadPID is the id of a process that has exited.
func deadPID(t *testing.T) int {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot run a child: %v", err)
	}
	return cmd.Process.Pid
}
