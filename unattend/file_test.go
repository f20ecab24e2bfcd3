package unattend

import (
	"strings"
	"testing"
)

func TestQueries(t *testing.T) {
	f := mustParse(t, readCorpus(t, "cloudbase-unattended-setup_Unattend.xml"))
	if got := strings.Join(f.Passes(), ","); got != "generalize,oobeSystem" && !strings.HasPrefix(got, "generalize,") {
		t.Errorf("passes %s", got)
	}
	gen := f.Pass("generalize", "")
	if len(gen) != 2 || gen[0].Arch != "amd64" || gen[1].Arch != "x86" {
		t.Fatalf("generalize components: %+v", gen)
	}
	if c := f.Pass("generalize", "x86"); len(c) != 1 || c[0].Name != "Microsoft-Windows-PnpSysprep" {
		t.Errorf("x86 generalize: %+v", c)
	}
	v, ok, err := f.SettingBool("generalize", "amd64", "microsoft-windows-pnpsysprep", "PersistAllDeviceInstalls")
	if !v || !ok || err != nil {
		t.Errorf("PersistAllDeviceInstalls = %v %v %v", v, ok, err)
	}
	if _, ok := f.Setting("generalize", "arm64", "Microsoft-Windows-PnpSysprep", "PersistAllDeviceInstalls"); ok {
		t.Error("arm64 matched an amd64 component")
	}
	if _, ok := f.Setting("specialize", "", "Microsoft-Windows-PnpSysprep", "PersistAllDeviceInstalls"); ok {
		t.Error("a setting found in a pass the file does not have")
	}

	m := mustParse(t, readCorpus(t, "mwrock_postunattend.xml"))
	if n, ok, err := m.SettingInt("generalize", "amd64", "Microsoft-Windows-Security-SPP", "SkipRearm"); n != 1 || !ok || err != nil {
		t.Errorf("SkipRearm = %d %v %v", n, ok, err)
	}
	if _, ok, err := m.SettingInt("oobeSystem", "amd64", "Microsoft-Windows-Shell-Setup", "TimeZone"); !ok || err == nil {
		t.Error("TimeZone read as an integer")
	}
	// A container is not a value.
	if _, ok := m.Setting("oobeSystem", "amd64", "Microsoft-Windows-Shell-Setup", "OOBE"); ok {
		t.Error("container OOBE returned as a value")
	}
}

func TestListItems(t *testing.T) {
	f := mustParse(t, readCorpus(t, "bento_11_arm64_Autounattend.xml"))
	c := f.Component("windowsPE", "arm64", "Microsoft-Windows-PnpCustomizationsWinPE")
	if c == nil {
		t.Fatal("component missing")
	}
	items := c.List("DriverPaths")
	if len(items) != 10 {
		t.Fatalf("%d items", len(items))
	}
	for i, it := range items {
		if it.Action != "add" || it.KeyValue != itoa(i+2) {
			t.Errorf("item %d: %q %q", i, it.Action, it.KeyValue)
		}
	}
	if p := items[1].Node.Child("Path").Content(); p != `F:\NetKVM\w11\ARM64` {
		t.Errorf("item 2 path %q", p)
	}

	v := mustParse(t, readCorpus(t, vagrant))
	cmds := v.Component("oobeSystem", "amd64", "Microsoft-Windows-Shell-Setup").List("FirstLogonCommands")
	if len(cmds) != 3 || cmds[2].KeyValue != "" || !strings.Contains(cmds[2].Node.Child("CommandLine").Content(), "{&$p}") {
		t.Errorf("FirstLogonCommands: %d items", len(cmds))
	}
}

func TestSetSettingEditsInPlace(t *testing.T) {
	data := readCorpus(t, "mwrock_postunattend.xml")
	f := mustParse(t, data)
	if err := f.SetSetting("generalize", "amd64", "Microsoft-Windows-PnpSysprep", "PersistAllDeviceInstalls", "true"); err != nil {
		t.Fatal(err)
	}
	if err := f.SetSetting("specialize", "amd64", "Microsoft-Windows-Shell-Setup", "ComputerName", "BUILD-01"); err != nil {
		t.Fatal(err)
	}
	out := write(t, f)
	g := mustParse(t, out)
	if v, _ := g.Setting("generalize", "amd64", "Microsoft-Windows-PnpSysprep", "PersistAllDeviceInstalls"); v != "true" {
		t.Errorf("PersistAllDeviceInstalls = %q", v)
	}
	if v, _ := g.Setting("specialize", "amd64", "Microsoft-Windows-Shell-Setup", "ComputerName"); v != "BUILD-01" {
		t.Errorf("ComputerName = %q", v)
	}
	if fs := g.Validate(); HasErrors(fs) {
		t.Errorf("edited file has errors: %v", fs)
	}
	// The file has an empty <settings pass="specialize">: the new
	// component goes there, three lines; nothing else moves.
	orig := strings.Split(string(data), "\n")
	got := strings.Split(string(out), "\n")
	if len(got) != len(orig)+3 {
		t.Errorf("%d lines, want %d:\n%s", len(got), len(orig)+3, out)
	}
	if !strings.Contains(string(out), "    <settings pass=\"specialize\">\n        <component name=\"Microsoft-Windows-Shell-Setup\"") {
		t.Errorf("new component not indented like its neighbours:\n%s", out)
	}
	if err := f.SetSetting("oobeSystem", "", "Contoso-New", "A", "1"); err == nil {
		t.Error("created a component without an architecture")
	}
}

func TestLeaves(t *testing.T) {
	f := mustParse(t, readCorpus(t, vagrant))
	leaves := f.Component("oobeSystem", "amd64", "Microsoft-Windows-Shell-Setup").Leaves()
	byPath := map[string]Leaf{}
	for _, l := range leaves {
		if _, dup := byPath[l.Path]; dup {
			t.Errorf("path %s twice", l.Path)
		}
		byPath[l.Path] = l
	}
	if l := byPath["FirstLogonCommands/SynchronousCommand[2]/Order"]; l.Value != "2" || l.Action != "add" {
		t.Errorf("second command: %+v", l)
	}
	if l := byPath["UserAccounts/LocalAccounts/LocalAccount[1]/Name"]; l.Value != "vagrant" {
		t.Errorf("local account: %+v", l)
	}
	if l := byPath["TimeZone"]; l.Value != "UTC" || l.Action != "" || l.Node.Line == 0 {
		t.Errorf("TimeZone: %+v", l)
	}
	if len(leaves) != 27 { // OOBE 6, TimeZone 1, AdministratorPassword 2, LocalAccount 6, AutoLogon 4, FirstLogonCommands 8
		t.Errorf("%d leaves", len(leaves))
	}
}
