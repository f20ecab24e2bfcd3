package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

// TestCommittedTableIsCurrent regenerates the table from the shared JSON and
// compares it with the committed catalog_gen.go: a difference means someone
// forgot `go generate ./unattend/...`.
func TestCommittedTableIsCurrent(t *testing.T) {
	corpus := testenv.Corpus(t, "unattend")
	in := filepath.Join(corpus, "..", "..", "catalog", "unattend-catalog.json")
	if _, err := os.Stat(in); err != nil {
		t.Skipf("shared catalog not found: %v", err)
	}
	out := filepath.Join(t.TempDir(), "catalog_gen.go")
	if err := run(in, out); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	want, err := os.ReadFile("../catalog/catalog_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("catalog_gen.go is stale: run go generate ./unattend/...")
	}
}

func TestGenerateFoldsMangledComponents(t *testing.T) {
	c := &jsonCatalog{
		Source: "test",
		Passes: passOrder,
		Components: map[string]jsonComponent{
			"Microsoft-Windows-Setup":  {},
			"microsoft-windows-setup-": {},
		},
		Settings: map[string]jsonSetting{
			"Microsoft-Windows-Setup/UserData":                             {Component: "Microsoft-Windows-Setup", Path: []string{"UserData"}, Passes: []string{"windowsPE"}},
			"microsoft-windows-setup-/UserData/AcceptEula":                 {Component: "microsoft-windows-setup-", Path: []string{"UserData", "AcceptEula"}, Passes: []string{"windowsPE"}, Values: []string{"true", "false", "true", "false"}},
			"microsoft-windows-setup-/UserData":                            {Component: "microsoft-windows-setup-", Path: []string{"UserData"}, Passes: []string{"oobeSystem"}},
			"Microsoft-Windows-Setup/RunSynchronous/RunSynchronousCommand": {Component: "Microsoft-Windows-Setup", Path: []string{"RunSynchronous", "RunSynchronousCommand"}, Passes: []string{"windowsPE"}},
		},
	}
	c.Settings["Microsoft-Windows-Setup/RunSynchronous/RunSynchronousCommand"] = jsonSetting{
		Component: "Microsoft-Windows-Setup", Path: []string{"RunSynchronous", "RunSynchronousCommand"}, Passes: []string{"windowsPE"},
		ListItem: &struct {
			KeyValue bool `json:"keyValue"`
		}{KeyValue: false},
	}
	src, err := generate(c)
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	for _, want := range []string{
		`"Microsoft-Windows-Setup\t0\tC\t\n"`,
		`"Microsoft-Windows-Setup/UserData\t1\t\t\n"`, // the proper spelling wins over the mangled duplicate
		`"Microsoft-Windows-Setup/UserData/AcceptEula\t1\t\ttrue|false\n"`,
		`"Microsoft-Windows-Setup/RunSynchronous/RunSynchronousCommand\t1\tL\t\n"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %s:\n%s", want, s)
		}
	}
	if strings.Contains(s, "setup-") {
		t.Errorf("mangled name survives:\n%s", s)
	}
	bad := &jsonCatalog{Passes: []string{"lunchtime"}}
	if _, err := generate(bad); err == nil {
		t.Error("unknown pass accepted")
	}
}
