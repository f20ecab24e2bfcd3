package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
	"github.com/reseal/reseal/unattend"
)

func runUnattendCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &stdio{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func unattendCorpus(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(testenv.Corpus(t, "unattend"), "*.xml"))
	if len(files) == 0 {
		t.Fatal("no answer files in the corpus")
	}
	return files
}

func TestUnattendValidateCorpus(t *testing.T) {
	files := unattendCorpus(t)
	code, out, errs := runUnattendCLI(t, "", append([]string{"unattend", "validate"}, files...)...)
	if code != exitOK || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if !strings.Contains(out, ": warning: ") || strings.Contains(out, ": error: ") {
		t.Errorf("output:\n%s", out)
	}

	code, out, _ = runUnattendCLI(t, "", append([]string{"unattend", "validate", "--json"}, files...)...)
	var res []fileFindingsJSON
	if code != exitOK || json.Unmarshal([]byte(out), &res) != nil || len(res) != len(files) {
		t.Fatalf("exit %d, json:\n%s", code, out)
	}
	for _, r := range res {
		if r.Errors != 0 || r.Failure != "" {
			t.Errorf("%s: %+v", r.File, r)
		}
	}
}

func TestUnattendValidateRefusesBrokenFile(t *testing.T) {
	src, err := os.ReadFile(testenv.Corpus(t, "unattend", "mwrock_postunattend.xml"))
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.xml")
	os.WriteFile(bad, bytes.Replace(src, []byte("<SkipRearm>1<"), []byte("<SkipRearm>2<"), 1), 0o644)
	broken := filepath.Join(t.TempDir(), "broken.xml")
	os.WriteFile(broken, src[:len(src)/2], 0o644)
	good := testenv.Corpus(t, "unattend", "mwrock_postunattend.xml")

	code, out, errs := runUnattendCLI(t, "", "unattend", "validate", good, bad, broken)
	if code != exitRefused {
		t.Fatalf("exit %d, want %d; stderr %q", code, exitRefused, errs)
	}
	for _, want := range []string{bad + ":5:13: error:", "[setting.value]", broken + ":", "[xml.malformed]"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errs, "2 of 3 files have errors") {
		t.Errorf("stderr %q", errs)
	}
	if code, _, _ := runUnattendCLI(t, "", "unattend", "validate", filepath.Join(t.TempDir(), "missing.xml")); code != exitFailure {
		t.Errorf("missing file: exit %d", code)
	}
	if code, out, _ := runUnattendCLI(t, string(src), "unattend", "validate", "-"); code != exitOK || !strings.Contains(out, "-:29:21: warning:") {
		t.Errorf("stdin: exit %d\n%s", code, out)
	}
	if code, _, _ := runUnattendCLI(t, "", "unattend", "validate"); code != exitUsage {
		t.Errorf("no file: exit %d", code)
	}
}

func TestUnattendShow(t *testing.T) {
	path := testenv.Corpus(t, "unattend", "windows-vagrant_2022-uefi_autounattend.xml")
	code, out, errs := runUnattendCLI(t, "", "unattend", "show", path, "--pass", "oobeSystem")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"oobeSystem\n  Microsoft-Windows-International-Core (amd64)\n    InputLocale = en-US\n", "      AdministratorPassword\n        Value = ********\n", "SynchronousCommand [add]", "TimeZone = UTC"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "windowsPE") || strings.Contains(out, "dgBhAGcA") {
		t.Errorf("other pass or a password shown:\n%s", out)
	}
	_, out, _ = runUnattendCLI(t, "", "unattend", "show", path, "--secrets", "--json", "--pass", "oobeSystem")
	var comps []showComponentJSON
	if err := json.Unmarshal([]byte(out), &comps); err != nil || len(comps) != 2 {
		t.Fatalf("json: %v\n%s", err, out)
	}
	found := false
	for _, s := range comps[1].Settings {
		if s.Path == "UserAccounts/AdministratorPassword/Value" && strings.HasPrefix(s.Value, "dgBhAGcA") {
			found = true
		}
		if strings.HasPrefix(s.Path, "FirstLogonCommands/SynchronousCommand[3]/") && s.Action != "add" {
			t.Errorf("%s: action %q", s.Path, s.Action)
		}
	}
	if !found {
		t.Errorf("--secrets did not show the password: %+v", comps[1].Settings)
	}
	if code, _, _ := runUnattendCLI(t, "", "unattend", "show", path, "--pass", "oobe"); code != exitUsage {
		t.Errorf("unknown pass: exit %d", code)
	}
}

func TestUnattendPassword(t *testing.T) {
	code, out, _ := runUnattendCLI(t, "", "unattend", "password", "decode", "dgBhAGcAcgBhAG4AdABBAGQAbQBpAG4AaQBzAHQAcgBhAHQAbwByAFAAYQBzAHMAdwBvAHIAZAA=", "--element", "AdministratorPassword")
	if code != exitOK || out != "vagrant\n" {
		t.Errorf("decode: exit %d, %q", code, out)
	}
	code, out, _ = runUnattendCLI(t, "vagrant\n", "unattend", "password", "encode", "-")
	if code != exitOK || out != "dgBhAGcAcgBhAG4AdABQAGEAcwBzAHcAbwByAGQA\n" {
		t.Errorf("encode: exit %d, %q", code, out)
	}
	if code, _, _ := runUnattendCLI(t, "", "unattend", "password", "decode", "dgBhAGcAcgBhAG4AdABQAGEAcwBzAHcAbwByAGQA", "--element", "AdministratorPassword"); code != exitRefused {
		t.Errorf("wrong element: exit %d", code)
	}
	if code, _, _ := runUnattendCLI(t, "", "unattend", "password", "scramble", "x"); code != exitUsage {
		t.Errorf("unknown action: exit %d", code)
	}
}

func TestUnattendNew(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "unattend.xml")
	os.WriteFile(path, []byte("old"), 0o600)
	code, _, errs := runUnattendCLI(t, "S3cret!\n", "unattend", "new", "--arch", "arm64", "--generalize-mode", "OOBE",
		"--persist-device-installs", "--skip-rearm", "--computer-name", "BUILD-01", "--time-zone", "UTC", "--admin-password-stdin", "-o", path)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	f, err := unattend.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if fs := f.Validate(); len(fs) != 0 {
		t.Errorf("findings: %v", fs)
	}
	enc, _ := f.Setting("oobeSystem", "arm64", "Microsoft-Windows-Shell-Setup", "UserAccounts/AdministratorPassword/Value")
	if pw, err := unattend.DecodePassword(enc, "AdministratorPassword"); pw != "S3cret!" || err != nil {
		t.Errorf("password %q %v", pw, err)
	}
	if v, _ := f.Setting("generalize", "arm64", "Microsoft-Windows-PnpSysprep", "PersistAllDeviceInstalls"); v != "true" {
		t.Errorf("PersistAllDeviceInstalls %q", v)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode of the replaced file changed to %v", st.Mode())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	// The file validates through the command too.
	if code, out, _ := runUnattendCLI(t, "", "unattend", "validate", path); code != exitOK || out != "" {
		t.Errorf("validate new file: exit %d\n%s", code, out)
	}
	code, out, _ := runUnattendCLI(t, "", "unattend", "new", "--time-zone", "UTC")
	if code != exitOK || !strings.Contains(out, "<unattend xmlns=\"urn:schemas-microsoft-com:unattend\">") {
		t.Errorf("stdout: exit %d\n%s", code, out)
	}
	// No setting at all would write an answer file that does nothing.
	if code, out, errs := runUnattendCLI(t, "", "unattend", "new"); code != exitUsage || out != "" || !strings.Contains(errs, "no setting given") {
		t.Errorf("no options: exit %d %q %q", code, out, errs)
	}
	if code, _, errs := runUnattendCLI(t, "", "unattend", "new", "--time-zone", "Europe/Berlin"); code != exitUsage || !strings.Contains(errs, "not a Windows time zone") {
		t.Errorf("IANA time zone: exit %d %q", code, errs)
	}
	if code, _, _ := runUnattendCLI(t, "", "unattend", "new", "--computer-name", "BAD NAME"); code != exitUsage {
		t.Errorf("bad computer name: exit %d", code)
	}
}
