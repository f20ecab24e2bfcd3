package sysprep

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// readOnlyCopy makes a read-only bind mount of dir and returns its path;
// it skips where mounting is not allowed.
func readOnlyCopy(t *testing.T, dir string) string {
	t.Helper()
	mnt := filepath.Join(t.TempDir(), "ro")
	must(t, os.Mkdir(mnt, 0o755))
	if err := syscall.Mount(dir, mnt, "", syscall.MS_BIND, ""); err != nil {
		t.Skipf("cannot bind-mount here (not root, or no mount namespace rights): %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	if err := syscall.Mount("", mnt, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, ""); err != nil {
		t.Skipf("cannot remount read-only: %v", err)
	}
	return mnt
}

// TestReadOnlyVolume: preflight, a dry run and a reservation (capture)
// work on read-only media without a lock and say so; generalize fails
// clearly; a journal there is reported, not half-recovered.
func TestReadOnlyVolume(t *testing.T) {
	src := writeSample(t, "10")
	ro := readOnlyCopy(t, src)
	r, err := Preflight(context.Background(), ro, Options{Now: fixedNow})
	if err != nil {
		t.Fatalf("preflight: %v", err)
	}
	if !strings.Contains(r.Lock, "read-only") {
		t.Errorf("preflight does not say it took no lock: %q", r.Lock)
	}
	r, err = Generalize(context.Background(), ro, Options{Now: fixedNow, DryRun: true})
	if err != nil || len(r.Actions) == 0 || !strings.Contains(r.Lock, "read-only") {
		t.Fatalf("dry run: %v (lock note %q, %d actions)", err, r.Lock, len(r.Actions))
	}
	res, err := Reserve(ro)
	if err != nil {
		t.Fatalf("reserve: %v", err)
	}
	res.Release()
	if _, err := Generalize(context.Background(), ro, Options{Now: fixedNow}); err == nil {
		t.Fatal("generalize on read-only media succeeded")
	}
	must(t, os.Mkdir(filepath.Join(src, journalDir), 0o755))
	if _, err := Preflight(context.Background(), ro, Options{Now: fixedNow}); err == nil || !strings.Contains(err.Error(), "interrupted generalize") {
		t.Fatalf("preflight with a journal on read-only media: %v", err)
	}
}
