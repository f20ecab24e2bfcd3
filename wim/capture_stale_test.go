package wim

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCaptureCleansStaleTemporaries: temporaries an interrupted capture to
// the same WIM left are removed by the next capture; a recent one (a
// capture still running) and other files are not.
func TestCaptureCleansStaleTemporaries(t *testing.T) {
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "a.txt"), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	wimPath := filepath.Join(dir, "x.wim")
	stale := filepath.Join(dir, ".x.wim.reseal-111")
	fresh := filepath.Join(dir, ".x.wim.reseal-222")
	other := filepath.Join(dir, ".y.wim.reseal-333")
	for _, p := range []string{stale, fresh, other} {
		if err := os.WriteFile(p, []byte("half a wim"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleCaptureAge)
	for _, p := range []string{stale, other} {
		os.Chtimes(p, old, old)
	}
	if err := Capture(context.Background(), src, wimPath, CaptureOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(stale); err == nil {
		t.Error("the stale temporary is still there")
	}
	for _, p := range []string{fresh, other} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was removed", filepath.Base(p))
		}
	}
}
