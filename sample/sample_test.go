package sample

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEditionsIdentifyAsContractSays(t *testing.T) {
	cases := []struct {
		windows, product, edition, build, installType string
	}{
		{"10", "Windows 10 Pro", "Professional", "19045", "Client"},
		{"11", "Windows 10 Pro", "Professional", "22631", "Client"}, // Windows 11 keeps ProductName "Windows 10 Pro"
		{"server2022", "Windows Server 2022 Datacenter", "ServerDatacenter", "20348", "Server"},
	}
	for _, c := range cases {
		t.Run(c.windows, func(t *testing.T) {
			dir := writeSample(t, Options{Windows: c.windows, Seed: 3})
			sw := openHive(t, dir, softwareHive)
			for name, want := range map[string]string{
				"ProductName": c.product, "EditionID": c.edition, "CurrentBuild": c.build,
				"CurrentBuildNumber": c.build, "InstallationType": c.installType,
			} {
				if got := readString(t, sw, cvNT, name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			if readNumber(t, sw, cvNT, "CurrentMajorVersionNumber") != 10 || readNumber(t, sw, cvNT, "UBR") == 0 {
				t.Error("CurrentMajorVersionNumber/UBR wrong")
			}
			if got := readString(t, sw, cv+`\Setup\State`, "ImageState"); got != "IMAGE_STATE_COMPLETE" {
				t.Errorf("ImageState %q", got)
			}
			if got := string(readFile(t, dir, "Windows/Setup/State/State.ini")); got != "[State]\r\nImageState=IMAGE_STATE_COMPLETE\r\n" {
				t.Errorf("State.ini %q", got)
			}
			sys := openHive(t, dir, systemHive)
			for _, n := range []string{"Current", "Default", "LastKnownGood"} {
				if readNumber(t, sys, "Select", n) != 1 {
					t.Errorf("Select\\%s != 1", n)
				}
			}
			if got := readString(t, sys, cs+`\Control\Session Manager\Environment`, "PROCESSOR_ARCHITECTURE"); got != "AMD64" {
				t.Errorf("PROCESSOR_ARCHITECTURE %q", got)
			}
			wantType := "WinNT"
			if c.installType == "Server" {
				wantType = "ServerNT"
				if readNumber(t, sw, `Microsoft\ServerManager\ServicingStorage\ServerComponentCache\Web-Server`, "InstallState") != 1 {
					t.Error("server lacks installed Web-Server")
				}
			}
			if got := readString(t, sys, cs+`\Control\ProductOptions`, "ProductType"); got != wantType {
				t.Errorf("ProductType %q, want %q", got, wantType)
			}
		})
	}
}

// TestHivesPassCheck: every hive of every variant passes reseal's own
// structural check after the sample stamped its timestamps.
func TestHivesPassCheck(t *testing.T) {
	for _, w := range WindowsVersions() {
		opts := Options{Windows: w, Seed: 11, Blockers: []string{"appx", "pending", "domain", "runlimit"}}
		if w == "server2022" {
			opts.Blockers = append(opts.Blockers, "role")
		}
		dir := writeSample(t, opts)
		for _, rel := range hivePaths(t, dir) {
			h := openHive(t, dir, rel)
			if p := h.Check(); len(p) > 0 {
				t.Errorf("%s %s: Check: %v", w, rel, p)
			}
			if r := h.Recovery(); r.Dirty {
				t.Errorf("%s %s: written dirty", w, rel)
			}
			if got := h.Root().LastWrite(); !got.Equal(testNow) {
				t.Errorf("%s %s: root last write %v, want %v", w, rel, got, testNow)
			}
		}
	}
}

func hivePaths(t *testing.T, dir string) []string {
	t.Helper()
	paths := []string{systemHive, softwareHive, samHive, securityHive, defaultHive}
	users, err := os.ReadDir(filepath.Join(dir, "Users"))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		rel := "Users/" + u.Name() + "/NTUSER.DAT"
		if fileExists(dir, rel) {
			paths = append(paths, rel)
		}
	}
	// Five machine hives, Default, the built-in Administrator and the user.
	if len(paths) != 8 {
		t.Fatalf("hives: %v", paths)
	}
	return paths
}

func TestIdentityPlanted(t *testing.T) {
	dir := writeSample(t, Options{Seed: 5})
	sys := openHive(t, dir, systemHive)
	name := readString(t, sys, cs+`\Control\ComputerName\ComputerName`, "ComputerName")
	if !strings.HasPrefix(name, "DESKTOP-") || len(name) != 15 {
		t.Errorf("computer name %q", name)
	}
	if got := readString(t, sys, cs+`\Control\ComputerName\ActiveComputerName`, "ComputerName"); got != name {
		t.Errorf("active computer name %q", got)
	}
	tp := cs + `\Services\Tcpip\Parameters`
	for _, v := range []string{"Hostname", "NV Hostname"} {
		if got := readString(t, sys, tp, v); got != name {
			t.Errorf("%s = %q", v, got)
		}
	}
	ifs, err := mustKey(t, sys.Root(), tp+`\Interfaces`).SubKeys()
	if err != nil {
		t.Fatal(err)
	}
	leases := 0
	for _, k := range ifs {
		if _, err := k.Value("DhcpIPAddress"); err == nil {
			leases++
			for _, n := range []string{"DhcpServer", "LeaseObtainedTime", "LeaseTerminatesTime", "DhcpSubnetMask", "EnableDHCP"} {
				if _, err := k.Value(n); err != nil {
					t.Errorf("lease lacks %s", n)
				}
			}
		}
	}
	if leases != 1 {
		t.Errorf("%d DHCP leases, want 1", leases)
	}
	if duid := readValue(t, sys, cs+`\Services\Tcpip6\Parameters`, "Dhcpv6DUID"); len(duid.Data) != 14 || duid.Data[1] != 1 {
		t.Errorf("DUID % x", duid.Data)
	}
	sw := openHive(t, dir, softwareHive)
	if g := readString(t, sw, `Microsoft\Cryptography`, "MachineGuid"); len(g) != 36 {
		t.Errorf("MachineGuid %q", g)
	}
	readString(t, sw, cv+`\WindowsUpdate`, "SusClientId")
	readValue(t, sw, cv+`\WindowsUpdate`, "SusClientIDValidation")
	readString(t, sw, `Microsoft\SQMClient`, "MachineId")
	profiles, _ := mustKey(t, sw.Root(), cvNT+`\NetworkList\Profiles`).SubKeyNames()
	sigs, _ := mustKey(t, sw.Root(), cvNT+`\NetworkList\Signatures\Unmanaged`).SubKeyNames()
	if len(profiles) != 1 || len(sigs) != 1 {
		t.Errorf("network profiles %v, signatures %v", profiles, sigs)
	}
	// Devices: every Enum instance names a driver key that exists.
	for _, d := range (&volume{}).devices() {
		drv := readString(t, sys, cs+`\Enum\`+d.instance, "Driver")
		if !keyExists(t, sys, cs+`\Control\Class\`+drv) {
			t.Errorf("%s: driver key %s missing", d.instance, drv)
		}
		if !fileExists(dir, "Windows/System32/DriverStore/FileRepository/"+d.storeFolder()+"/"+d.inf) {
			t.Errorf("driver store lacks %s", d.storeFolder())
		}
	}
	for _, bus := range []string{"PCI", "USB", "SWD", "ROOT", "SCSI"} {
		if !keyExists(t, sys, cs+`\Enum\`+bus) {
			t.Errorf("no %s devices", bus)
		}
	}
	// SAM: the built-in accounts and the user, with their RIDs.
	sam := openHive(t, dir, samHive)
	for name, rid := range map[string]uint32{"Administrator": ridAdministrator, "Guest": ridGuest} {
		v := readValue(t, sam, samAccountKey+`\Users\Names\`+name, "")
		if uint32(v.Type) != rid {
			t.Errorf("Names\\%s type %#x, want %#x", name, v.Type, rid)
		}
		f := readValue(t, sam, fmt.Sprintf(`%s\Users\%08X`, samAccountKey, rid), "F").Data
		if len(f) != 0x50 || f[0x30] != byte(rid) || f[0x38]&acbDisabled == 0 {
			t.Errorf("%s F wrong: % x", name, f)
		}
		vv := readValue(t, sam, fmt.Sprintf(`%s\Users\%08X`, samAccountKey, rid), "V").Data
		if !bytes.Contains(vv, utf16le(name)) {
			t.Errorf("%s V lacks the name", name)
		}
	}
	sec := openHive(t, dir, securityHive)
	if d := readValue(t, sec, `Policy\PolPrDmS`, "").Data; len(d) != 0 {
		t.Errorf("workgroup machine has a primary domain SID % x", d)
	}
	if d := readValue(t, sec, `Policy\PolAcDmS`, "").Data; !bytes.Equal(d, sidBytes(readString(t, sw, cv+`\WindowsUpdate`, "AccountDomainSid"))) {
		t.Errorf("PolAcDmS % x does not match the machine SID", d)
	}
}

func TestFilesPlanted(t *testing.T) {
	dir := writeSample(t, Options{Seed: 8})
	for _, rel := range []string{
		"Windows/System32/Sysprep/sysprep.exe", "pagefile.sys", "swapfile.sys",
		"Windows/Panther/setupact.log", "Windows/INF/setupapi.dev.log",
		"Windows/System32/Sysprep/ActionFiles/Cleanup.xml", "Windows/System32/Sysprep/ActionFiles/Generalize.xml",
		"Windows/System32/Sysprep/ActionFiles/Specialize.xml", srdPath, srdPath + "-wal",
	} {
		if !fileExists(dir, rel) {
			t.Errorf("missing %s", rel)
		}
	}
	for _, rel := range []string{"hiberfil.sys", "Windows/WinSxS/pending.xml", "Windows/Panther/Unattend/Unattend.xml", "Windows/System32/ias/ias.xml"} {
		if fileExists(dir, rel) {
			t.Errorf("clean sample has %s", rel)
		}
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "Windows/System32/winevt/Logs/*.evtx"))
	if len(logs) < 5 {
		t.Errorf("%d event logs", len(logs))
	}
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		if !bytes.HasPrefix(b, []byte("ElfFile\x00")) {
			t.Errorf("%s does not begin with ElfFile", l)
		}
	}
	for _, pattern := range []string{"Windows/Prefetch/*.pf", "Windows/Temp/*", "ProgramData/Microsoft/Windows/WER/ReportQueue/*", "System Volume Information/*", "$Recycle.Bin/*/*"} {
		if m, _ := filepath.Glob(filepath.Join(dir, pattern)); len(m) == 0 {
			t.Errorf("nothing matches %s", pattern)
		}
	}
}

func TestWriteRefusesNonEmptyDir(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "keep"), []byte("x"), 0o644)
	if err := Write(dir, Options{}); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("Write into a non-empty dir: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("Write touched a non-empty dir: %d entries", len(entries))
	}
}

func TestBadOptions(t *testing.T) {
	cases := []struct {
		opts Options
		want string
	}{
		{Options{Blockers: []string{"nope"}}, "valid: appx, pending, upgrade, role, nps, runlimit, state, hibernated, stale-unattend, domain"},
		{Options{Blockers: []string{"bitlocker"}}, "cannot be planted"},
		{Options{Windows: "7"}, "valid: 10, 11, server2022"},
		{Options{Windows: "10", Blockers: []string{"role"}}, "needs a server"},
	}
	for _, c := range cases {
		dir := filepath.Join(t.TempDir(), "vol")
		err := Write(dir, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Write(%+v) = %v, want an error containing %q", c.opts, err, c.want)
		}
		if fileExists(dir, ".") {
			t.Errorf("Write(%+v) created the directory despite the error", c.opts)
		}
	}
}

func TestDeterministicForSeed(t *testing.T) {
	opts := Options{Windows: "11", Seed: 42, Blockers: []string{"appx", "pending"}, Dirty: true}
	a := treeHash(t, writeSample(t, opts))
	b := treeHash(t, writeSample(t, opts))
	if a != b {
		t.Fatalf("same seed, different trees: %s vs %s", a, b)
	}
	opts.Seed = 43
	if c := treeHash(t, writeSample(t, opts)); c == a {
		t.Fatal("different seeds gave the same tree")
	}
}

// TestBlockersDoNotShiftIdentity: a blocker adds to a volume; the machine
// identity of a seed stays the same, so that a clean and a blocked sample
// differ only by what the blocker planted.
func TestBlockersDoNotShiftIdentity(t *testing.T) {
	clean := writeSample(t, Options{Seed: 9})
	blocked := writeSample(t, Options{Seed: 9, Blockers: BlockerNames()[:3]})
	for _, rel := range []string{samHive, defaultHive, "Windows/System32/Sysprep/ActionFiles/Generalize.xml"} {
		if !bytes.Equal(readFile(t, clean, rel), readFile(t, blocked, rel)) {
			t.Errorf("%s differs between a clean and a blocked sample", rel)
		}
	}
}

// BenchmarkWrite measures writing a whole sample volume (hives, SQLite
// repository, files).
func BenchmarkWrite(b *testing.B) {
	for _, w := range WindowsVersions() {
		b.Run(w, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				dir := filepath.Join(b.TempDir(), "vol")
				if err := Write(dir, Options{Windows: w, Seed: int64(i)}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
