package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

// wimlibCapture captures a sample volume with wimlib and returns the WIM.
func wimlibCapture(t *testing.T, blockers ...string) string {
	t.Helper()
	wimlib := testenv.Peer(t, "wimlib-imagex")
	vol := sampleVolume(t, blockers...)
	wimPath := filepath.Join(t.TempDir(), "golden.wim")
	if out, err := exec.Command(wimlib, "capture", vol, wimPath, "golden", "--compress=xpress").CombinedOutput(); err != nil {
		t.Fatalf("wimlib-imagex capture: %v\n%s", err, out)
	}
	return wimPath
}

// TestTargetsInsideWIM: preflight, generalize (-o, --append, neither,
// both), sysprep and reg query on IMAGE.wim:INDEX|NAME, under the command
// line contract's exit codes.
func TestTargetsInsideWIM(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	golden := wimlibCapture(t)
	before, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.wim")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"preflight", golden + ":1"}, exitOK, "preflight passed"},
		{[]string{"preflight", golden + ":golden", "--json"}, exitOK, `"target"`},
		{[]string{"preflight", golden + ":7"}, exitRefused, "image 7 does not exist"},
		{[]string{"preflight", filepath.Join(t.TempDir(), "none.wim") + ":1"}, exitFailure, "none.wim"},
		{[]string{"generalize", golden + ":1"}, exitUsage, "-o OUT.wim"},
		{[]string{"generalize", golden + ":1", "-o", out, "--append"}, exitUsage, "exclude each other"},
		{[]string{"generalize", golden + ":1", "--dry-run"}, exitOK, "dry run"},
		{[]string{"generalize", golden + ":1", "-o", out}, exitOK, "written: " + out},
		{[]string{"generalize", golden + ":1", "-o", out}, exitRefused, "exists"},
		{[]string{"reg", "query", out + ":1", `Windows\System32\config\SYSTEM`, `HKLM\SYSTEM\Setup`}, exitOK, "oobe\\windeploy.exe"},
		{[]string{"reg", "query", out + ":1", `Windows\System32\config\NOPE`}, exitRefused, "no such hive"},
		{[]string{"reg", "export", out + ":1", `Windows/System32/config/SYSTEM`, `Setup`, "--utf8"}, exitOK, "CmdLine"},
	} {
		code, stdout, stderr := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(stdout+stderr, c.want) {
			t.Errorf("%v: exit %d, want %d and %q\nstdout: %s\nstderr: %s", c.args, code, c.code, c.want, stdout, stderr)
		}
	}
	after, _ := os.ReadFile(golden)
	if string(before) != string(after) {
		t.Fatal("the source WIM changed")
	}
	if out, err := exec.Command(wimlib, "verify", out).CombinedOutput(); err != nil {
		t.Fatalf("wimlib-imagex verify: %v\n%s", err, out)
	}
	if code, _, stderr := runCLI(t, "sysprep", golden+":golden", "/generalize", "/oobe", "/append", "/name:sealed"); code != exitOK {
		t.Fatalf("sysprep --append: exit %d: %s", code, stderr)
	}
	info, err := exec.Command(wimlib, "info", golden).CombinedOutput()
	if err != nil || !strings.Contains(string(info), "sealed") || !strings.Contains(string(info), "Image Count:    2") {
		t.Fatalf("wimlib-imagex info after append: %v\n%s", err, info)
	}
	if code, _, _ := runCLI(t, "generalize", golden+":1", "--append", "--name", "sealed"); code != exitRefused {
		t.Errorf("a second image named sealed: exit %d, want 1", code)
	}
}
