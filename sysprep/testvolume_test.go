package sysprep

import (
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/reseal/reseal/hive"
)

// testVolume writes a small but complete offline Windows volume: the five
// machine hives, the files generalize cleans, action files and a state
// repository. It stands in for the sample package in unit tests.
type testVolume struct {
	t    testing.TB
	root string
	hv   map[string]*hive.Hive
}

func newTestVolume(t testing.TB) *testVolume {
	t.Helper()
	tv := &testVolume{t: t, root: t.TempDir(), hv: map[string]*hive.Hive{}}
	for _, n := range []string{"SYSTEM", "SOFTWARE", "SAM", "SECURITY", "DEFAULT"} {
		tv.hv[n] = hive.New()
	}
	sys := tv.key("SYSTEM", "Select")
	for _, n := range []string{"Current", "Default", "LastKnownGood"} {
		must(t, sys.SetDWord(n, 1))
	}
	must(t, tv.key("SYSTEM", `ControlSet001\Control\Session Manager\Environment`).SetString("PROCESSOR_ARCHITECTURE", "AMD64"))
	must(t, tv.key("SYSTEM", `ControlSet001\Control\ComputerName\ComputerName`).SetString("ComputerName", "GOLDEN-PC"))
	must(t, tv.key("SYSTEM", `ControlSet001\Control\ComputerName\ActiveComputerName`).SetString("ComputerName", "GOLDEN-PC"))
	tcp := tv.key("SYSTEM", `ControlSet001\Services\Tcpip\Parameters`)
	must(t, tcp.SetString("Hostname", "GOLDEN-PC"))
	must(t, tcp.SetString("NV Hostname", "GOLDEN-PC"))
	iface := tv.key("SYSTEM", `ControlSet001\Services\Tcpip\Parameters\Interfaces\{5d6a3c1e-1111-4a2b-9c3d-000000000001}`)
	must(t, iface.SetString("DhcpIPAddress", "192.168.1.50"))
	must(t, iface.SetString("DhcpServer", "192.168.1.1"))
	must(t, iface.SetDWord("LeaseObtainedTime", 1700000000))
	must(t, iface.SetDWord("EnableDHCP", 1))
	must(t, tv.key("SYSTEM", `ControlSet001\Services\Tcpip6\Parameters`).SetBinary("Dhcpv6DUID", []byte{0, 1, 0, 1, 0x2a, 0x3b, 0x4c, 0x5d, 0, 0x15, 0x5d, 1, 2, 3}))
	pci := tv.key("SYSTEM", `ControlSet001\Enum\PCI\VEN_8086&DEV_100E&SUBSYS_001E8086&REV_02\3&267a616a&0&18`)
	must(t, pci.SetString("Driver", `{4d36e972-e325-11ce-bfc1-08002be10318}\0001`))
	must(t, pci.SetMultiString("HardwareID", []string{`PCI\VEN_8086&DEV_100E`}))
	must(t, tv.key("SYSTEM", `ControlSet001\Control\Class\{4d36e972-e325-11ce-bfc1-08002be10318}\0001`).SetString("DriverDesc", "Intel(R) PRO/1000 MT"))
	must(t, tv.key("SYSTEM", `ControlSet001\Control\DeviceClasses\{ad498944-762f-11d0-8dcb-00c04fc3358c}\##?#PCI#VEN_8086&DEV_100E&SUBSYS_001E8086&REV_02#3&267a616a&0&18#{ad498944-762f-11d0-8dcb-00c04fc3358c}`).SetDWord("x", 1))
	must(t, tv.key("SYSTEM", `ControlSet001\Enum\ROOT\BasicDisplay\0000`).SetString("Service", "BasicDisplay"))
	setup := tv.key("SYSTEM", "Setup")
	must(t, setup.SetDWord("SetupType", 0))
	must(t, setup.SetString("CmdLine", ""))
	must(t, setup.SetDWord("SystemSetupInProgress", 0))
	// Setup\Status as a finished installation has it.
	must(t, tv.key("SYSTEM", `Setup\Status\SysprepStatus`).SetDWord("GeneralizationState", 7))
	must(t, tv.key("SYSTEM", `Setup\Status\SysprepStatus`).SetDWord("CleanupState", 2))
	must(t, tv.key("SYSTEM", `Setup\Status\ChildCompletion`).SetDWord("setup.exe", 3))
	must(t, tv.key("SYSTEM", `Setup\Status\ChildCompletion`).SetDWord("oobeldr.exe", 3))
	must(t, tv.key("SYSTEM", `Setup\Status\UnattendPasses`).SetDWord("specialize", 9))
	must(t, tv.key("SYSTEM", `Setup\Status\UnattendPasses`).SetDWord("oobeSystem", 9))
	must(t, tv.key("SYSTEM", `Setup\Status\UnattendPasses`).SetDWord("offlineServicing", 9))

	cv := tv.key("SOFTWARE", `Microsoft\Windows NT\CurrentVersion`)
	must(t, cv.SetString("ProductName", "Windows 10 Pro"))
	must(t, cv.SetString("EditionID", "Professional"))
	must(t, cv.SetString("CurrentBuild", "19045"))
	must(t, cv.SetString("CurrentBuildNumber", "19045"))
	must(t, cv.SetDWord("UBR", 3803))
	must(t, cv.SetString("DisplayVersion", "22H2"))
	must(t, cv.SetString("InstallationType", "Client"))
	must(t, tv.key("SOFTWARE", `Microsoft\Windows\CurrentVersion\Setup\State`).SetString("ImageState", "IMAGE_STATE_COMPLETE"))
	must(t, tv.key("SOFTWARE", `Microsoft\Cryptography`).SetString("MachineGuid", "3f1a2b3c-4d5e-6f70-8192-a3b4c5d6e7f8"))
	wu := tv.key("SOFTWARE", `Microsoft\Windows\CurrentVersion\WindowsUpdate`)
	must(t, wu.SetString("SusClientId", "0b9f3f52-1234-4c1e-9a55-1234567890ab"))
	must(t, wu.SetBinary("SusClientIDValidation", []byte{6, 2, 0, 0}))
	must(t, tv.key("SOFTWARE", `Microsoft\Windows NT\CurrentVersion\NetworkList\Profiles\{8A1B2C3D-0000-4000-8000-000000000001}`).SetString("ProfileName", "Network"))
	must(t, tv.key("SOFTWARE", `Microsoft\Windows NT\CurrentVersion\NetworkList\Signatures\Unmanaged\010103000F0000F0080000000F0000F0`).SetString("Description", "Network"))
	must(t, tv.key("SOFTWARE", `Microsoft\SQMClient`).SetString("MachineId", "{11111111-2222-3333-4444-555555555555}"))
	must(t, tv.key("SOFTWARE", `Microsoft\Windows\CurrentVersion\Appx\AppxAllUserStore\Applications\Microsoft.WindowsCalculator_10.1906.55.0_x64__8wekyb3d8bbwe`).SetString("Path", `C:\x`))

	f := make([]byte, 0x50)
	binary.LittleEndian.PutUint16(f[0x38:], 0x0210) // normal account, enabled
	must(t, tv.key("SAM", `SAM\Domains\Account\Users\000001F4`).SetBinary("F", f))
	must(t, tv.key("SECURITY", `Policy\PolPrDmN`).SetBinary("", []byte{0x12, 0, 0x14, 0}))
	must(t, tv.key("DEFAULT", `Control Panel\International`).SetString("LocaleName", "en-US"))

	tv.file("Windows/System32/winevt/Logs/System.evtx", "ElfFile\x00system")
	tv.file("Windows/System32/winevt/Logs/Application.evtx", "ElfFile\x00application")
	tv.file("pagefile.sys", strings.Repeat("\x00", 4096))
	tv.file("swapfile.sys", strings.Repeat("\x00", 1024))
	tv.file("Windows/Temp/install.log", "temp")
	tv.file("Windows/Temp/sub/x.tmp", "temp")
	tv.file("Windows/Prefetch/CMD.EXE-0BD30981.pf", "MAM")
	tv.file("Windows/Panther/setupact.log", "old setup log")
	tv.file("Windows/INF/setupapi.dev.log", "device log")
	tv.file("Windows/INF/machine.inf", "[Version]")
	tv.file("Windows/MEMORY.DMP", "PAGEDU64")
	tv.file("ProgramData/Microsoft/Windows/WER/ReportQueue/AppCrash_x/Report.wer", "report")
	tv.file("Windows/Setup/State/State.ini", "[State]\r\nImageState=IMAGE_STATE_COMPLETE\r\n")
	tv.file("Windows/System32/Sysprep/sysprep.exe", "MZ")
	tv.file("Windows/System32/Sysprep/Panther/setupact.log", "2024-01-01 00:00:00, Info                  SYSPRP earlier run\r\n")
	tv.file("Windows/System32/DriverStore/FileRepository/e1g6032e.inf_amd64_1a2b3c/e1g6032e.inf", "[Version]")
	tv.file("Windows/System32/Sysprep/ActionFiles/Generalize.xml", `<?xml version="1.0" encoding="utf-8"?>
<sysprepInformation>
  <imaging exclude="">
    <assemblyIdentity name="Microsoft-Windows-AppxSysprep" version="10.0.19041.1" processorArchitecture="amd64"/>
    <sysprepOrder order="0x1A00"/>
    <sysprepValidate methodName="SysprepGeneralizeValidate" moduleName="$(runtime.system32)\AppxSysprep.dll"/>
  </imaging>
  <imaging exclude="">
    <assemblyIdentity name="Contoso-Agent" version="1.0" processorArchitecture="amd64"/>
    <sysprepOrder order="0x0900"/>
    <registryActions>
      <deleteValue path="HKEY_LOCAL_MACHINE\Software\Contoso\Agent" name="AgentId"/>
      <setValue path="HKEY_LOCAL_MACHINE\System\CurrentControlSet\Services\ContosoAgent" name="Start" type="REG_DWORD" value="0x3"/>
    </registryActions>
    <fileActions>
      <deleteFile path="$(runtime.windows)\Logs\contoso.log"/>
    </fileActions>
  </imaging>
  <imaging exclude="">
    <assemblyIdentity name="Microsoft-Windows-Shell-Setup" version="10.0.19041.1" processorArchitecture="amd64"/>
    <sysprepOrder order="0x1000"/>
    <sysprepModule methodName="Sysprep_Generalize_Shell" moduleName="$(runtime.system32)\shsetup.dll"/>
  </imaging>
</sysprepInformation>
`)
	must(t, tv.key("SOFTWARE", `Contoso\Agent`).SetString("AgentId", "agent-42"))
	tv.file("Windows/Logs/contoso.log", "agent log")
	tv.stateRepository(nil)
	return tv
}

func (tv *testVolume) key(h, path string) *hive.Key {
	tv.t.Helper()
	k, err := tv.hv[h].Root().CreateKey(path)
	must(tv.t, err)
	return k
}

func (tv *testVolume) file(rel, content string) {
	tv.t.Helper()
	p := filepath.Join(tv.root, filepath.FromSlash(rel))
	must(tv.t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(tv.t, os.WriteFile(p, []byte(content), 0o644))
}

// save writes the hives; call it after the last change.
func (tv *testVolume) save() string {
	tv.t.Helper()
	dir := filepath.Join(tv.root, "Windows", "System32", "config")
	must(tv.t, os.MkdirAll(dir, 0o755))
	for n, h := range tv.hv {
		must(tv.t, h.SaveAs(filepath.Join(dir, n)))
	}
	return tv.root
}

// appxRow is one package deployed for one user.
type appxRow struct {
	fullName, sid string
	inbox         bool
}

// stateRepository writes StateRepository-Machine.srd in WAL mode and copies
// it while the connection is open, so the rows are only in the -wal file.
func (tv *testVolume) stateRepository(rows []appxRow) {
	tv.t.Helper()
	tmp := tv.t.TempDir()
	src := filepath.Join(tmp, "StateRepository-Machine.srd")
	db, err := sql.Open("sqlite", "file:"+src)
	must(tv.t, err)
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		`PRAGMA journal_mode=WAL`, `PRAGMA wal_autocheckpoint=0`,
		`CREATE TABLE Package(_PackageID INTEGER PRIMARY KEY, PackageFullName TEXT, PackageFamilyName TEXT, IsInbox INTEGER)`,
		`CREATE TABLE User(_UserID INTEGER PRIMARY KEY, UserSid TEXT)`,
		`CREATE TABLE PackageUser(_PackageUserID INTEGER PRIMARY KEY, Package INTEGER, User INTEGER, DeploymentState INTEGER)`,
		`INSERT INTO Package VALUES (1, 'Microsoft.WindowsCalculator_10.1906.55.0_x64__8wekyb3d8bbwe', 'Microsoft.WindowsCalculator_8wekyb3d8bbwe', 0)`,
		`INSERT INTO Package VALUES (2, 'Microsoft.Windows.ShellExperienceHost_10.0.19041.1_neutral_neutral_cw5n1h2txyewy', 'Microsoft.Windows.ShellExperienceHost_cw5n1h2txyewy', 1)`,
		`INSERT INTO User VALUES (1, 'S-1-5-21-1111111111-2222222222-3333333333-1001')`,
		`INSERT INTO PackageUser VALUES (1, 1, 1, 2)`,
		`INSERT INTO PackageUser VALUES (2, 2, 1, 2)`,
	} {
		_, err := db.Exec(q)
		must(tv.t, err)
	}
	for i, r := range rows {
		id := 100 + i
		_, err := db.Exec(`INSERT INTO Package VALUES (?, ?, '', ?)`, id, r.fullName, r.inbox)
		must(tv.t, err)
		_, err = db.Exec(`INSERT OR IGNORE INTO User(UserSid) SELECT ? WHERE NOT EXISTS (SELECT 1 FROM User WHERE UserSid = ?)`, r.sid, r.sid)
		must(tv.t, err)
		_, err = db.Exec(`INSERT INTO PackageUser(Package, User, DeploymentState) SELECT ?, _UserID, 2 FROM User WHERE UserSid = ?`, id, r.sid)
		must(tv.t, err)
	}
	dir := filepath.Join(tv.root, "ProgramData", "Microsoft", "Windows", "AppRepository")
	must(tv.t, os.MkdirAll(dir, 0o755))
	for _, suffix := range []string{"", "-wal"} {
		data, err := os.ReadFile(src + suffix)
		must(tv.t, err)
		must(tv.t, os.WriteFile(filepath.Join(dir, "StateRepository-Machine.srd"+suffix), data, 0o644))
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// treeHash hashes every path, type and content below root.
func treeHash(t testing.TB, root string) string {
	t.Helper()
	h := sha256.New()
	var paths []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, p)
		return nil
	})
	must(t, err)
	sort.Strings(paths)
	for _, p := range paths {
		rel, _ := filepath.Rel(root, p)
		st, err := os.Lstat(p)
		must(t, err)
		io.WriteString(h, rel+"\x00"+st.Mode().Type().String()+"\x00")
		if st.Mode().IsRegular() {
			f, err := os.Open(p)
			must(t, err)
			io.Copy(h, f)
			f.Close()
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
