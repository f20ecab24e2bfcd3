package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseal/reseal/hive"
	"github.com/reseal/reseal/internal/testenv"
	"github.com/reseal/reseal/sample"
)

func TestSampleCommandWritesTheLibrarySample(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vol")
	code, out, errOut := runCLI(t, "sample", dir, "--windows", "11", "--blocker", "appx", "--seed", "5")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "Windows 11") || !strings.Contains(out, "blockers: appx") {
		t.Errorf("output: %q", out)
	}
	want := filepath.Join(t.TempDir(), "want")
	if err := sample.Write(want, sample.Options{Windows: "11", Blockers: []string{"appx"}, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	a, err := treeDigest(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := treeDigest(want)
	if a != b {
		t.Error("reseal sample wrote a different tree than sample.Write with the same options")
	}
}

func TestSampleCommandErrors(t *testing.T) {
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "x"), nil, 0o644)
	fresh := func() string { return filepath.Join(t.TempDir(), "vol") }
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"sample"}, exitUsage, "want one DIR"},
		{[]string{"sample", fresh(), fresh()}, exitUsage, "want one DIR"},
		{[]string{"sample", fresh(), "--blocker", "nope"}, exitUsage, "appx, pending, upgrade, role, nps, runlimit, state, hibernated, stale-unattend, domain"},
		{[]string{"sample", fresh(), "--windows", "7"}, exitUsage, "10, 11, server2022"},
		{[]string{"sample", fresh(), "--windows", "10", "--blocker", "role"}, exitUsage, "needs --windows server2022"},
		{[]string{"sample", fresh(), "--seed", "x"}, exitUsage, "seed"},
		{[]string{"sample", full}, exitRefused, "not empty"},
		{[]string{"demo", "extra"}, exitUsage, "unexpected argument"},
		{[]string{"demo", "--keep", full}, exitRefused, "not empty"},
	}
	for _, c := range cases {
		code, _, errOut := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("reseal %v: exit %d %q, want exit %d with %q", c.args, code, errOut, c.code, c.want)
		}
	}
	if entries, _ := os.ReadDir(full); len(entries) != 1 {
		t.Error("a refused command wrote into the non-empty directory")
	}
}

// TestSampleBlockerThenPreflight: what `reseal sample --blocker` plants is
// what `reseal preflight` refuses, for every blocker.
func TestSampleBlockerThenPreflight(t *testing.T) {
	for _, b := range sample.Blockers() {
		dir := filepath.Join(t.TempDir(), "vol")
		if code, _, errOut := runCLI(t, "sample", dir, "--blocker", b.Name); code != exitOK {
			t.Fatalf("sample --blocker %s: exit %d %s", b.Name, code, errOut)
		}
		code, out, _ := runCLI(t, "preflight", dir)
		wantCode := exitOK
		if b.Severity == "error" {
			wantCode = exitRefused
		}
		if code != wantCode || !strings.Contains(out, b.Finding) {
			t.Errorf("preflight of --blocker %s: exit %d, want %d with finding %s:\n%s", b.Name, code, wantCode, b.Finding, out)
		}
	}
}

func TestDemoGeneralizesCapturesAndVerifies(t *testing.T) {
	keep := filepath.Join(t.TempDir(), "demo")
	code, out, errOut := runCLI(t, "demo", "--keep", keep)
	if code != exitOK {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"sample ", "preflight ", "0 error(s)", "generalize ", "identity", "capture ", "verify ", "integrity table check out", "kept:", "IMAGE_STATE_COMPLETE -> IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE", "MachineGuid "} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	// The file counts add up: the generalized volume's files, less those
	// capture leaves out (said on the capture line), are the image's.
	var after, leftOut, inImage int
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.Contains(l, "files ") && strings.Contains(l, " -> "):
			fmt.Sscanf(l[strings.Index(l, " -> ")+4:], "%d", &after)
		case strings.HasPrefix(l, "capture"):
			if i := strings.Index(l, "; "); i >= 0 {
				fmt.Sscanf(l[i+2:], "%d", &leftOut)
			}
		case strings.HasPrefix(l, "verify"):
			if i := strings.Index(l, " dirs, "); i >= 0 {
				fmt.Sscanf(l[i+len(" dirs, "):], "%d", &inImage)
			}
		}
	}
	if after == 0 || inImage == 0 || after-leftOut != inImage {
		t.Errorf("files after generalize %d, left out %d, in the image %d: the demo does not account for them:\n%s", after, leftOut, inImage, out)
	}
	state, err := os.ReadFile(filepath.Join(keep, "volume", "Windows", "Setup", "State", "State.ini"))
	if err != nil || !strings.Contains(string(state), "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE") {
		t.Errorf("the kept volume is not generalized: %q %v", state, err)
	}
	wimPath := filepath.Join(keep, "sample.wim")
	imagex := testenv.Peer(t, "wimlib-imagex")
	if b, err := exec.Command(imagex, "verify", wimPath).CombinedOutput(); err != nil {
		t.Errorf("wimlib-imagex verify: %v\n%s", err, b)
	}
	b, err := exec.Command(imagex, "info", wimPath, "1").CombinedOutput()
	if err != nil || !strings.Contains(string(b), "reseal demo") {
		t.Errorf("wimlib-imagex info: %v\n%s", err, b)
	}
	// The image holds the generalized volume: no event logs, no page file.
	dir, err := exec.Command(imagex, "dir", wimPath, "1").CombinedOutput()
	if err != nil {
		t.Fatalf("wimlib-imagex dir: %v\n%s", err, dir)
	}
	listing := string(dir)
	for _, gone := range []string{"/pagefile.sys", "/Windows/System32/winevt/Logs/System.evtx"} {
		if strings.Contains(listing, gone+"\n") {
			t.Errorf("captured image still has %s", gone)
		}
	}
	for _, kept := range []string{"/Windows/System32/config/SYSTEM", "/Windows/System32/Sysprep/Sysprep_succeeded.tag"} {
		if !strings.Contains(listing, kept+"\n") {
			t.Errorf("captured image lacks %s", kept)
		}
	}
}

func TestDemoWithBlockerShowsRefusal(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	code, out, errOut := runCLI(t, "demo", "--blocker", "pending")
	if code != exitOK {
		t.Fatalf("demo --blocker pending: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"pending-servicing", "refused by preflight", "volume unchanged"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "capture ") {
		t.Errorf("a refused demo went on to capture:\n%s", out)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("demo left %d entries in the temporary directory", len(entries))
	}
}

// TestDirtySampleGeneralizes: a sample whose SYSTEM hive was never flushed
// (newest changes only in SYSTEM.LOG1) generalizes, what was only in the
// log survives in the new primary file (read by hivex, which never replays
// logs), and the log can no longer be replayed over it.
func TestDirtySampleGeneralizes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vol")
	if code, _, errOut := runCLI(t, "sample", dir, "--dirty"); code != exitOK {
		t.Fatalf("sample --dirty: exit %d %s", code, errOut)
	}
	system := filepath.Join(dir, "Windows", "System32", "config", "SYSTEM")
	hivexget := testenv.Peer(t, "hivexget")
	const logged = `ControlSet001\Services\vm3dservice`
	if out, err := exec.Command(hivexget, system, logged, "Start").CombinedOutput(); err == nil {
		t.Fatalf("the primary file already holds %s (%s): the sample is not dirty", logged, out)
	}
	if code, out, errOut := runCLI(t, "generalize", dir); code != exitOK {
		t.Fatalf("generalize: exit %d\n%s\n%s", code, out, errOut)
	}
	out, err := exec.Command(hivexget, system, logged, "Start").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "2" {
		t.Errorf("after generalize, hivex reads %s Start = %q (%v), want 2", logged, out, err)
	}
	h, err := hive.Open(system, &hive.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if r := h.Recovery(); r.Dirty || r.Applied {
		t.Errorf("the generalized SYSTEM is still dirty or its log still applies: %+v", r)
	}
}

// TestSampleBlockerNamesInHelpAreAccepted: every name `sample --help` lists
// for --blocker (the blocker and the finding it causes) is accepted, and a
// server-only blocker without --windows says that it makes a server.
func TestSampleBlockerNamesInHelpAreAccepted(t *testing.T) {
	_, help, _ := runCLI(t, "sample", "--help")
	for _, b := range sample.Blockers() {
		for _, name := range []string{b.Name, b.Finding, strings.ToUpper(b.Name)} {
			if !strings.Contains(help, b.Name) || !strings.Contains(help, b.Finding) {
				t.Errorf("help does not list %s / %s", b.Name, b.Finding)
			}
			sf := sampleFlags{blockers: stringList{name}}
			if b.NeedsServer {
				sf.windows = "server2022"
			}
			if opts, _, err := sf.options(); err != nil || len(opts.Blockers) != 1 || opts.Blockers[0] != b.Name {
				t.Errorf("--blocker %s: %v, %v", name, opts.Blockers, err)
			}
		}
	}
	code, out, stderr := runCLI(t, "sample", filepath.Join(t.TempDir(), "v"), "--blocker", "role")
	if code != exitOK || !strings.Contains(stderr, "note: --blocker role exists only on a server") || !strings.Contains(out, "Windows Server 2022") {
		t.Errorf("--blocker role: exit %d, %q, %q", code, out, stderr)
	}
}
