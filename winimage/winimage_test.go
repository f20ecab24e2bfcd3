package winimage

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseal/reseal/hive"
	"github.com/reseal/reseal/internal/testenv"
)

// minimalVolume writes a volume with SYSTEM and SOFTWARE hives, spelled in
// the given case.
func minimalVolume(t *testing.T, configDir string) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, filepath.FromSlash(configDir))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sys := hive.New()
	sel, _ := sys.Root().CreateKey("Select")
	sel.SetDWord("Current", 2)
	env, _ := sys.Root().CreateKey(`ControlSet002\Control\Session Manager\Environment`)
	env.SetString("PROCESSOR_ARCHITECTURE", "ARM64")
	cc, _ := sys.Root().CreateKey(`ControlSet002\Control\ComputerName\ComputerName`)
	cc.SetString("ComputerName", "HOST")
	if err := sys.SaveAs(filepath.Join(dir, "system")); err != nil {
		t.Fatal(err)
	}
	sw := hive.New()
	cv, _ := sw.Root().CreateKey(`Microsoft\Windows NT\CurrentVersion`)
	cv.SetString("ProductName", "Windows 10 Enterprise")
	cv.SetString("EditionID", "Enterprise")
	cv.SetString("CurrentBuild", "22631")
	cv.SetDWord("UBR", 4169)
	cv.SetString("DisplayVersion", "23H2")
	cv.SetString("InstallationType", "Client")
	if err := sw.SaveAs(filepath.Join(dir, "Software")); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestOpenIdentifiesInstallation(t *testing.T) {
	root := minimalVolume(t, "WINDOWS/system32/CONFIG")
	v, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	want := Installation{ProductName: "Windows 11 Enterprise", EditionID: "Enterprise", DisplayVersion: "23H2", Build: 22631, UBR: 4169,
		InstallationType: "Client", Architecture: "arm64", CurrentControlSet: 2}
	if v.Installation != want {
		t.Errorf("installation = %+v\nwant %+v", v.Installation, want)
	}
	k, err := v.Key(`HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName`)
	if err != nil {
		t.Fatal(err)
	}
	if val, _ := k.Value("ComputerName"); !strings.Contains(string(val.Data), "H\x00O\x00S\x00T") {
		t.Errorf("ComputerName = %q", val.Data)
	}
}

func TestMap(t *testing.T) {
	v := &Volume{Installation: Installation{CurrentControlSet: 3}}
	for _, tc := range []struct {
		in   string
		want KeyRef
		err  bool
	}{
		{`HKLM\SYSTEM\CurrentControlSet\Services`, KeyRef{"SYSTEM", `ControlSet003\Services`}, false},
		{`HKLM\system\currentcontrolset`, KeyRef{"SYSTEM", `ControlSet003`}, false},
		{`HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft`, KeyRef{"SOFTWARE", `Microsoft`}, false},
		{`HKLM\SAM\SAM\Domains`, KeyRef{"SAM", `SAM\Domains`}, false},
		{`HKLM\SECURITY\Policy`, KeyRef{"SECURITY", `Policy`}, false},
		{`HKU\.DEFAULT\Control Panel`, KeyRef{"DEFAULT", `Control Panel`}, false},
		{`HKEY_USERS\S-1-5-18`, KeyRef{"DEFAULT", ``}, false},
		{`HKU\S-1-5-21-1-2-3-1001\Software\X`, KeyRef{"S-1-5-21-1-2-3-1001", `Software\X`}, false},
		{`HKU\S-1-5-21-1-2-3-1001_Classes\CLSID`, KeyRef{}, true},
		{`HKCU\Software`, KeyRef{}, true},
		{`HKLM\HARDWARE\DESCRIPTION`, KeyRef{}, true},
		{`HKLM`, KeyRef{}, true},
	} {
		got, err := v.Map(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("Map(%q) = %+v, %v; want %+v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	if s := (KeyRef{"DEFAULT", "X"}).String(); s != `HKU\.DEFAULT\X` {
		t.Errorf("String = %q", s)
	}
}

func TestResolveCaseInsensitiveAndConfined(t *testing.T) {
	root := minimalVolume(t, "Windows/System32/config")
	os.MkdirAll(filepath.Join(root, "Windows", "Temp"), 0o755)
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret"), []byte("x"), 0o644)
	if err := os.Symlink(outside, filepath.Join(root, "Windows", "Temp", "escape")); err != nil {
		t.Skip("no symlinks:", err)
	}
	os.Symlink("../System32", filepath.Join(root, "Windows", "Temp", "inside"))
	v, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	p, err := v.Resolve(`WINDOWS\SYSTEM32\CONFIG\SYSTEM`)
	if err != nil || p != filepath.Join(root, "Windows", "System32", "config", "system") {
		t.Errorf("Resolve = %q, %v", p, err)
	}
	if _, err := v.Resolve("Windows/Temp/escape/secret"); !errors.Is(err, ErrEscape) {
		t.Errorf("symlink out of the volume: err = %v, want ErrEscape", err)
	}
	if _, err := v.Resolve("Windows/Temp/inside/config/SOFTWARE"); err != nil {
		t.Errorf("symlink inside the volume: %v", err)
	}
	for _, bad := range []string{"../etc/passwd", `Windows\..\..\x`, "/etc/passwd", `C:\Windows`} {
		if _, err := v.Resolve(bad); !errors.Is(err, ErrEscape) {
			t.Errorf("Resolve(%q) = %v, want ErrEscape", bad, err)
		}
	}
	if _, err := v.Resolve("Windows/Nope/x"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	if p, err := v.ResolveNew("windows/temp/New/file.txt"); err != nil || p != filepath.Join(root, "Windows", "Temp", "New", "file.txt") {
		t.Errorf("ResolveNew = %q, %v", p, err)
	}
}

func TestOpenRefusesNonWindows(t *testing.T) {
	if _, err := Open(t.TempDir()); !errors.Is(err, ErrNotWindows) {
		t.Errorf("err = %v, want ErrNotWindows", err)
	}
}

func TestExpandRuntimePath(t *testing.T) {
	for in, want := range map[string]string{
		`$(runtime.windows)\Logs\x.log`:      "Windows/Logs/x.log",
		`$(runtime.system32)\LogFiles\WMI\*`: "Windows/System32/LogFiles/WMI/*",
		`%SystemRoot%\Temp`:                  "Windows/Temp",
		`C:\ProgramData\Contoso`:             "ProgramData/Contoso",
	} {
		if got, err := ExpandRuntimePath(in); err != nil || got != want {
			t.Errorf("ExpandRuntimePath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`$(runtime.windows)\..\..\x`, `$(runtime.nope)\x`, `relative\x`, `$(runtime.userprofile)\x`} {
		if _, err := ExpandRuntimePath(bad); err == nil {
			t.Errorf("ExpandRuntimePath(%q) accepted", bad)
		}
	}
}

const actionFileSample = `<?xml version="1.0" encoding="utf-8"?>
<sysprepInformation>
  <imaging exclude="">
    <assemblyIdentity name="Microsoft-Windows-PnpSysprep" version="10.0.19041.1" processorArchitecture="amd64"/>
    <sysprepOrder order="0x1100"/>
    <sysprepModule methodName="Sysprep_Generalize_Pnp" moduleName="$(runtime.system32)\sppnp.dll"/>
  </imaging>
  <imaging exclude="">
    <sysprepOrder order="2400"/>
    <registryActions>
      <deleteKey path="HKLM\SOFTWARE\Contoso\Cache"/>
      <setValue path="HKLM\SYSTEM\CurrentControlSet\Services\X" name="Start" type="REG_DWORD" data="4"/>
    </registryActions>
    <fileActions><deleteDirectory path="$(runtime.windows)\Temp\y"/></fileActions>
  </imaging>
</sysprepInformation>`

func TestParseActionFile(t *testing.T) {
	af, err := ParseActionFile(strings.NewReader(actionFileSample))
	if err != nil {
		t.Fatal(err)
	}
	if len(af.Imaging) != 2 {
		t.Fatalf("%d imaging elements", len(af.Imaging))
	}
	a, b := af.Imaging[0], af.Imaging[1]
	if a.Order != 0x1100 || a.Assembly != "Microsoft-Windows-PnpSysprep" || len(a.Modules) != 1 || a.Modules[0].Method != "Sysprep_Generalize_Pnp" {
		t.Errorf("first = %+v", a)
	}
	if b.Order != 2400 || len(b.Registry) != 2 || b.Registry[1].Data != "4" || len(b.Files) != 1 || b.Files[0].Op != "deleteDirectory" {
		t.Errorf("second = %+v", b)
	}
	for _, bad := range []string{"", "<other/>", `<sysprepInformation><imaging><sysprepOrder order="0xZZ"/></imaging></sysprepInformation>`,
		`<sysprepInformation><imaging><registryActions><deleteKey/></registryActions></imaging></sysprepInformation>`} {
		if _, err := ParseActionFile(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseActionFile(%q) accepted", bad)
		}
	}
}

func TestParseRadiusConfig(t *testing.T) {
	clients, groups, err := parseRadiusConfig([]byte(`<?xml version="1.0"?><Root><Children><Microsoft_Internet_Authentication_Service><Children>
<Protocols><Children><Microsoft_Radius_Protocol><Children><Clients><Children>
<RadiusClients><Clients><Entry name="vpn-01"><Properties><Entry name="nested"/></Properties></Entry></Clients></RadiusClients>
</Children></Clients></Children></Microsoft_Radius_Protocol></Children></Protocols>
<RadiusServerGroups><Entry name="Remote"/></RadiusServerGroups></Children></Microsoft_Internet_Authentication_Service></Children></Root>`))
	if err != nil || strings.Join(clients, ",") != "vpn-01" || strings.Join(groups, ",") != "Remote" {
		t.Errorf("clients %v groups %v err %v", clients, groups, err)
	}
	if _, _, err := parseRadiusConfig([]byte("<a><b></a>")); err == nil {
		t.Error("malformed ias.xml accepted")
	}
}

func TestFormatSID(t *testing.T) {
	b := []byte{1, 4, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 0x9d, 0x4b, 0x11, 0x1e, 0x4c, 0x7a, 0x90, 0x81, 0x2a, 0xb6, 0x24, 0x4e}
	s, err := FormatSID(b)
	if err != nil || s != "S-1-5-21-504449949-2173729356-1311028778" {
		t.Errorf("FormatSID = %q, %v", s, err)
	}
	if _, err := FormatSID(b[:10]); err == nil {
		t.Error("truncated SID accepted")
	}
}

func TestAccountFlags(t *testing.T) {
	f := bytes.Repeat([]byte{0}, 0x50)
	f[0x38] = 0x10
	g, err := WithAccountFlags(f, 0x11)
	if err != nil || f[0x38] != 0x10 {
		t.Fatal("WithAccountFlags changed its input", err)
	}
	if n, err := AccountFlags(g); err != nil || n != 0x11 {
		t.Errorf("AccountFlags = %x, %v", n, err)
	}
	if _, err := AccountFlags(f[:0x20]); err == nil {
		t.Error("short F accepted")
	}
}

func TestSameName(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"System32", "SYSTEM32", true},
		{"été", "ÉTÉ", true},
		{"k", "\u212a", false}, // Kelvin sign: EqualFold says equal, Windows does not
		{"Straße", "STRASSE", false},
		{"config", "config2", false},
	} {
		if got := SameName(tc.a, tc.b); got != tc.want {
			t.Errorf("SameName(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

func TestOpenRefusesVolumeWithoutSoftware(t *testing.T) {
	root := minimalVolume(t, "Windows/System32/config")
	os.Remove(filepath.Join(root, "Windows", "System32", "config", "Software"))
	if _, err := Open(root); !errors.Is(err, ErrNotWindows) {
		t.Errorf("err = %v, want ErrNotWindows", err)
	}
}

func TestParseStateIni(t *testing.T) {
	utf16le := []byte{0xFF, 0xFE}
	for _, c := range "[State]\r\nImageState=IMAGE_STATE_UNDEPLOYABLE\r\n" {
		utf16le = append(utf16le, byte(c), 0)
	}
	for in, want := range map[string]string{
		"[State]\r\nImageState=IMAGE_STATE_COMPLETE\r\n":                    "IMAGE_STATE_COMPLETE",
		"\ufeff[State]\nimagestate = IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE": "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE",
		"[Other]\r\nImageState=X\r\n":                                       "",
		string(utf16le):                                                     "IMAGE_STATE_UNDEPLOYABLE",
		"":                                                                  "",
	} {
		if got := ParseStateIni([]byte(in)); got != want {
			t.Errorf("ParseStateIni(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLSAString(t *testing.T) {
	sample, _ := hex.DecodeString("0e00100000000000100000000000000043004f004e0054004f0053004f000000")
	if s, err := DecodeLSAString(sample); err != nil || s != "CONTOSO" {
		t.Errorf("DecodeLSAString = %q, %v", s, err)
	}
	enc := EncodeLSAString("WORKGROUP", sample)
	if s, err := DecodeLSAString(enc); err != nil || s != "WORKGROUP" || len(enc) != 16+20 {
		t.Errorf("round trip = %q, %v (%d bytes)", s, err, len(enc))
	}
	x86 := []byte{6, 0, 8, 0, 8, 0, 0, 0, 'W', 0, 'G', 0, '1', 0, 0, 0}
	if s, err := DecodeLSAString(x86); err != nil || s != "WG1" {
		t.Errorf("32-bit layout = %q, %v", s, err)
	}
	if s, err := DecodeLSAString(EncodeLSAString("X", x86)); err != nil || s != "X" {
		t.Errorf("32-bit round trip = %q, %v", s, err)
	}
	for _, bad := range [][]byte{nil, {1, 2, 3}, {0xff, 0, 0, 0, 8, 0, 0, 0, 'a', 0}} {
		if _, err := DecodeLSAString(bad); err == nil {
			t.Errorf("DecodeLSAString(%x) accepted", bad)
		}
	}
}

func TestVolumePath(t *testing.T) {
	for in, want := range map[string]string{
		`C:\Users\robin`:                             "Users/robin",
		`%SystemDrive%\Users\x`:                      "Users/x",
		`%systemroot%\system32\config\systemprofile`: "Windows/system32/config/systemprofile",
		`\\server\share\u`:                           "",
		`C:\Users\..\..\etc`:                         "",
	} {
		got, ok := volumePath(in)
		if got != want || ok != (want != "") {
			t.Errorf("volumePath(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// TestWIMBackendLinksEndPaths: inside a WIM a symbolic link (a reparse
// point) is reported, never followed, and a path through it is absent.
func TestWIMBackendLinksEndPaths(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "Windows", "Real"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "Windows", "Real", "f.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("Real", filepath.Join(root, "Windows", "Link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc", filepath.Join(root, "Out")); err != nil {
		t.Fatal(err)
	}
	wimPath := filepath.Join(t.TempDir(), "t.wim")
	if out, err := exec.Command(wimlib, "capture", root, wimPath, "t").CombinedOutput(); err != nil {
		t.Fatalf("wimlib-imagex capture: %v\n%s", err, out)
	}
	b, err := OpenWIM(wimPath, "1")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	v := &Volume{backend: b}
	if p, err := v.Lookup("windows/real/F.TXT"); err != nil || p != "Windows/Real/f.txt" {
		t.Errorf("Lookup = %q, %v", p, err)
	}
	if st, err := b.Lstat("Windows/Link"); err != nil || st.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the link is not reported as one: %v %v", st, err)
	}
	for _, p := range []string{"Windows/Link/f.txt", "Out/passwd", "out/PASSWD"} {
		if _, err := v.Lookup(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Lookup(%s) through a link = %v, want absent", p, err)
		}
	}
	if data, err := v.ReadFile("Windows/Real/f.txt", 10); err != nil || string(data) != "x" {
		t.Errorf("ReadFile = %q, %v", data, err)
	}
}
