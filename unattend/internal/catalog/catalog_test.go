package catalog

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

func TestDefaultCatalogLoads(t *testing.T) {
	c := Default()
	if c.Len() < 1000 {
		t.Fatalf("catalog has %d settings, want over 1000", c.Len())
	}
	tests := []struct {
		component, path string
		pass            string
		values          []string
		listItem        bool
	}{
		{"Microsoft-Windows-PnpSysprep", "PersistAllDeviceInstalls", "generalize", []string{"true", "false"}, false},
		{"microsoft-windows-pnpsysprep", "PersistAllDeviceInstalls", "generalize", nil, false}, // case-insensitive component
		{"Microsoft-Windows-Security-SPP", "SkipRearm", "generalize", []string{"0", "1"}, false},
		{"Microsoft-Windows-Deployment", "Generalize/Mode", "auditUser", []string{"Audit", "OOBE"}, false},
		{"Microsoft-Windows-Deployment", "RunSynchronous/RunSynchronousCommand", "specialize", nil, true},
		// Spelled "microsoft-windows-setup-" by the extraction; folded in by gencatalog.
		{"Microsoft-Windows-Setup", "DiskConfiguration/Disk/DiskID", "windowsPE", nil, false},
		{"Microsoft-Windows-PnpCustomizationsWinPE", "DriverPaths/PathAndCredentials/Path", "windowsPE", nil, false},
		// additions.go
		{"Microsoft-Windows-Shell-Setup", "OOBE/SkipMachineOOBE", "oobeSystem", []string{"true", "false"}, false},
	}
	for _, tt := range tests {
		s, ok := c.Lookup(tt.component, tt.path)
		if !ok {
			t.Errorf("%s/%s: not found", tt.component, tt.path)
			continue
		}
		if !s.Passes.Has(tt.pass) {
			t.Errorf("%s/%s: passes %v lack %s", tt.component, tt.path, s.Passes.Names(), tt.pass)
		}
		if tt.values != nil && strings.Join(s.Values, "|") != strings.Join(tt.values, "|") {
			t.Errorf("%s/%s: values %v, want %v", tt.component, tt.path, s.Values, tt.values)
		}
		if s.ListItem != tt.listItem {
			t.Errorf("%s/%s: list item %v, want %v", tt.component, tt.path, s.ListItem, tt.listItem)
		}
	}
	if _, ok := c.Lookup("Microsoft-Windows-Shell-Setup", "NoSuchSetting"); ok {
		t.Error("unknown setting found")
	}
	if _, ok := c.Component("Microsoft-Windows-IE-ClientNetworkProtocolImplementation"); !ok {
		t.Error("component without settings of its own is unknown")
	}
}

func TestValueAllowedIgnoresCase(t *testing.T) {
	s := &Setting{Values: []string{"True", "false"}}
	for _, v := range []string{"true", "TRUE", " false "} {
		if !s.ValueAllowed(v) {
			t.Errorf("%q refused", v)
		}
	}
	if s.ValueAllowed("yes") {
		t.Error("yes accepted")
	}
	if !(&Setting{}).ValueAllowed("anything") {
		t.Error("free setting refused a value")
	}
}

// TestGeneratedMatchesShared regenerates nothing but checks that every
// setting of the shared JSON is reachable in the embedded table, so a stale
// catalog_gen.go is noticed (run `go generate ./unattend/...` to refresh it).
func TestGeneratedMatchesShared(t *testing.T) {
	dir := testenv.CorpusDir()
	if dir == "" {
		testenv.Corpus(t, "unattend") // skips or fails as configured
	}
	path := filepath.Join(dir, "..", "catalog", "unattend-catalog.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("shared catalog not readable: %v", err)
	}
	var js struct {
		Settings map[string]struct {
			Component string   `json:"component"`
			Path      []string `json:"path"`
			Passes    []string `json:"passes"`
		} `json:"settings"`
	}
	if err := json.Unmarshal(data, &js); err != nil {
		t.Fatal(err)
	}
	c := Default()
	for key, s := range js.Settings {
		comp := strings.TrimRight(strings.TrimSuffix(s.Component, ".md)"), "-")
		got, ok := c.Lookup(comp, strings.Join(s.Path, "/"))
		if !ok {
			t.Errorf("%s: missing from the embedded catalog", key)
			continue
		}
		for _, p := range s.Passes {
			if !got.Passes.Has(p) && !strings.HasSuffix(s.Component, "-") {
				t.Errorf("%s: embedded passes %v lack %s", key, got.Passes.Names(), p)
			}
		}
	}
}

func TestAdditionsAreDocumented(t *testing.T) {
	for _, a := range additions {
		if !strings.HasPrefix(a.DocumentedAt, "http") {
			t.Errorf("%s/%s: no documentation address", a.Component, a.Path)
		}
		if !a.Added {
			t.Errorf("%s/%s: not marked Added", a.Component, a.Path)
		}
	}
}
