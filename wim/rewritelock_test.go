//go:build linux

package wim

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
	"golang.org/x/sys/unix"
)

// TestRewriteLock: a WIM another process is modifying (it holds the WIM's
// flock, as wimlib and reseal do while they modify one) is refused by
// every command that replaces it, and left as it was; while reseal holds
// it, wimlib's append is refused too (the same lock). A lock on a file the
// path no longer names (replaced by a finished append) does not stop the
// next one.
func TestRewriteLock(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	ctx := context.Background()
	src, w := captureTestWIM(t, CompressXPRESS)
	before, _ := os.ReadFile(w)
	other, err := os.Open(w)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(other.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	name := "renamed"
	for what, op := range map[string]func() error{
		"capture --append": func() error {
			return Capture(ctx, src, w, CaptureOptions{Append: true, Name: "second", Compression: CompressXPRESS})
		},
		"optimize":      func() error { return Optimize(ctx, w, RewriteOptions{}) },
		"delete":        func() error { return Delete(ctx, w, 1, RewriteOptions{}) },
		"delete --soft": func() error { return Delete(ctx, w, 1, RewriteOptions{Soft: true}) },
		"rename":        func() error { return SetImageInfo(ctx, w, 1, &name, nil) },
		"export into it": func() error {
			r, err := Open(w + ".copy.wim")
			if err != nil {
				return err
			}
			defer r.Close()
			return Export(ctx, r, []int{1}, w, ExportOptions{Name: "exported"})
		},
	} {
		if what == "export into it" {
			copyFile(t, w, w+".copy.wim")
		}
		if err := op(); !errors.Is(err, ErrLocked) {
			t.Errorf("%s of a locked WIM: %v, want ErrLocked", what, err)
		}
	}
	if after, _ := os.ReadFile(w); !bytes.Equal(before, after) {
		t.Error("a locked WIM was changed")
	}
	other.Close()

	r, err := openForRewrite(w)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(wimlib, "append", src, w, "wimlib's").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "locked") {
		t.Errorf("wimlib's append while reseal holds the WIM: %v\n%s", err, out)
	}
	r.Close()
	runPeer(t, wimlib, "append", filepath.Join(src, "sub"), w, "wimlib's")

	// A lock on the file the path named before a rename does not hold
	// the new file.
	stale, err := os.Open(w)
	if err != nil {
		t.Fatal(err)
	}
	defer stale.Close()
	if err := unix.Flock(int(stale.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	copyFile(t, w, w+".new")
	if err := os.Rename(w+".new", w); err != nil {
		t.Fatal(err)
	}
	if err := Capture(ctx, src, w, CaptureOptions{Append: true, Name: "third"}); err != nil {
		t.Fatalf("append after the file was replaced: %v", err)
	}
	if info := runPeer(t, wimlib, "info", w); !strings.Contains(info, "third") || !strings.Contains(info, "wimlib's") {
		t.Errorf("wimlib info after the appends:\n%s", info)
	}
}
