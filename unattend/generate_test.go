package unattend

import (
	"strings"
	"testing"
)

func TestGenerateValidatesAndRoundTrips(t *testing.T) {
	full := GenerateOptions{
		Arch: "arm64", GeneralizeMode: "audit", PersistAllDeviceInstalls: true, SkipRearm: true,
		ComputerName: "BUILD-01", TimeZone: "Pacific Standard Time", AdministratorPassword: "S3cret!",
	}
	for _, o := range []GenerateOptions{{}, full, {ComputerName: "*", Arch: "x86"}, {GeneralizeMode: "OOBE"}} {
		f, err := Generate(o)
		if err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
		out := write(t, f)
		if fs := f.Validate(); len(fs) != 0 {
			t.Errorf("%+v: findings %v\n%s", o, fs, out)
		}
		g := mustParse(t, out)
		if dump(f) != dump(g) {
			t.Errorf("%+v: round trip changed the tree:\n%s", o, firstDiff(dump(f), dump(g)))
		}
		if fs := g.Validate(); len(fs) != 0 {
			t.Errorf("%+v: reparsed findings %v", o, fs)
		}
	}
	f, _ := Generate(full)
	g := mustParse(t, write(t, f))
	checks := []struct{ pass, component, path, want string }{
		{"generalize", "Microsoft-Windows-PnpSysprep", "PersistAllDeviceInstalls", "true"},
		{"generalize", "Microsoft-Windows-Security-SPP", "SkipRearm", "1"},
		{"specialize", "Microsoft-Windows-Shell-Setup", "ComputerName", "BUILD-01"},
		{"specialize", "Microsoft-Windows-Shell-Setup", "TimeZone", "Pacific Standard Time"},
		{"auditUser", "Microsoft-Windows-Deployment", "Generalize/Mode", "Audit"},
		{"oobeSystem", "Microsoft-Windows-Shell-Setup", "UserAccounts/AdministratorPassword/PlainText", "false"},
	}
	for _, c := range checks {
		if v, ok := g.Setting(c.pass, "arm64", c.component, c.path); !ok || v != c.want {
			t.Errorf("%s %s/%s = %q, want %q", c.pass, c.component, c.path, v, c.want)
		}
	}
	enc, _ := g.Setting("oobeSystem", "arm64", "Microsoft-Windows-Shell-Setup", "UserAccounts/AdministratorPassword/Value")
	if pw, err := DecodePassword(enc, "AdministratorPassword"); err != nil || pw != "S3cret!" {
		t.Errorf("password %q, %v", pw, err)
	}
	if out := string(write(t, f)); !strings.HasPrefix(out, `<?xml version="1.0" encoding="utf-8"?>`+"\n"+`<unattend xmlns="urn:schemas-microsoft-com:unattend">`+"\n    <settings pass=\"generalize\">\n        <component name=") {
		t.Errorf("layout:\n%s", out)
	}
}

func TestGenerateRefuses(t *testing.T) {
	for _, o := range []GenerateOptions{
		{Arch: "wow64"}, {Arch: "mips"}, {GeneralizeMode: "later"}, {ComputerName: "BAD NAME"}, {ComputerName: "1234"}, {TimeZone: "UTC\n"},
	} {
		if _, err := Generate(o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}
