package sysprep

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func lockGone(t *testing.T, root string) {
	t.Helper()
	for _, name := range []string{LockFile, takeoverFile} {
		if _, err := os.Lstat(filepath.Join(root, name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left behind (%v)", name, err)
		}
	}
}

// TestConcurrentGeneralize starts a second Generalize on the same volume
// while the first is about to commit: the second must fail fast, naming
// the lock and its holder, and the first must finish undisturbed.
func TestConcurrentGeneralize(t *testing.T) {
	root := writeSample(t, "10")
	var second error
	secondDone := false
	first := Options{Now: fixedNow, Progress: func(step string) {
		if step != "commit" || secondDone {
			return
		}
		secondDone = true
		start := time.Now()
		_, second = Generalize(context.Background(), root, Options{Now: fixedNow})
		if time.Since(start) > 5*time.Second {
			t.Errorf("the second run waited %v instead of failing fast", time.Since(start))
		}
	}}
	if _, err := Generalize(context.Background(), root, first); err != nil {
		t.Fatalf("first run: %v", err)
	}
	if !secondDone {
		t.Fatal("the first run never reached its commit")
	}
	var le *LockedError
	if !errors.Is(second, ErrLocked) || !errors.As(second, &le) {
		t.Fatalf("second run: got %v, want ErrLocked", second)
	}
	if le.Holder == nil || le.Holder.PID != os.Getpid() || le.Path != filepath.Join(root, LockFile) {
		t.Errorf("second run: holder %+v, path %s", le.Holder, le.Path)
	}
	if msg := second.Error(); !strings.Contains(msg, LockFile) || !strings.Contains(msg, "wait for it to finish") {
		t.Errorf("message %q does not name the lock file and what to do", msg)
	}
	lockGone(t, root)
	r, err := Preflight(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ids := findingIDs(r.Findings, SeverityError); len(ids) != 0 {
		t.Errorf("after the first run: errors %v", ids)
	}
	lockGone(t, root)
}

// TestLockHeldBySubprocess: a live process holding the lock stops every
// command, changing nothing; once it is killed its lock is stale (this
// host, process gone) and the next command takes it over.
func TestLockHeldBySubprocess(t *testing.T) {
	if vol := os.Getenv("RESEAL_LOCK_CHILD"); vol != "" {
		if _, err := lockVolume(vol); err != nil {
			os.Stdout.WriteString("error: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("locked\n")
		time.Sleep(time.Minute) // killed by the parent
		os.Exit(0)
	}
	if testing.Short() {
		t.Skip("spawns a process")
	}
	root := writeSample(t, "10")
	before := treeHash(t, root)
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHeldBySubprocess$")
	cmd.Env = append(os.Environ(), "RESEAL_LOCK_CHILD="+root)
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "locked\n" {
		t.Fatalf("child: %q", line)
	}
	for name, run := range map[string]func() error{
		"generalize": func() error { _, err := Generalize(context.Background(), root, Options{Now: fixedNow}); return err },
		"preflight":  func() error { _, err := Preflight(context.Background(), root, Options{}); return err },
		"recover":    func() error { _, err := RecoverJournal(root); return err },
	} {
		err := run()
		var le *LockedError
		if !errors.As(err, &le) || le.Holder == nil || le.Holder.PID != cmd.Process.Pid {
			t.Errorf("%s while the child holds the lock: %v", name, err)
		}
	}
	lockPath := filepath.Join(root, LockFile)
	if _, err := os.Stat(lockPath); err != nil {
		t.Fatalf("the child's lock was removed: %v", err)
	}
	must(t, os.Remove(lockPath))
	if treeHash(t, root) != before {
		t.Fatal("a locked-out run changed the volume")
	}
	// Put the child's lock back as it was, kill the child: a stale lock.
	holder := LockHolder{PID: cmd.Process.Pid, Started: time.Now().UTC().Truncate(time.Second)}
	holder.Host, _ = os.Hostname()
	data, _ := json.Marshal(holder)
	must(t, os.WriteFile(lockPath, data, 0o644))
	must(t, cmd.Process.Kill())
	cmd.Wait()
	killed = true
	if _, err := Generalize(context.Background(), root, Options{Now: fixedNow}); err != nil {
		t.Fatalf("after the holder died: %v", err)
	}
	lockGone(t, root)
}

// TestLockNotTakenOver: a lock from another host, or one that cannot be
// read, is never taken over; the error tells how to remove it.
func TestLockNotTakenOver(t *testing.T) {
	host, _ := os.Hostname()
	for name, content := range map[string]string{
		"other host": `{"pid":1,"host":"` + host + `-elsewhere","started":"2026-11-24T07:00:00Z"}`,
		"empty":      "",
		"garbage":    "\x00\x01not json",
	} {
		t.Run(name, func(t *testing.T) {
			root := newTestVolume(t).save()
			lockPath := filepath.Join(root, LockFile)
			must(t, os.WriteFile(lockPath, []byte(content), 0o644))
			before := treeHash(t, root)
			_, err := Generalize(context.Background(), root, Options{Now: fixedNow})
			if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "remove the lock file") || !strings.Contains(err.Error(), lockPath) {
				t.Fatalf("got %v", err)
			}
			if name == "other host" && !strings.Contains(err.Error(), host+"-elsewhere") {
				t.Errorf("the holder's host is not named: %v", err)
			}
			if treeHash(t, root) != before {
				t.Fatal("the volume or its lock changed")
			}
		})
	}
}

// TestStaleLockOfThisHost: a lock naming this host and a process that does
// not exist is taken over, by every command.
func TestStaleLockOfThisHost(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true(1) to get a dead process id")
	}
	host, _ := os.Hostname()
	data, _ := json.Marshal(LockHolder{PID: cmd.Process.Pid, Host: host, Started: time.Now().UTC()})
	root := newTestVolume(t).save()
	lockPath := filepath.Join(root, LockFile)
	for _, run := range []func() error{
		func() error { _, err := RecoverJournal(root); return err },
		func() error { _, err := Preflight(context.Background(), root, Options{}); return err },
		func() error { _, err := Generalize(context.Background(), root, Options{Now: fixedNow}); return err },
	} {
		must(t, os.WriteFile(lockPath, data, 0o644))
		if err := run(); err != nil {
			t.Fatal(err)
		}
		lockGone(t, root)
	}
}

// TestActionFileWildcardSparesTheLock: an image's action file deleting
// C:\*.lock deletes the image's files, never the lock of the run itself.
func TestActionFileWildcardSparesTheLock(t *testing.T) {
	tv := newTestVolume(t)
	tv.file("Windows/System32/Sysprep/ActionFiles/Cleanup.xml", `<sysprepInformation><imaging><sysprepOrder order="0x100"/>
<fileActions><deleteFile path="C:\*.lock"/></fileActions></imaging></sysprepInformation>`)
	tv.file("stale.lock", "from the reference machine")
	root := tv.save()
	r, err := Generalize(context.Background(), root, Options{Now: fixedNow})
	must(t, err)
	deleted := map[string]bool{}
	for _, a := range r.Actions {
		if a.Kind == KindDeleteFile {
			deleted[a.Target] = true
		}
	}
	if !deleted["stale.lock"] || deleted[LockFile] {
		t.Errorf("deleted %v; want stale.lock and not %s", deleted, LockFile)
	}
	lockGone(t, root)
}

// TestStaleLockAfterRebootOrPidReuse: a lock whose pid runs now, but that
// was taken in an earlier boot or by another process that had that pid, is
// stale; the same process in the same boot is not.
func TestStaleLockAfterRebootOrPidReuse(t *testing.T) {
	boot, start := bootID(), processStart(os.Getppid())
	if boot == "" || start == "" {
		t.Skip("this platform tells neither boots nor process start times")
	}
	host, _ := os.Hostname()
	live := LockHolder{PID: os.Getppid(), Host: host, Started: time.Now().UTC(), Boot: boot, ProcStart: start}
	earlierBoot, reused := live, live
	earlierBoot.Boot = "00000000-0000-0000-0000-000000000000"
	reused.ProcStart = "1" // the parent started long after tick 1
	for name, tc := range map[string]struct {
		holder LockHolder
		stale  bool
	}{
		"earlier boot": {earlierBoot, true},
		"pid reused":   {reused, true},
		"same process": {live, false},
	} {
		t.Run(name, func(t *testing.T) {
			root := newTestVolume(t).save()
			data, _ := json.Marshal(tc.holder)
			must(t, os.WriteFile(filepath.Join(root, LockFile), data, 0o644))
			_, err := Preflight(context.Background(), root, Options{})
			if tc.stale && err != nil {
				t.Fatalf("stale lock not taken over: %v", err)
			}
			if tc.stale {
				lockGone(t, root)
			}
			if !tc.stale && !errors.Is(err, ErrLocked) {
				t.Fatalf("a live holder's lock: got %v, want ErrLocked", err)
			}
		})
	}
}
