package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInspectExpect: inspect --expect answers right on a generalized and a
// non-generalized image, as a directory and as an image inside a WIM, for
// OOBE and audit; the cached answer file shows its passes with the
// passwords masked.
func TestInspectExpect(t *testing.T) {
	golden := wimlibCapture(t)
	dir := sampleVolume(t)
	answer := filepath.Join(t.TempDir(), "unattend.xml")
	const answerXML = `<?xml version="1.0" encoding="utf-8"?>
<unattend xmlns="urn:schemas-microsoft-com:unattend" xmlns:wcm="http://schemas.microsoft.com/WMIConfig/2002/State">
  <settings pass="generalize">
    <component name="Microsoft-Windows-PnpSysprep" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS">
      <PersistAllDeviceInstalls>false</PersistAllDeviceInstalls>
    </component>
  </settings>
  <settings pass="oobeSystem">
    <component name="Microsoft-Windows-Shell-Setup" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS">
      <UserAccounts>
        <AdministratorPassword>
          <Value>TopSecret-Inspect-42</Value>
          <PlainText>true</PlainText>
        </AdministratorPassword>
      </UserAccounts>
    </component>
  </settings>
</unattend>
`
	if err := os.WriteFile(answer, []byte(answerXML), 0o644); err != nil {
		t.Fatal(err)
	}
	genDir := sampleVolume(t)
	if code, _, stderr := runCLI(t, "generalize", genDir, "--unattend", answer); code != exitOK {
		t.Fatalf("generalize: %d %s", code, stderr)
	}
	auditDir := sampleVolume(t)
	if code, _, stderr := runCLI(t, "generalize", auditDir, "--audit"); code != exitOK {
		t.Fatalf("generalize --audit: %d %s", code, stderr)
	}
	genWIM := filepath.Join(t.TempDir(), "gen.wim")
	if code, _, stderr := runCLI(t, "generalize", golden+":1", "-o", genWIM); code != exitOK {
		t.Fatalf("generalize in WIM: %d %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "generalize", golden+":golden", "--append", "--audit"); code != exitOK {
		t.Fatalf("generalize --append --audit: %d %s", code, stderr)
	}
	for _, c := range []struct {
		target, state string
	}{
		{dir, "complete"}, {genDir, "generalized"}, {auditDir, "audit"},
		{golden + ":1", "complete"}, {genWIM + ":1", "generalized"}, {golden + ":2", "audit"},
	} {
		for _, want := range []string{"generalized", "audit", "complete"} {
			code, stdout, stderr := runCLI(t, "inspect", c.target, "--expect", want)
			switch {
			case want == c.state && code != exitOK:
				t.Errorf("inspect %s --expect %s: exit %d\n%s%s", c.target, want, code, stdout, stderr)
			case want != c.state && code != exitRefused:
				t.Errorf("inspect %s --expect %s: exit %d, want 1", c.target, want, code)
			case want != c.state && !strings.Contains(stderr, "want"):
				t.Errorf("inspect %s --expect %s: the error names nothing that differs: %s", c.target, want, stderr)
			}
		}
		code, stdout, _ := runCLI(t, "inspect", c.target, "--json")
		var got struct {
			State string `json:"state"`
		}
		if code != exitOK || json.Unmarshal([]byte(stdout), &got) != nil || got.State != c.state {
			t.Errorf("inspect %s --json: exit %d, state %q, want %q", c.target, code, got.State, c.state)
		}
	}
	_, stdout, _ := runCLI(t, "inspect", genDir, "--json")
	var in struct {
		AnswerFile struct {
			Present   bool     `json:"present"`
			Passes    []string `json:"passes"`
			Processed []string `json:"processed"`
			Content   string   `json:"content"`
		} `json:"answer_file"`
	}
	if err := json.Unmarshal([]byte(stdout), &in); err != nil {
		t.Fatal(err)
	}
	cached, err := os.ReadFile(filepath.Join(genDir, "Windows", "Panther", "unattend.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if !in.AnswerFile.Present || len(in.AnswerFile.Passes) == 0 || !strings.Contains(in.AnswerFile.Content, "unattend") {
		t.Errorf("cached answer file not reported: %+v", in.AnswerFile)
	}
	if !strings.Contains(string(cached), "TopSecret-Inspect-42") {
		t.Log("the cached answer file holds no password to mask (the engine masked it already)")
	}
	if strings.Contains(in.AnswerFile.Content, "TopSecret-Inspect-42") || !strings.Contains(in.AnswerFile.Content, "SENSITIVE") {
		t.Errorf("the password is not masked:\n%s", in.AnswerFile.Content)
	}
	if !slicesContains(in.AnswerFile.Processed, "generalize") {
		t.Errorf("processed passes %v lack generalize", in.AnswerFile.Processed)
	}
}

func slicesContains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
