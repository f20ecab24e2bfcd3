package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reseal/reseal/hive"
	"github.com/reseal/reseal/internal/hivetest"
	"github.com/reseal/reseal/sysprep"
)

func newHiveFile(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "SOFTWARE")
	h := hive.New()
	if _, err := h.Root().CreateKey(`Reseal`); err != nil {
		t.Fatal(err)
	}
	if err := h.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestConcurrentRegSetKeepsEveryValue: 20 pairs of simultaneous reg set
// runs on one hive keep all 40 values.
func TestConcurrentRegSetKeepsEveryValue(t *testing.T) {
	path := newHiveFile(t, t.TempDir())
	for i := 0; i < 20; i++ {
		var wg sync.WaitGroup
		for _, side := range []string{"a", "b"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := fmt.Sprintf("v%02d%s", i, side)
				if code, _, stderr := runCLI(t, "reg", "set", path, "Reseal", name, "--data", name); code != exitOK {
					t.Errorf("%s: code %d: %s", name, code, stderr)
				}
			}()
		}
		wg.Wait()
	}
	h, err := hive.Open(path, &hive.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	k, err := h.Root().OpenKey("Reseal")
	if err != nil {
		t.Fatal(err)
	}
	names, err := k.ValueNames()
	if err != nil || len(names) != 40 {
		t.Fatalf("%d values kept of 40 (%v)", len(names), err)
	}
}

// TestRegEditWaitsThenFails: while another editor holds the hive, reg set
// waits briefly and fails with a clear error, leaving the hive alone.
func TestRegEditWaitsThenFails(t *testing.T) {
	path := newHiveFile(t, t.TempDir())
	holder, err := hive.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var out, errb strings.Builder
	start := time.Now()
	code := run(ctx, []string{"reg", "set", path, "Reseal", "x", "--data", "y"}, &stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
	if code == exitOK || time.Since(start) > 20*time.Second {
		t.Fatalf("code %d after %v: %s", code, time.Since(start), errb.String())
	}
}

// TestRegEditHonoursVolumeLock: a hive inside a volume a live reseal run
// holds is not edited.
func TestRegEditHonoursVolumeLock(t *testing.T) {
	vol := t.TempDir()
	dir := filepath.Join(vol, "Windows", "System32", "config")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := newHiveFile(t, dir)
	host, _ := os.Hostname()
	lock := fmt.Sprintf(`{"pid":%d,"host":%q,"started":"2026-11-24T07:00:00Z"}`, os.Getppid(), host)
	if err := os.WriteFile(filepath.Join(vol, sysprep.LockFile), []byte(lock), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "reg", "set", path, "Reseal", "x", "--data", "y")
	if code == exitOK || !strings.Contains(stderr, sysprep.LockFile) {
		t.Fatalf("code %d: %s", code, stderr)
	}
}

// TestSharedListHive: reg query -r and reg export of a 2^30-path hive
// stop at once with an error naming the shared cell; reg set refuses it.
func TestSharedListHive(t *testing.T) {
	data, err := hivetest.SharedLists(30)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "BOMB")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	for _, args := range [][]string{
		{"reg", "query", path, "-r"},
		{"reg", "export", path, "-o", filepath.Join(t.TempDir(), "x.reg")},
		{"reg", "set", path, `B00`, "v", "--data", "x"},
		{"reg", "set", path, `B00\new`, "v", "--data", "x"},
	} {
		done := make(chan struct{})
		var code int
		var stderr string
		go func() { code, _, stderr = runCLI(t, args...); close(done) }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			t.Fatalf("%v hangs", args)
		}
		if code == exitOK || !strings.Contains(stderr, "reached twice") {
			t.Errorf("%v: code %d: %s", args, code, stderr)
		}
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("the hive changed")
	}
}

// TestStaleTemporariesCleaned: temporaries an interrupted reg edit left
// beside the hive are removed by the next edit; others are not.
func TestStaleTemporariesCleaned(t *testing.T) {
	dir := t.TempDir()
	path := newHiveFile(t, dir)
	stale := filepath.Join(dir, ".SOFTWARE.reseal-123")
	fresh := filepath.Join(dir, ".SOFTWARE.reseal-456")
	other := filepath.Join(dir, ".SYSTEM.reseal-789")
	for _, p := range []string{stale, fresh, other} {
		if err := os.WriteFile(p, []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-time.Hour)
	for _, p := range []string{stale, other} {
		os.Chtimes(p, old, old)
	}
	if err := os.Mkdir(filepath.Join(dir, ".SOFTWARE.reseal-dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "reg", "set", path, "Reseal", "x", "--data", "y"); code != exitOK {
		t.Fatalf("code %d: %s", code, stderr)
	}
	if _, err := os.Lstat(stale); err == nil {
		t.Error("the stale temporary is still there")
	}
	for _, p := range []string{fresh, other, filepath.Join(dir, ".SOFTWARE.reseal-dir")} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was removed", filepath.Base(p))
		}
	}
}
