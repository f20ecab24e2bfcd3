package sysprep

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseal/reseal/hive"
	"github.com/reseal/reseal/internal/testenv"
	"github.com/reseal/reseal/winimage"
)

// The tests in this file judge generalize by Windows' own formats and real
// hives, not by the sample: the action files are written here, by a small
// generator, from the format's description (sysprep-reference.md section
// 6: <imaging exclude="">, full assemblyIdentity, sysprepOrder, setValue's
// data in a value attribute, decimal or 0x; every root spelling;
// $(runtime.*) paths and wildcards; amd64 and wow64 twins), and the volume's
// SYSTEM, SAM, SECURITY and NTUSER.DAT hives are real ones from the corpus.

// afEntry is one <imaging> element of a generated action file.
type afEntry struct {
	component, arch string
	order           int
	validate        [2]string // dll, method ("" = none)
	module          [2]string
	registry        []afReg
	files           [][2]string // op, path
}

// afReg is one declarative registry action and the effect a peer tool must
// see: for setValue the value's type and data.
type afReg struct {
	op, path, name, typ, value string
	wantType                   hive.ValueType
	wantData                   []byte
}

func afAttr(s string) string { return `"` + html.EscapeString(s) + `"` }

func renderActionFile(entries []afEntry) string {
	var b strings.Builder
	b.WriteString("<?xml version='1.0' encoding='utf-8' standalone='yes'?>\r\n<sysprepInformation>\r\n")
	for _, e := range entries {
		b.WriteString("  <imaging exclude=\"\">\r\n")
		fmt.Fprintf(&b, "    <assemblyIdentity buildType=\"release\" language=\"neutral\" name=%s processorArchitecture=%s publicKeyToken=\"31bf3856ad364e35\" version=\"10.0.16299.15\" versionScope=\"nonSxS\"/>\r\n",
			afAttr(e.component), afAttr(e.arch))
		fmt.Fprintf(&b, "    <sysprepOrder order=\"0x%04X\"/>\r\n", e.order)
		if e.validate[0] != "" {
			fmt.Fprintf(&b, "    <sysprepValidate methodName=%s moduleName=%s/>\r\n", afAttr(e.validate[1]), afAttr(`$(runtime.system32)\`+e.validate[0]))
		}
		if e.module[0] != "" {
			fmt.Fprintf(&b, "    <sysprepModule methodName=%s moduleName=%s/>\r\n", afAttr(e.module[1]), afAttr(`$(runtime.system32)\`+e.module[0]))
		}
		if len(e.registry) > 0 {
			b.WriteString("    <registryActions>\r\n")
			for _, r := range e.registry {
				s := "      <" + r.op + " path=" + afAttr(r.path)
				if r.op != "deleteKey" {
					s += " name=" + afAttr(r.name)
				}
				if r.op == "setValue" {
					s += " type=" + afAttr(r.typ) + " value=" + afAttr(r.value)
				}
				b.WriteString(s + "/>\r\n")
			}
			b.WriteString("    </registryActions>\r\n")
		}
		if len(e.files) > 0 {
			b.WriteString("    <fileActions>\r\n")
			for _, f := range e.files {
				b.WriteString("      <" + f[0] + " path=" + afAttr(f[1]) + "/>\r\n")
			}
			b.WriteString("    </fileActions>\r\n")
		}
		b.WriteString("  </imaging>\r\n")
	}
	b.WriteString("</sysprepInformation>\r\n")
	return b.String()
}

func u16z(s string) []byte { return utf16z(s) }

func dword(n uint32) []byte { return binary.LittleEndian.AppendUint32(nil, n) }

// fidelityVolume is a volume of real hives: regipy's dirty Windows 10
// SYSTEM_B with its logs, regipy's SAM and SECURITY, regipy's Windows 7
// NTUSER.DAT as the built-in Administrator's profile and dfwinreg's
// NTUSER.DAT (with its .LOG) as another user's; SOFTWARE and DEFAULT come
// from the sample (the corpus has none), with a ProfileList for the
// machine SID of the real SECURITY hive.
type fidelityVolume struct {
	root, machine, adminSID, otherSID string
	adminHive, otherHive              string
}

func newFidelityVolume(t *testing.T) *fidelityVolume {
	t.Helper()
	root := corpusTarget(t)
	v, err := winimage.Open(root)
	must(t, err)
	machine, err := v.MachineSID()
	v.Close()
	must(t, err)
	fv := &fidelityVolume{root: root, machine: machine, adminSID: machine + "-500", otherSID: machine + "-1001"}

	copyFile := func(src, rel string) string {
		dst := filepath.Join(root, filepath.FromSlash(rel))
		must(t, os.MkdirAll(filepath.Dir(dst), 0o755))
		data, err := os.ReadFile(src)
		must(t, err)
		must(t, os.WriteFile(dst, data, 0o644))
		return dst
	}
	fv.adminHive = copyFile(testenv.Corpus(t, "hives", "regipy", "NTUSER.DAT"), "Users/Administrator/NTUSER.DAT")
	other := testenv.Corpus(t, "hives", "dfwinreg", "NTUSER.DAT")
	fv.otherHive = copyFile(other, "Users/Preston/NTUSER.DAT")
	copyFile(other+".LOG", "Users/Preston/NTUSER.DAT.LOG")

	swPath := filepath.Join(root, "Windows", "System32", "config", "SOFTWARE")
	sw, err := hive.Open(swPath, nil)
	must(t, err)
	pl, err := sw.Root().OpenKey(winimage.ProfileListKey.Path)
	must(t, err)
	names, err := pl.SubKeyNames()
	must(t, err)
	for _, n := range names {
		if strings.HasPrefix(n, "S-1-5-21-") {
			must(t, pl.DeleteKey(n))
		}
	}
	for sid, dir := range map[string]string{fv.adminSID: `C:\Users\Administrator`, fv.otherSID: `C:\Users\Preston`} {
		k, err := pl.CreateKey(sid)
		must(t, err)
		must(t, k.SetValue("ProfileImagePath", hive.TypeExpandString, u16z(dir)))
		must(t, k.SetDWord("State", 0))
	}
	must(t, sw.SaveAs(swPath))
	sw.Close()

	for rel, content := range map[string]string{
		"ProgramData/Microsoft/Fidelity/a.log":    "a",
		"ProgramData/Microsoft/Fidelity/b.LOG":    "b",
		"ProgramData/Microsoft/Fidelity/keep.txt": "keep",
		"Windows/Fidelity/x/y.bin":                "y",
		"Windows/System32/fidelity.tmp":           "t",
	} {
		p := filepath.Join(root, filepath.FromSlash(rel))
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return fv
}

func (fv *fidelityVolume) writeActionFiles(t *testing.T, cleanup, generalize []afEntry) {
	t.Helper()
	dir := filepath.Join(fv.root, filepath.FromSlash(winimage.ActionFilesDir))
	must(t, os.MkdirAll(dir, 0o755))
	for name, entries := range map[string][]afEntry{"Cleanup.xml": cleanup, "Generalize.xml": generalize} {
		must(t, os.WriteFile(filepath.Join(dir, name), []byte(renderActionFile(entries)), 0o644))
	}
}

// realFormatActions is an action file's worth of declarative actions in
// Windows' real format: every registry type setValue allows, decimal and
// 0x numbers, every root spelling, CurrentControlSet, HKEY_USERS\.DEFAULT,
// HKEY_CURRENT_USER, and a deleteValue a provider also makes.
func realFormatActions() []afReg {
	svc := `HKEY_LOCAL_MACHINE\System\CurrentControlSet\Services\ResealFidelity`
	return []afReg{
		{op: "setValue", path: svc, name: "Sz", typ: "REG_SZ", value: "text & more", wantType: hive.TypeString, wantData: u16z("text & more")},
		{op: "setValue", path: svc, name: "Expand", typ: "REG_EXPAND_SZ", value: `%SystemRoot%\x`, wantType: hive.TypeExpandString, wantData: u16z(`%SystemRoot%\x`)},
		{op: "setValue", path: svc, name: "Multi", typ: "REG_MULTI_SZ", value: `a\0b`, wantType: hive.TypeMultiString, wantData: append(append(u16z("a"), u16z("b")...), 0, 0)},
		{op: "setValue", path: svc, name: "Dec", typ: "REG_DWORD", value: "1", wantType: hive.TypeDWord, wantData: dword(1)},
		{op: "setValue", path: svc, name: "Hex", typ: "REG_DWORD", value: "0x8002", wantType: hive.TypeDWord, wantData: dword(0x8002)},
		{op: "setValue", path: svc, name: "Q", typ: "REG_QWORD", value: "0x100000000", wantType: hive.TypeQWord, wantData: binary.LittleEndian.AppendUint64(nil, 1<<32)},
		{op: "setValue", path: svc, name: "Bin", typ: "REG_BINARY", value: "0102ff", wantType: hive.TypeBinary, wantData: []byte{1, 2, 0xff}},
		{op: "setValue", path: svc, name: "None", typ: "REG_NONE", value: "", wantType: hive.TypeNone, wantData: []byte{}},
		{op: "deleteValue", path: `HKEY_LOCAL_MACHINE\SYSTEM\Setup`, name: "CloneTag"},
		{op: "deleteKey", path: `HKEY_LOCAL_MACHINE\SYSTEM\ActivationBroker`},
		{op: "setValue", path: `HKEY_LOCAL_MACHINE\Software\ResealFidelity`, name: "Mixed", typ: "REG_DWORD", value: "42", wantType: hive.TypeDWord, wantData: dword(42)},
		{op: "deleteValue", path: `HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\SQMClient`, name: "MachineId"},
		{op: "setValue", path: `HKEY_USERS\.DEFAULT\Control Panel\Desktop`, name: "PaintDesktopVersion", typ: "REG_DWORD", value: "0", wantType: hive.TypeDWord, wantData: dword(0)},
		{op: "setValue", path: `HKEY_CURRENT_USER\Software\ResealFidelity`, name: "FromSysprep", typ: "REG_SZ", value: "yes", wantType: hive.TypeString, wantData: u16z("yes")},
		{op: "deleteKey", path: `HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Explorer\RunMRU`},
		{op: "deleteKey", path: `HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Explorer\TypedPaths`},
	}
}

func realFormatFiles() [][2]string {
	return [][2]string{
		{"deleteFile", `$(runtime.programData)\Microsoft\Fidelity\*.log`},
		{"deleteDirectory", `$(runtime.windows)\Fidelity`},
		{"deleteFile", `$(runtime.system32)\fidelity.tmp`},
	}
}

// TestGeneralizeRealFormatOnRealHives: generalize --oobe carries out every
// declarative action of an action file in Windows' real format on a volume
// of real hives, sets the first-boot state, applies HKEY_CURRENT_USER to
// the built-in Administrator's hive only, runs a wow64 twin never, and
// python3-hivex and reglookup confirm each effect.
func TestGeneralizeRealFormatOnRealHives(t *testing.T) {
	py := testenv.PythonHivex(t)
	rl := testenv.Peer(t, "reglookup")
	fv := newFidelityVolume(t)
	regs := realFormatActions()
	shellHKCU := []afReg{{op: "setValue", path: `HKEY_CURRENT_USER\Software\ResealFidelity`, name: "Twin", typ: "REG_DWORD", value: "7", wantType: hive.TypeDWord, wantData: dword(7)}}
	fv.writeActionFiles(t,
		[]afEntry{
			{component: "Microsoft-Windows-Servicing-Sysprep", arch: "amd64", order: 0x0e00, files: realFormatFiles()},
			{component: "Microsoft-Windows-AppX-Sysprep", arch: "amd64", order: 0x1a00, validate: [2]string{"AppxSysprep.dll", "SysprepCleanupValidate"}, module: [2]string{"AppxSysprep.dll", "SysprepCleanup"}},
		},
		[]afEntry{
			{component: "Microsoft-Windows-MountPointManager", arch: "amd64", order: 0x0600, module: [2]string{"spmpm.dll", "Sysprep_Generalize_MountPointManager"}},
			{component: "Reseal-Fidelity", arch: "amd64", order: 0x0900, registry: regs},
			{component: "Microsoft-Windows-Shell-Setup", arch: "amd64", order: 0x1000, registry: shellHKCU},
			{component: "Microsoft-Windows-Shell-Setup", arch: "wow64", order: 0x1000, registry: shellHKCU},
		})
	otherBefore, err := os.ReadFile(fv.otherHive)
	must(t, err)
	otherLogBefore, err := os.ReadFile(fv.otherHive + ".LOG")
	must(t, err)

	r, err := Generalize(context.Background(), fv.root, Options{Now: fixedNow, Mode: ModeOOBE, accept: map[string]bool{"pending-servicing": true}})
	if err != nil {
		t.Fatalf("%v; findings %+v", err, r.Findings)
	}
	for _, n := range r.NotRunOffline {
		if strings.Contains(n, "<") || strings.Contains(n, "Reseal-Fidelity") || strings.Contains(n, "Shell-Setup") {
			t.Errorf("a declarative action was not run: %s", n)
		}
	}
	var sawUser bool
	for _, f := range r.Findings {
		if f.ID == "current-user" && strings.Contains(f.Message, "built-in Administrator") {
			sawUser = true
		}
	}
	if !sawUser {
		t.Errorf("the report does not say which hive HKEY_CURRENT_USER was: %+v", r.Findings)
	}
	planned := map[string]int{}
	for _, a := range r.Actions {
		if strings.Contains(a.Source, "wow64") {
			t.Errorf("a wow64 twin ran: %s %s [%s]", a.Kind, a.Target, a.Source)
		}
		planned[a.Kind+" "+strings.ToUpper(a.Target)+" "+strings.ToUpper(a.Value)]++
	}
	for k, n := range planned {
		if n > 1 {
			t.Errorf("the plan makes one change %d times: %s", n, k)
		}
	}

	config := filepath.Join(fv.root, "Windows", "System32", "config")
	hivePath := map[string]string{"SYSTEM": filepath.Join(config, "SYSTEM"), "SOFTWARE": filepath.Join(config, "SOFTWARE"),
		"DEFAULT": filepath.Join(config, "DEFAULT"), "HKCU": fv.adminHive}
	dumps, rlValues := map[string]peerHive{}, map[string]map[string]string{}
	for n, p := range hivePath {
		dumps[n] = dumpWithHivex(t, py, p)
		_, rlValues[n] = reglookupDump(t, rl, p)
	}
	where := func(path string) (string, string) {
		up := strings.ToUpper(path)
		for prefix, h := range map[string]string{`HKEY_LOCAL_MACHINE\SYSTEM\`: "SYSTEM", `HKEY_LOCAL_MACHINE\SOFTWARE\`: "SOFTWARE",
			`HKEY_USERS\.DEFAULT\`: "DEFAULT", `HKEY_CURRENT_USER\`: "HKCU"} {
			if strings.HasPrefix(up, prefix) {
				key := up[len(prefix):]
				if h == "SYSTEM" {
					key = strings.Replace(key, "CURRENTCONTROLSET", "CONTROLSET001", 1)
				}
				return h, key
			}
		}
		t.Fatalf("no hive for %s", path)
		return "", ""
	}
	for _, a := range append(regs, shellHKCU...) {
		h, key := where(a.path)
		switch a.op {
		case "setValue":
			got, ok := dumps[h][key][strings.ToUpper(a.name)]
			if !ok {
				t.Errorf("hivex: %s\\%s was not set", a.path, a.name)
				continue
			}
			if int(got[0].(float64)) != int(a.wantType) || got[1].(string) != hex.EncodeToString(a.wantData) {
				t.Errorf("hivex: %s\\%s = type %v data %v, want %d %x", a.path, a.name, got[0], got[1], a.wantType, a.wantData)
			}
			if typ := rlValues[h][key+`\\`+strings.ToUpper(a.name)]; typ != reglookupTypes[a.wantType] {
				t.Errorf("reglookup: %s\\%s has type %q, want %q", a.path, a.name, typ, reglookupTypes[a.wantType])
			}
		case "deleteValue":
			if _, ok := dumps[h][key][strings.ToUpper(a.name)]; ok {
				t.Errorf("hivex: %s\\%s survived its deleteValue", a.path, a.name)
			}
		case "deleteKey":
			if _, ok := dumps[h][key]; ok {
				t.Errorf("hivex: %s survived its deleteKey", a.path)
			}
		}
	}
	// The first-boot state, as hivex reads it.
	for _, c := range []struct {
		h, key, name string
		want         []byte
	}{
		{"SYSTEM", `SETUP\STATUS\SYSPREPSTATUS`, "GENERALIZATIONSTATE", dword(4)},
		{"SYSTEM", `SETUP`, "SETUPTYPE", dword(2)},
		{"SOFTWARE", `MICROSOFT\WINDOWS\CURRENTVERSION\SETUP\STATE`, "IMAGESTATE", u16z(imageStateGeneralizeOOBE)},
		{"SOFTWARE", `MICROSOFT\WINDOWS\CURRENTVERSION\SETUP\IMAGESERVICINGDATA`, "IMAGESTATE", u16z(imageStateGeneralizeOOBE)},
	} {
		got, ok := dumps[c.h][c.key][c.name]
		if !ok || got[1].(string) != hex.EncodeToString(c.want) {
			t.Errorf("hivex: %s\\%s\\%s = %v, want %x", c.h, c.key, c.name, got, c.want)
		}
	}
	for _, gone := range [][2]string{{`SETUP\STATUS\CHILDCOMPLETION`, "SETUP.EXE"}, {`SETUP\STATUS\UNATTENDPASSES`, "OOBESYSTEM"}} {
		if _, ok := dumps["SYSTEM"][gone[0]][gone[1]]; ok {
			t.Errorf("hivex: %s\\%s survived", gone[0], gone[1])
		}
	}
	if n := len(dumps["SYSTEM"]["MOUNTEDDEVICES"]); n != 0 {
		t.Errorf("hivex: MountedDevices keeps %d values", n)
	}
	// Files.
	for rel, gone := range map[string]bool{"ProgramData/Microsoft/Fidelity/a.log": true, "ProgramData/Microsoft/Fidelity/b.LOG": true,
		"ProgramData/Microsoft/Fidelity/keep.txt": false, "Windows/Fidelity": true, "Windows/System32/fidelity.tmp": true} {
		_, err := os.Stat(filepath.Join(fv.root, filepath.FromSlash(rel)))
		if exists := err == nil; exists == gone {
			t.Errorf("%s: exists %v after generalize", rel, exists)
		}
	}
	// Other users' hives are never touched.
	if after, err := os.ReadFile(fv.otherHive); err != nil || string(after) != string(otherBefore) {
		t.Errorf("another user's NTUSER.DAT changed (%v)", err)
	}
	if after, err := os.ReadFile(fv.otherHive + ".LOG"); err != nil || string(after) != string(otherLogBefore) {
		t.Errorf("another user's NTUSER.DAT.LOG changed (%v)", err)
	}
	// The Panther log says what happened to each module.
	log, err := os.ReadFile(filepath.Join(fv.root, "Windows", "System32", "Sysprep", "Panther", "setupact.log"))
	must(t, err)
	for _, want := range []string{"spmpm.dll!Sysprep_Generalize_MountPointManager -> provider mounted-devices", "AppxSysprep.dll!SysprepCleanupValidate -> preflight check appx",
		"(Microsoft-Windows-Shell-Setup, wow64): not run again", "HKEY_CURRENT_USER is HKU\\" + fv.adminSID} {
		if !strings.Contains(string(log), want) {
			t.Errorf("setupact.log lacks %q", want)
		}
	}
}

// TestUnsupportedActionRefused: a declarative action reseal cannot carry
// out makes preflight fail and generalize change nothing, as Sysprep stops
// on a failing action.
func TestUnsupportedActionRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		reg  []afReg
		file [][2]string
		arch string
	}{
		{name: "unknown root", reg: []afReg{{op: "setValue", path: `HKEY_CLASSES_ROOT\.txt`, name: "x", typ: "REG_SZ", value: "y"}}},
		{name: "bad dword", reg: []afReg{{op: "setValue", path: `HKEY_LOCAL_MACHINE\Software\X`, name: "x", typ: "REG_DWORD", value: "twelve"}}},
		{name: "no value attribute", reg: []afReg{{op: "setValue", path: `HKEY_LOCAL_MACHINE\Software\X`, name: "x", typ: "REG_QWORD"}}},
		{name: "unknown type", reg: []afReg{{op: "setValue", path: `HKEY_LOCAL_MACHINE\Software\X`, name: "x", typ: "REG_FANCY", value: "1"}}},
		{name: "outside the volume", file: [][2]string{{"deleteFile", `$(runtime.windows)\..\..\etc\passwd`}}},
		{name: "unknown variable", file: [][2]string{{"deleteFile", `$(runtime.nowhere)\x`}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			fv := newFidelityVolume(t)
			fv.writeActionFiles(t, nil, []afEntry{{component: "Reseal-Fidelity", arch: "amd64", order: 0x900, registry: c.reg, files: c.file}})
			if c.name == "no value attribute" {
				p := filepath.Join(fv.root, filepath.FromSlash(winimage.ActionFilesDir), "Generalize.xml")
				data, err := os.ReadFile(p)
				must(t, err)
				must(t, os.WriteFile(p, []byte(strings.Replace(string(data), ` value=""`, "", 1)), 0o644))
			}
			before := treeHash(t, fv.root)
			pre, err := Preflight(context.Background(), fv.root, Options{Now: fixedNow})
			must(t, err)
			if ids := findingIDs(pre.Findings, SeverityError); !containsID(ids, "action-file-unsupported") {
				t.Fatalf("preflight errors = %v, want action-file-unsupported", ids)
			}
			_, err = Generalize(context.Background(), fv.root, Options{Now: fixedNow, accept: map[string]bool{"pending-servicing": true}})
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("generalize: %v, want ErrRefused", err)
			}
			if treeHash(t, fv.root) != before {
				t.Error("the volume changed")
			}
		})
	}
}

// TestCurrentUserChoice: with no built-in Administrator profile, an action
// file that needs HKEY_CURRENT_USER fails preflight, naming --user; with
// --user the named account's hive is used and no other.
func TestCurrentUserChoice(t *testing.T) {
	fv := newFidelityVolume(t)
	fv.writeActionFiles(t, nil, []afEntry{{component: "Microsoft-Windows-Shell-Setup", arch: "amd64", order: 0x1000,
		registry: []afReg{{op: "setValue", path: `HKEY_CURRENT_USER\Software\ResealFidelity`, name: "Who", typ: "REG_SZ", value: "me"}}}})
	must(t, os.Remove(fv.adminHive))
	pre, err := Preflight(context.Background(), fv.root, Options{Now: fixedNow})
	must(t, err)
	var missing *Finding
	for i, f := range pre.Findings {
		if f.ID == "current-user-missing" {
			missing = &pre.Findings[i]
		}
	}
	if missing == nil || missing.Severity != SeverityError || !strings.Contains(missing.Fix, "--user") {
		t.Fatalf("want a current-user-missing error naming --user, got %+v", pre.Findings)
	}
	r, err := Generalize(context.Background(), fv.root, Options{Now: fixedNow, User: "Preston", accept: map[string]bool{"pending-servicing": true}})
	if err != nil {
		t.Fatalf("%v; %+v", err, r.Findings)
	}
	h, err := hive.Open(fv.otherHive, &hive.OpenOptions{ReadOnly: true})
	must(t, err)
	defer h.Close()
	k, err := h.Root().OpenKey(`Software\ResealFidelity`)
	must(t, err)
	if v, err := k.Value("Who"); err != nil {
		t.Errorf("--user Preston: value not set in Preston's hive: %v", err)
	} else if s, _ := v.String(); s != "me" {
		t.Errorf("Who = %q", s)
	}
}

func containsID(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// TestAuditFirstBootState: generalize to audit mode leaves the same
// first-boot state with the audit image state in both places.
func TestAuditFirstBootState(t *testing.T) {
	tv := newTestVolume(t)
	root := tv.save()
	if _, err := Generalize(context.Background(), root, Options{Now: fixedNow, Mode: ModeAudit}); err != nil {
		t.Fatal(err)
	}
	v, err := winimage.Open(root)
	must(t, err)
	defer v.Close()
	for _, ref := range []winimage.KeyRef{setupStateKey, imageServicingKey} {
		if s, _ := v.String(ref, "ImageState"); s != imageStateGeneralizeAudit {
			t.Errorf("%s ImageState = %q, want %s", ref, s, imageStateGeneralizeAudit)
		}
	}
	if _, ok := v.Value(childCompletionKey, "setup.exe"); ok {
		t.Error("audit: setup.exe completion flag survived")
	}
	for _, c := range []struct {
		ref  winimage.KeyRef
		name string
		want uint64
	}{
		{sysprepStatusKey, "GeneralizationState", 4},
		{systemSetupKey, "AuditInProgress", 1},
		{systemSetupKey, "SetupType", 2},
	} {
		if n, ok := v.Integer(c.ref, c.name); !ok || n != c.want {
			t.Errorf("%s %s = %d (present %v), want %d", c.ref, c.name, n, ok, c.want)
		}
	}
}

// TestServerAdministratorKept: on a server edition the built-in
// Administrator is left as found (enabled), as Windows Server's OOBE asks
// for its password.
func TestServerAdministratorKept(t *testing.T) {
	tv := newTestVolume(t)
	must(t, tv.key("SOFTWARE", `Microsoft\Windows NT\CurrentVersion`).SetString("InstallationType", "Server"))
	root := tv.save()
	r, err := Generalize(context.Background(), root, Options{Now: fixedNow, Mode: ModeOOBE})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range r.Actions {
		if a.Provider == "administrator" {
			t.Errorf("server: the built-in Administrator was changed: %s", a.Detail)
		}
	}
}
