package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reseal/reseal/internal/testenv"
	"github.com/reseal/reseal/sysprep"
)

// TestCaptureWindowsVolume: capturing an offline Windows volume records
// what DISM records of it (edition, version, architecture, the product
// name as the image name), judged by wimlib, and keeps reseal's own lock out
// of the image.
func TestCaptureWindowsVolume(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	vol := sampleVolume(t)
	wimPath := filepath.Join(t.TempDir(), "win.wim")
	if code, _, stderr := runCLI(t, "capture", vol, wimPath, "--compress", "none"); code != exitOK {
		t.Fatalf("capture: exit %d: %s", code, stderr)
	}
	out, err := exec.Command(wimlib, "info", wimPath, "1").CombinedOutput()
	if err != nil {
		t.Fatalf("wimlib-imagex info: %v\n%s", err, out)
	}
	for _, want := range []string{"Name:                   Windows 10 Pro", "Edition ID:             Professional",
		"Architecture:           x86_64", "Build:                  19045", "Flags:                  Professional", "Product Type:           WinNT",
		"Product Name:           Windows 10 Pro", "Product Suite:          Terminal Server", "Languages:              en-US",
		"Default Language:       en-US", "Display Name:           Windows 10 Pro", "Display Description:    Windows 10 Pro"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("wimlib-imagex info lacks %q:\n%s", want, out)
		}
	}
	// reseal's own info shows the version without a trailing dot, and
	// its SPBUILD when there is one.
	if _, info, _ := runCLI(t, "info", wimPath); !strings.Contains(info, "Version:                10.0.19045.5487\n") || !strings.Contains(info, "Product Suite:          Terminal Server") {
		t.Errorf("reseal info:\n%s", info)
	}
	if _, err := os.Stat(filepath.Join(vol, sysprep.LockFile)); !os.IsNotExist(err) {
		t.Errorf("capture left the volume lock behind (%v)", err)
	}
	listing, err := exec.Command(wimlib, "dir", wimPath, "1").CombinedOutput()
	if err != nil {
		t.Fatalf("wimlib-imagex dir: %v\n%s", err, listing)
	}
	if strings.Contains(string(listing), "reseal") {
		t.Errorf("reseal's control files were captured:\n%s", listing)
	}
}

// TestCaptureRefusesLockedVolume: while another run holds a Windows
// volume, capture refuses it (it could be mid-commit) and writes no WIM.
func TestCaptureRefusesLockedVolume(t *testing.T) {
	vol := sampleVolume(t)
	holder, _ := json.Marshal(sysprep.LockHolder{PID: 1, Host: "another-host.example", Started: time.Now().UTC()})
	if err := os.WriteFile(filepath.Join(vol, sysprep.LockFile), holder, 0o644); err != nil {
		t.Fatal(err)
	}
	wimPath := filepath.Join(t.TempDir(), "win.wim")
	code, _, stderr := runCLI(t, "capture", vol, wimPath)
	if code != exitFailure || !strings.Contains(stderr, sysprep.LockFile) {
		t.Fatalf("capture of a locked volume: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(wimPath); !os.IsNotExist(err) {
		t.Errorf("a WIM was written for a locked volume (%v)", err)
	}
}

// TestCaptureExcludeAsWimScriptUsersWriteIt: --exclude Windows\Prefetch
// (no leading separator, as in many WimScript.ini files) leaves the
// directory out, judged by wimlib's listing, and a pattern that matched
// nothing is warned about by name.
func TestCaptureExcludeAsWimScriptUsersWriteIt(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	vol := sampleVolume(t)
	if _, err := os.Stat(filepath.Join(vol, "Windows", "Prefetch")); err != nil {
		t.Fatalf("the sample has no Windows/Prefetch to exclude: %v", err)
	}
	wimPath := filepath.Join(t.TempDir(), "x.wim")
	code, _, stderr := runCLI(t, "capture", vol, wimPath, "--exclude", `Windows\Prefetch`, "--exclude", "Windows/NoSuchDir")
	if code != exitOK {
		t.Fatalf("capture: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, `warning: exclusion "Windows/NoSuchDir" matched nothing`) || strings.Contains(stderr, `"Windows\\Prefetch" matched nothing`) {
		t.Errorf("warnings: %q", stderr)
	}
	listing, err := exec.Command(wimlib, "dir", wimPath, "1").CombinedOutput()
	if err != nil {
		t.Fatalf("wimlib-imagex dir: %v\n%s", err, listing)
	}
	if strings.Contains(strings.ToLower(string(listing)), "/windows/prefetch") {
		t.Errorf("Windows/Prefetch was captured:\n%s", listing)
	}
	if !strings.Contains(string(listing), "/Windows/System32") {
		t.Errorf("listing lacks /Windows/System32:\n%.500s", listing)
	}
}
