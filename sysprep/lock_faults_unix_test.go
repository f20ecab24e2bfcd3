//go:build unix

package sysprep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestLockFIFONeverHangs: a FIFO planted where reseal.lock belongs makes
// every command fail at once with a clear error, not wait for a writer.
func TestLockFIFONeverHangs(t *testing.T) {
	root := newTestVolume(t).save()
	if err := syscall.Mkfifo(filepath.Join(root, LockFile), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for name, run := range map[string]func() error{
		"preflight":  func() error { _, err := Preflight(context.Background(), root, Options{}); return err },
		"generalize": func() error { _, err := Generalize(context.Background(), root, Options{Now: fixedNow}); return err },
		"reserve":    func() error { _, err := Reserve(root); return err },
	} {
		done := make(chan error, 1)
		go func() { done <- run() }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrLocked) {
				t.Errorf("%s: %v", name, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s hangs on a FIFO lock", name)
		}
	}
}

// TestKilledWhileLocking SIGKILLs a process that takes and releases the
// lock in a loop: whenever it dies, reseal.lock is absent or holds its
// holder whole, and the next run takes it over.
func TestKilledWhileLocking(t *testing.T) {
	if dir := os.Getenv("RESEAL_LOCK_CHILD"); dir != "" {
		for {
			l, err := lockVolume(dir)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			l.release()
		}
	}
	if testing.Short() {
		t.Skip("spawns processes")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	present := 0
	for i := 0; i < 20; i++ {
		root := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWhileLocking$")
		cmd.Env = append(os.Environ(), "RESEAL_LOCK_CHILD="+root)
		must(t, cmd.Start())
		// Wait for the child's first lock, then kill it at a random moment
		// of its loop.
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if _, err := os.Lstat(filepath.Join(root, LockFile)); err == nil {
				break
			}
		}
		time.Sleep(time.Duration(rng.Int64N(int64(5 * time.Millisecond))))
		cmd.Process.Kill()
		cmd.Wait()
		if data, err := os.ReadFile(filepath.Join(root, LockFile)); err == nil {
			present++
			var h LockHolder
			if json.Unmarshal(data, &h) != nil || h.PID != cmd.Process.Pid {
				t.Fatalf("kill %d: the lock holds %q", i, data)
			}
		}
		l, err := lockVolume(root)
		if err != nil {
			t.Fatalf("kill %d: the dead writer's lock was not taken over: %v", i, err)
		}
		l.release()
	}
	t.Logf("the lock was present at %d of 20 kills", present)
}

// TestFIFOInVolumeNeverHangs: a FIFO where the answer file, an action file
// or a hive belongs makes preflight and a dry run end promptly.
func TestFIFOInVolumeNeverHangs(t *testing.T) {
	for _, rel := range []string{
		"Windows/Panther/unattend.xml",
		"Windows/System32/Sysprep/ActionFiles/Cleanup.xml",
		"Windows/System32/config/SECURITY",
	} {
		t.Run(rel, func(t *testing.T) {
			root := writeSample(t, "10")
			p := filepath.Join(root, filepath.FromSlash(rel))
			must(t, os.MkdirAll(filepath.Dir(p), 0o755))
			os.Remove(p)
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			done := make(chan error, 2)
			go func() { _, err := Preflight(context.Background(), root, Options{Now: fixedNow}); done <- err }()
			go func() {
				_, err := Generalize(context.Background(), root, Options{Now: fixedNow, DryRun: true})
				done <- err
			}()
			for range 2 {
				select {
				case <-done:
				case <-time.After(30 * time.Second):
					t.Fatal("hangs on a FIFO")
				}
			}
		})
	}
}
