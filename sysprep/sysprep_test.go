package sysprep

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/reseal/reseal/hive"
	"github.com/reseal/reseal/winimage"
)

var fixedNow = func() time.Time { return time.Date(2026, 11, 24, 7, 0, 0, 0, time.UTC) }

func findingIDs(fs []Finding, sev Severity) []string {
	var ids []string
	for _, f := range fs {
		if f.Severity == sev {
			ids = append(ids, f.ID)
		}
	}
	return ids
}

func TestPreflightCleanVolume(t *testing.T) {
	root := newTestVolume(t).save()
	before := treeHash(t, root)
	r, err := Preflight(context.Background(), root, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if r.HasErrors() {
		t.Fatalf("clean volume has errors: %+v", r.Findings)
	}
	if r.Installation.Build != 19045 || r.Installation.Architecture != "amd64" || r.Installation.CurrentControlSet != 1 {
		t.Errorf("installation = %+v", r.Installation)
	}
	if after := treeHash(t, root); after != before {
		t.Error("preflight changed the volume")
	}
}

func TestGeneralizeEffects(t *testing.T) {
	root := newTestVolume(t).save()
	r, err := Generalize(context.Background(), root, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, journalDir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("journal left behind: %v", err)
	}
	v, err := winimage.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	str := func(h, p, name string) string {
		s, _ := v.String(winimage.KeyRef{Hive: h, Path: p}, name)
		return s
	}
	has := func(h, p, name string) bool {
		_, ok := v.Value(winimage.KeyRef{Hive: h, Path: p}, name)
		return ok
	}
	if got := str("SOFTWARE", `Microsoft\Windows\CurrentVersion\Setup\State`, "ImageState"); got != imageStateGeneralizeOOBE {
		t.Errorf("ImageState = %q", got)
	}
	if got := str("SOFTWARE", `Microsoft\Windows\CurrentVersion\Setup\ImageServicingData`, "ImageState"); got != imageStateGeneralizeOOBE {
		t.Errorf("ImageServicingData ImageState = %q", got)
	}
	if n, _ := v.Integer(winimage.KeyRef{Hive: "SYSTEM", Path: `Setup\Status\SysprepStatus`}, "GeneralizationState"); n != 4 {
		t.Errorf("GeneralizationState = %d, want 4 (generalized)", n)
	}
	if has("SYSTEM", `Setup\Status\ChildCompletion`, "setup.exe") {
		t.Error("setup.exe completion flag survived: windeploy would not launch specialize")
	}
	if !has("SYSTEM", `Setup\Status\ChildCompletion`, "oobeldr.exe") || !has("SYSTEM", `Setup\Status\UnattendPasses`, "offlineServicing") {
		t.Error("a Setup\\Status value generalize has no reason to touch was removed")
	}
	if has("SYSTEM", `Setup\Status\UnattendPasses`, "specialize") || has("SYSTEM", `Setup\Status\UnattendPasses`, "oobeSystem") {
		t.Error("the passes the next boot runs are still recorded as done")
	}
	if n, _ := v.Integer(winimage.KeyRef{Hive: "SYSTEM", Path: `Setup\Status\UnattendPasses`}, "offlineServicing"); n != 9 {
		t.Errorf("UnattendPasses offlineServicing = %d, want 9 (untouched)", n)
	}
	if got := str("SYSTEM", `ControlSet001\Control\ComputerName\ComputerName`, "ComputerName"); got != placeholderComputerName {
		t.Errorf("ComputerName = %q", got)
	}
	if has("SOFTWARE", `Microsoft\Cryptography`, "MachineGuid") || has("SOFTWARE", `Microsoft\Windows\CurrentVersion\WindowsUpdate`, "SusClientId") {
		t.Error("machine ids survived")
	}
	if has("SYSTEM", `ControlSet001\Services\Tcpip\Parameters\Interfaces\{5d6a3c1e-1111-4a2b-9c3d-000000000001}`, "DhcpIPAddress") {
		t.Error("DHCP lease survived")
	}
	if !has("SYSTEM", `ControlSet001\Services\Tcpip\Parameters\Interfaces\{5d6a3c1e-1111-4a2b-9c3d-000000000001}`, "EnableDHCP") {
		t.Error("interface configuration was removed with the lease")
	}
	if v.KeyExists(winimage.KeyRef{Hive: "SYSTEM", Path: `ControlSet001\Enum\PCI`}) {
		if k, _ := v.OpenKey(winimage.KeyRef{Hive: "SYSTEM", Path: `ControlSet001\Enum\PCI`}); k != nil {
			if names, _ := k.SubKeyNames(); len(names) > 0 {
				t.Errorf("PCI device installs survived: %v", names)
			}
		}
	}
	if !v.KeyExists(winimage.KeyRef{Hive: "SYSTEM", Path: `ControlSet001\Enum\ROOT\BasicDisplay\0000`}) {
		t.Error("root-enumerated device removed")
	}
	if n, _ := v.Integer(winimage.KeyRef{Hive: "SOFTWARE", Path: "reseal"}, "GeneralizeCount"); n != 1 {
		t.Errorf("GeneralizeCount = %d", n)
	}
	if has("SOFTWARE", `Contoso\Agent`, "AgentId") {
		t.Error("action file deleteValue not carried out")
	}
	if n, _ := v.Integer(winimage.KeyRef{Hive: "SYSTEM", Path: `ControlSet001\Services\ContosoAgent`}, "Start"); n != 3 {
		t.Error("action file setValue not carried out")
	}
	fv, _ := v.Value(winimage.BuiltinAdministratorKey, "F")
	if flags, err := winimage.AccountFlags(fv.Data); err != nil || flags&winimage.AccountDisabled == 0 {
		t.Errorf("built-in Administrator not disabled: %x %v", flags, err)
	}
	for _, gone := range []string{"pagefile.sys", "Windows/System32/winevt/Logs/System.evtx", "Windows/Temp/sub", "Windows/MEMORY.DMP", "Windows/Logs/contoso.log", "Windows/Panther/setupact.log"} {
		if v.Exists(gone) {
			t.Errorf("%s survived", gone)
		}
	}
	for _, kept := range []string{"Windows/INF/machine.inf", "Windows/System32/DriverStore/FileRepository/e1g6032e.inf_amd64_1a2b3c/e1g6032e.inf", "Windows/System32/Sysprep/Sysprep_succeeded.tag"} {
		if !v.Exists(kept) {
			t.Errorf("%s missing", kept)
		}
	}
	ini, _ := v.ReadFile(stateIniPath, 1<<10)
	if !strings.Contains(string(ini), imageStateGeneralizeOOBE) {
		t.Errorf("State.ini = %q", ini)
	}
	log, _ := v.ReadFile(setupactPath, 1<<20)
	if !strings.HasPrefix(string(log), "2024-01-01 00:00:00, Info                  SYSPRP earlier run\r\n") || !strings.Contains(string(log), runBanner) {
		t.Errorf("setupact.log not appended:\n%s", log)
	}
	if len(r.NotRunOffline) == 0 || !strings.Contains(strings.Join(r.NotRunOffline, "\n"), "shsetup.dll") {
		t.Errorf("shsetup.dll not reported as not run: %v", r.NotRunOffline)
	}
	for _, n := range []string{"SYSTEM", "SOFTWARE", "SAM"} {
		h, err := hive.Open(filepath.Join(root, "Windows", "System32", "config", n), nil)
		if err != nil {
			t.Fatal(err)
		}
		if probs := h.Check(); len(probs) > 0 {
			t.Errorf("%s: %v", n, probs)
		}
		h.Close()
	}
}

func TestDryRunChangesNothingAndPlansTheSame(t *testing.T) {
	root := newTestVolume(t).save()
	before := treeHash(t, root)
	dry, err := Generalize(context.Background(), root, Options{Now: fixedNow, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if treeHash(t, root) != before {
		t.Fatal("dry run changed the volume")
	}
	real, err := Generalize(context.Background(), root, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(dry.Actions) != len(real.Actions) {
		t.Fatalf("dry run planned %d actions, the run carried out %d", len(dry.Actions), len(real.Actions))
	}
	for i := range dry.Actions {
		d, r := dry.Actions[i], real.Actions[i]
		if d.Provider != r.Provider || d.Kind != r.Kind || d.Target != r.Target || d.Detail != r.Detail {
			t.Errorf("action %d: dry %+v, real %+v", i, d, r)
		}
	}
	if treeHash(t, root) == before {
		t.Error("the real run changed nothing")
	}
}

// pantherLine is Sysprep's log line: date, time, level padded to 11, an
// optional [0x0fNNNN] id padded to 10, then SYSPRP and the message.
var pantherLine = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}, (Info       |Warning    |Error      )(\[0x[0-9a-f]{6}\]|          ) SYSPRP \S.*$`)

func TestPantherLogsParse(t *testing.T) {
	root := writeSample(t, "10")
	for run := 1; run <= 2; run++ {
		if _, err := Generalize(context.Background(), root, Options{Now: fixedNow, Mode: Mode(run - 1)}); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(setupactPath)))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if !strings.HasSuffix(text, "\r\n") {
		t.Error("setupact.log does not end with CRLF")
	}
	banners := 0
	for i, line := range strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n") {
		if !pantherLine.MatchString(line) {
			t.Errorf("setupact.log line %d not in Sysprep's format: %q", i+1, line)
		}
		if strings.HasSuffix(line, "SYSPRP "+runBanner) {
			banners++
		}
	}
	if banners != 2 {
		t.Errorf("%d run banners after two runs, want 2 (runs are appended)", banners)
	}
	if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(setuperrPath))); err != nil {
		t.Errorf("setuperr.log: %v", err)
	}
}

// TestUnlistableFolderIsReported: a folder the user may not list is
// reported as not cleaned, and the run goes on.
func TestUnlistableFolderIsReported(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root can list any folder")
	}
	tv := newTestVolume(t)
	tv.file("System Volume Information/tracking.log", "x")
	root := tv.save()
	svi := filepath.Join(root, "System Volume Information")
	must(t, os.Chmod(svi, 0))
	defer os.Chmod(svi, 0o755)
	r, err := Generalize(context.Background(), root, Options{Now: fixedNow, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(r.NotRunOffline, "\n"), "System Volume Information cannot be listed") {
		t.Errorf("not reported: %v", r.NotRunOffline)
	}
}

func TestEFSUserWarned(t *testing.T) {
	tv := newTestVolume(t)
	sid := "S-1-5-21-1111111111-2222222222-3333333333-1001"
	must(t, tv.key("SOFTWARE", `Microsoft\Windows NT\CurrentVersion\ProfileList\`+sid).SetExpandString("ProfileImagePath", `C:\Users\alice`))
	must(t, tv.key("SOFTWARE", `Microsoft\Windows NT\CurrentVersion\ProfileList\S-1-5-18`).SetExpandString("ProfileImagePath", `%systemroot%\system32\config\systemprofile`))
	user := hive.New()
	k, err := user.Root().CreateKey(efsCurrentKeys)
	must(t, err)
	must(t, k.SetBinary("CertificateHash", []byte{1, 2, 3, 4}))
	root := tv.save()
	must(t, os.MkdirAll(filepath.Join(root, "Users", "alice"), 0o755))
	must(t, user.SaveAs(filepath.Join(root, "Users", "alice", "ntuser.dat")))
	r, err := Preflight(context.Background(), root, Options{})
	must(t, err)
	found := false
	for _, f := range r.Findings {
		if f.ID == "efs-in-use" && f.Severity == SeverityWarning && strings.Contains(f.Message, sid) {
			found = true
		}
	}
	if !found || r.HasErrors() {
		t.Errorf("findings %+v", r.Findings)
	}
}

// TestActionFileOnUserHive: a declarative action on HKU\<SID> reaches the
// user's NTUSER.DAT through ProfileList, and the hive is written back.
func TestActionFileOnUserHive(t *testing.T) {
	tv := newTestVolume(t)
	sid := "S-1-5-21-1111111111-2222222222-3333333333-1001"
	must(t, tv.key("SOFTWARE", `Microsoft\Windows NT\CurrentVersion\ProfileList\`+sid).SetExpandString("ProfileImagePath", `%SystemDrive%\Users\bob`))
	tv.file("Windows/System32/Sysprep/ActionFiles/Cleanup.xml", `<sysprepInformation><imaging><sysprepOrder order="0x100"/>
<registryActions><deleteValue path="HKU\`+sid+`\Software\Contoso" name="Token"/></registryActions></imaging></sysprepInformation>`)
	user := hive.New()
	k, err := user.Root().CreateKey(`Software\Contoso`)
	must(t, err)
	must(t, k.SetString("Token", "secret"))
	must(t, k.SetString("Keep", "yes"))
	root := tv.save()
	must(t, os.MkdirAll(filepath.Join(root, "Users", "bob"), 0o755))
	must(t, user.SaveAs(filepath.Join(root, "Users", "bob", "NTUSER.DAT")))
	r, err := Generalize(context.Background(), root, Options{Now: fixedNow})
	must(t, err)
	found := false
	for _, a := range r.Actions {
		if a.Kind == KindDeleteValue && a.Target == `HKU\`+sid+`\Software\Contoso` {
			found = true
		}
	}
	if !found {
		t.Fatalf("no action on the user hive; not run: %v", r.NotRunOffline)
	}
	h, err := hive.Open(filepath.Join(root, "Users", "bob", "NTUSER.DAT"), nil)
	must(t, err)
	defer h.Close()
	k, err = h.Root().OpenKey(`Software\Contoso`)
	must(t, err)
	if _, err := k.Value("Token"); err == nil {
		t.Error("Token survived")
	}
	if _, err := k.Value("Keep"); err != nil {
		t.Error("Keep lost")
	}
}

// TestEncodeValue checks setValue data as Windows' action files write it: a
// value attribute, numbers decimal or 0x hexadecimal, every registry type.
func TestEncodeValue(t *testing.T) {
	for _, c := range []struct {
		typ, data string
		want      []byte
		wantType  hive.ValueType
	}{
		{"REG_DWORD", "1", []byte{1, 0, 0, 0}, hive.TypeDWord},
		{"REG_DWORD", "0x8002", []byte{2, 0x80, 0, 0}, hive.TypeDWord},
		{"REG_DWORD", "010", []byte{10, 0, 0, 0}, hive.TypeDWord},
		{"REG_DWORD", "-1", []byte{0xff, 0xff, 0xff, 0xff}, hive.TypeDWord},
		{"reg_dword", "0XFFFFFFFF", []byte{0xff, 0xff, 0xff, 0xff}, hive.TypeDWord},
		{"REG_DWORD_BIG_ENDIAN", "0x01020304", []byte{1, 2, 3, 4}, hive.TypeDWordBigEndian},
		{"REG_QWORD", "0x1122334455667788", []byte{0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11}, hive.TypeQWord},
		{"REG_QWORD", "300", []byte{0x2c, 1, 0, 0, 0, 0, 0, 0}, hive.TypeQWord},
		{"REG_SZ", "ab", []byte{'a', 0, 'b', 0, 0, 0}, hive.TypeString},
		{"", "", []byte{0, 0}, hive.TypeString},
		{"REG_EXPAND_SZ", "%x%", []byte{'%', 0, 'x', 0, '%', 0, 0, 0}, hive.TypeExpandString},
		{"REG_MULTI_SZ", `a\0b`, []byte{'a', 0, 0, 0, 'b', 0, 0, 0, 0, 0}, hive.TypeMultiString},
		{"REG_BINARY", "01,ff 0a", []byte{1, 0xff, 0x0a}, hive.TypeBinary},
		{"REG_NONE", "", []byte{}, hive.TypeNone},
	} {
		typ, data, _, err := encodeValue(c.typ, c.data)
		if err != nil || typ != c.wantType || !bytes.Equal(data, c.want) {
			t.Errorf("encodeValue(%q, %q) = %v % x %v, want %v % x", c.typ, c.data, typ, data, err, c.wantType, c.want)
		}
	}
	for _, c := range [][2]string{{"REG_DWORD", ""}, {"REG_DWORD", "0x100000000"}, {"REG_DWORD", "1.5"}, {"REG_BINARY", "xyz"}, {"REG_FOO", "1"}, {"REG_0x20", "1"}} {
		if _, _, _, err := encodeValue(c[0], c[1]); err == nil {
			t.Errorf("encodeValue(%q, %q) accepted", c[0], c[1])
		}
	}
}
