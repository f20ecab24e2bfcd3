//go:build linux

package wim

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestIsApplyTemp(t *testing.T) {
	for name, want := range map[string]bool{
		".a.reseal-apply-0123abcd":        true,
		".big.bin.reseal-apply-ffffffff":  true,
		"..reseal-apply-0123abcd":         false, // no name
		".a.reseal-apply-0123ABCD":        false, // tempName writes lowercase
		".a.reseal-apply-0123abc":         false,
		".a.reseal-apply-0123abcde":       false,
		"a.reseal-apply-0123abcd":         false,
		".a.reseal-0123abcd":              false, // atomicfile's, not apply's
		".a.reseal-apply-0123abcd.txt":    false,
		".a.reseal-apply-0123abcd.reseal": false,
	} {
		if got := isApplyTemp(name); got != want {
			t.Errorf("isApplyTemp(%q) = %v", name, got)
		}
	}
	if name := filepath.Base(tempName("/x/" + strings.Repeat("é", 200))); !isApplyTemp(name) {
		t.Errorf("tempName's own name %q not recognized", name)
	}
}

// TestApplyRemovesStaleTemps: the next apply into a target removes the
// temporaries a killed apply left, and nothing else: not a link, a
// directory or a file of a near name, not what a link points to, not a
// temporary in a directory the image does not have; it says how many it
// removed. While another apply holds the target, fresh temporaries (maybe
// that apply's) are left.
func TestApplyRemovesStaleTemps(t *testing.T) {
	src, wimPath := captureTestWIM(t, CompressXPRESS)
	r, err := Open(wimPath)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	dest := filepath.Join(t.TempDir(), "dest")
	if err := r.Apply(ctx, 1, dest, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "precious.reseal-apply-00000000")
	os.WriteFile(outside, []byte("not apply's"), 0o644)
	stale := []string{".a.txt.reseal-apply-0123abcd", "sub/.big.bin.reseal-apply-deadbeef"}
	kept := []string{".a.txt.reseal-apply-0123ABCD", "sub/.x.reseal-0123abcd", "elsewhere/.a.reseal-apply-0123abcd"}
	os.MkdirAll(filepath.Join(dest, "elsewhere"), 0o755)
	for _, n := range append(append([]string{}, stale...), kept...) {
		if err := os.WriteFile(filepath.Join(dest, n), []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dest, ".link.reseal-apply-00000001")
	os.Symlink(outside, link)
	dir := filepath.Join(dest, "sub", ".d.reseal-apply-00000002")
	os.Mkdir(dir, 0o755)

	// Another apply holds the target: fresh temporaries are left.
	release, locked := lockTarget(dest)
	if !locked {
		t.Fatal("could not lock the target")
	}
	var warnings []string
	opts := ApplyOptions{Warning: func(m string) { warnings = append(warnings, m) }}
	if err := r.Apply(ctx, 1, dest, opts); err != nil {
		t.Fatal(err)
	}
	release()
	for _, n := range stale {
		if _, err := os.Lstat(filepath.Join(dest, n)); err != nil {
			t.Errorf("with the target locked by another, %s was removed", n)
		}
	}
	warnings = nil
	if err := r.Apply(ctx, 1, dest, opts); err != nil {
		t.Fatal(err)
	}
	for _, n := range stale {
		if _, err := os.Lstat(filepath.Join(dest, n)); err == nil {
			t.Errorf("stale %s left", n)
		}
	}
	for _, p := range append([]string{link, dir, outside}, func() (ps []string) {
		for _, n := range kept {
			ps = append(ps, filepath.Join(dest, n))
		}
		return
	}()...) {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s removed", p)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "removed 2 temporary file(s)") {
		t.Errorf("warnings %q", warnings)
	}
	for _, p := range append([]string{link, dir, filepath.Join(dest, "elsewhere")}, func() (ps []string) {
		for _, n := range kept[:2] {
			ps = append(ps, filepath.Join(dest, n))
		}
		return
	}()...) {
		os.RemoveAll(p)
	}
	// What is left is the image (the times of the directories touched
	// above set again).
	if err := r.Apply(ctx, 1, dest, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	compareTrees(t, src, dest)
}

// TestApplyAfterKill: an apply killed with SIGKILL while writing a file
// leaves its temporary; the next apply into the target removes it and
// writes the whole tree. The killed apply runs in a child (this test
// binary), slowed by its progress callback so that it is caught writing.
func TestApplyAfterKill(t *testing.T) {
	if wimPath, dest := os.Getenv("RESEAL_TEST_SLOW_APPLY"), os.Getenv("RESEAL_TEST_SLOW_DEST"); wimPath != "" {
		r, err := Open(wimPath)
		if err != nil {
			os.Exit(2)
		}
		r.Apply(context.Background(), 1, dest, ApplyOptions{Progress: func(int64, int64) { time.Sleep(100 * time.Millisecond) }})
		os.Exit(0)
	}
	src, wimPath := captureTestWIM(t, CompressXPRESS)
	dest := filepath.Join(t.TempDir(), "dest")
	child := exec.Command(os.Args[0], "-test.run=^TestApplyAfterKill$")
	child.Env = append(os.Environ(), "RESEAL_TEST_SLOW_APPLY="+wimPath, "RESEAL_TEST_SLOW_DEST="+dest)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	findTemps := func() []string {
		var temps []string
		filepath.WalkDir(dest, func(p string, d os.DirEntry, err error) error {
			if err == nil && isApplyTemp(d.Name()) {
				temps = append(temps, p)
			}
			return nil
		})
		return temps
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(findTemps()) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	temps := findTemps()
	if len(temps) == 0 {
		t.Fatal("the killed apply left no temporary (caught too late?)")
	}
	r, err := Open(wimPath)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Apply(context.Background(), 1, dest, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if left := findTemps(); len(left) > 0 {
		t.Errorf("left after the next apply: %v (the killed one left %v)", left, temps)
	}
	compareTrees(t, src, dest)
}
