package sysprep

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestImmutableFileRefusedBeforeCommit: an immutable or append-only file
// (chattr) that generalize would delete is found before the commit point:
// a preflight error, the volume unchanged, no journal left.
func TestImmutableFileRefusedBeforeCommit(t *testing.T) {
	if _, err := exec.LookPath("chattr"); err != nil {
		t.Skip("no chattr")
	}
	for _, tc := range []struct{ flag, want string }{{"+i", "immutable"}, {"+a", "append-only"}} {
		t.Run(tc.flag, func(t *testing.T) {
			root := writeSample(t, "10")
			p := filepath.Join(root, "Windows", "Temp", "locked.tmp")
			must(t, os.MkdirAll(filepath.Dir(p), 0o755))
			must(t, os.WriteFile(p, []byte("x"), 0o644))
			if out, err := exec.Command("chattr", tc.flag, p).CombinedOutput(); err != nil {
				t.Skipf("chattr %s: %v %s (not root, or the file system has no such flag)", tc.flag, err, out)
			}
			t.Cleanup(func() { exec.Command("chattr", "-i", "-a", p).Run() })
			before := treeHash(t, root)
			_, err := Generalize(context.Background(), root, Options{Now: fixedNow})
			if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "Windows/Temp/locked.tmp") {
				t.Fatalf("err = %v", err)
			}
			if treeHash(t, root) != before {
				t.Error("the volume changed")
			}
		})
	}
}

// TestMountPointRefusedBeforeCommit: a bind mount where generalize would
// delete or replace is found before the commit point.
func TestMountPointRefusedBeforeCommit(t *testing.T) {
	root := writeSample(t, "10")
	dir := filepath.Join(root, "Windows", "Temp", "mounted")
	must(t, os.MkdirAll(dir, 0o755))
	other := t.TempDir()
	must(t, os.WriteFile(filepath.Join(other, "f.tmp"), []byte("x"), 0o644))
	if err := syscall.Mount(other, dir, "", syscall.MS_BIND, ""); err != nil {
		t.Skipf("cannot bind-mount here: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	before := treeHash(t, root)
	_, err := Generalize(context.Background(), root, Options{Now: fixedNow})
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "mount point") {
		t.Fatalf("err = %v", err)
	}
	if treeHash(t, root) != before {
		t.Error("the volume changed")
	}
	if b, err := os.ReadFile(filepath.Join(other, "f.tmp")); err != nil || string(b) != "x" {
		t.Errorf("the mounted file changed: %q %v", b, err)
	}
}
