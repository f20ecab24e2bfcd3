package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/reseal/reseal/sample"
	"github.com/reseal/reseal/sysprep"
)

func runReseal(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func sampleVolume(t *testing.T, blockers ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "vol")
	if err := sample.Write(dir, sample.Options{Blockers: blockers, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestSysprepSwitches(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		usage bool
		mode  sysprep.Mode
		vm    bool
		notes int
	}{
		{args: []string{"T", "/generalize", "/oobe", "/shutdown"}, mode: sysprep.ModeOOBE, notes: 1},
		{args: []string{"T", "/GENERALIZE", "/Audit", "/quiet"}, mode: sysprep.ModeAudit},
		{args: []string{"/generalize", "T", "/oobe", "/mode:VM", "/reboot", "/unattend:u.xml"}, vm: true, notes: 1},
		{args: []string{"T", "-generalize", "-oobe"}},
		{args: []string{"T", "/generalize", "/oobe", "/audit"}, usage: true},
		{args: []string{"T", "/generalize", "/reboot", "/shutdown"}, usage: true},
		{args: []string{"T", "/oobe", "/mode:vm"}, usage: true},
		{args: []string{"T", "/generalize", "/audit", "/mode:vm"}, usage: true},
		{args: []string{"T", "/generalize", "/mode:hyperv"}, usage: true},
		{args: []string{"T", "/oobe"}, usage: true},
		{args: []string{"T"}, usage: true},
		{args: []string{"T", "/generalize", "/bogus"}, usage: true},
		{args: []string{"T", "/generalize", "/unattend"}, usage: true},
		{args: []string{"/generalize", "/oobe"}, usage: true},
		{args: []string{"T", "U", "/generalize"}, usage: true},
		{args: []string{"T", "/generalize", "/generalize"}, usage: true},
	} {
		req, err := parseSysprepSwitches(tc.args)
		if tc.usage {
			var ee *exitError
			if err == nil || !errorsAs(err, &ee) || ee.code != exitUsage {
				t.Errorf("%v: err = %v, want a usage error", tc.args, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if req.opts.Mode != tc.mode || req.opts.VM != tc.vm || len(req.notes) != tc.notes {
			t.Errorf("%v: got mode %v vm %v notes %v", tc.args, req.opts.Mode, req.opts.VM, req.notes)
		}
	}
}

func TestPreflightCommand(t *testing.T) {
	vol := sampleVolume(t, "appx")
	code, out, _ := runReseal(t, "preflight", vol)
	if code != exitRefused || !strings.Contains(out, "appx-not-provisioned") || !strings.Contains(out, "0x80073cf2") || !strings.Contains(out, "Remove-AppxPackage") {
		t.Errorf("code %d, output:\n%s", code, out)
	}
	code, out, _ = runReseal(t, "preflight", vol, "--json")
	var r sysprep.Report
	if code != exitRefused || json.Unmarshal([]byte(out), &r) != nil || !r.HasErrors() {
		t.Errorf("--json: code %d, output:\n%s", code, out)
	}
	if code, _, _ := runReseal(t, "preflight", sampleVolume(t)); code != exitOK {
		t.Errorf("clean sample: code %d", code)
	}
	if code, _, _ := runReseal(t, "preflight"); code != exitUsage {
		t.Errorf("no target: code %d", code)
	}
	if code, _, _ := runReseal(t, "preflight", t.TempDir()); code != exitFailure {
		t.Errorf("not a Windows volume: code %d", code)
	}
}

func TestGeneralizeAndSysprepCommands(t *testing.T) {
	vol := sampleVolume(t)
	code, out, _ := runReseal(t, "generalize", vol, "--dry-run", "--json")
	var dry struct {
		sysprep.Report
		DryRun bool `json:"dry_run"`
	}
	if code != exitOK || json.Unmarshal([]byte(out), &dry) != nil || !dry.DryRun || len(dry.Actions) == 0 {
		t.Fatalf("dry run: code %d, output:\n%.400s", code, out)
	}
	code, out, _ = runReseal(t, "sysprep", vol, "/generalize", "/oobe", "/shutdown")
	if code != exitOK || !strings.Contains(out, "/shutdown has nothing to act on offline") || !strings.Contains(out, "generalized:") {
		t.Errorf("sysprep: code %d, output:\n%s", code, out)
	}
	if code, _, _ := runReseal(t, "generalize", vol, "--oobe", "--audit"); code != exitUsage {
		t.Errorf("--oobe --audit: code %d", code)
	}
	if code, _, _ := runReseal(t, "generalize", vol, "--mode", "container"); code != exitUsage {
		t.Errorf("--mode container: code %d", code)
	}
	blocked := sampleVolume(t, "pending")
	if code, _, _ := runReseal(t, "sysprep", blocked, "/generalize", "/oobe", "/quiet"); code != exitRefused {
		t.Errorf("blocked sysprep: code %d", code)
	}
}

func errorsAs(err error, target **exitError) bool { return errors.As(err, target) }

// TestPreflightRecoversJournalFirst leaves the staging area of a commit that
// never reached its commit point; the next command, even preflight, rolls it
// back and says so.
func TestPreflightRecoversJournalFirst(t *testing.T) {
	vol := sampleVolume(t)
	staged := filepath.Join(vol, "reseal-journal", "staged")
	if err := os.MkdirAll(staged, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(staged, "0000"), []byte("half-written hive"), 0o644); err != nil {
		t.Fatal(err)
	}
	bindTestJournal(t, vol)
	code, out, errOut := runReseal(t, "preflight", vol, "--json")
	if code != exitOK || !strings.Contains(errOut, "journal: rolled back") {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
	var r sysprep.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil || !strings.HasPrefix(r.Journal, "rolled back") {
		t.Errorf("report journal %q (%v)", r.Journal, err)
	}
	if _, err := os.Stat(filepath.Join(vol, "reseal-journal")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("journal still there: %v", err)
	}
}

// TestCommandsRefuseALockedVolume: while another run's lock is on the
// volume, every command fails with exit 3, names the lock file and its
// holder, and leaves the lock alone.
func TestCommandsRefuseALockedVolume(t *testing.T) {
	vol := sampleVolume(t)
	lockPath := filepath.Join(vol, sysprep.LockFile)
	lock := `{"pid":4242,"host":"build-host-elsewhere","started":"2026-11-24T07:00:00Z"}`
	if err := os.WriteFile(lockPath, []byte(lock), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"preflight", vol},
		{"generalize", vol},
		{"generalize", vol, "--dry-run"},
		{"sysprep", vol, "/generalize", "/oobe", "/quiet"},
	} {
		code, _, errOut := runReseal(t, args...)
		if code != exitFailure || !strings.Contains(errOut, lockPath) || !strings.Contains(errOut, "process 4242") || !strings.Contains(errOut, "build-host-elsewhere") {
			t.Errorf("%v: code %d, stderr %q", args, code, errOut)
		}
	}
	if data, err := os.ReadFile(lockPath); err != nil || string(data) != lock {
		t.Errorf("the other run's lock changed: %q %v", data, err)
	}
}

// TestRecoveryNoteInPantherLog: a journal the command recovers before
// generalizing (rolled back or rolled forward) is recorded in the run's
// setupact.log, in Sysprep's line format, as well as on stderr.
func TestRecoveryNoteInPantherLog(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		journal    map[string]string
	}{
		{"roll back", "rolled back an interrupted generalize", map[string]string{
			"staged/0000": "half-written hive",
		}},
		{"roll forward", "rolled forward an interrupted generalize", map[string]string{
			"staged/0000": "finished by recovery\r\n",
			"journal.json": `{"version":1,"state":"committed","created":"2026-11-24T06:00:00Z","run":"r1",` +
				`"steps":[{"op":"replace","path":"Windows/Temp/from-the-journal.txt","staged":"staged/0000"}]}`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vol := sampleVolume(t)
			for name, content := range tc.journal {
				p := filepath.Join(vol, "reseal-journal", filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			bindTestJournal(t, vol)
			code, _, errOut := runReseal(t, "sysprep", vol, "/generalize", "/oobe")
			if code != exitOK || !strings.Contains(errOut, "journal: "+tc.want) {
				t.Fatalf("code %d, stderr %q", code, errOut)
			}
			log, err := os.ReadFile(filepath.Join(vol, "Windows", "System32", "Sysprep", "Panther", "setupact.log"))
			if err != nil {
				t.Fatal(err)
			}
			line := regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d, Info {7}\s{10} SYSPRP reseal::RecoverJournal: ` + tc.want + `[^\r\n]*\r$`)
			if !line.Match(log) {
				t.Errorf("setupact.log has no recovery line %q:\n%s", tc.want, log)
			}
		})
	}
}
