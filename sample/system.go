package sample

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

const cs = `ControlSet001`

// Device setup classes used by the sample's devices.
const (
	classNet     = "{4d36e972-e325-11ce-bfc1-08002be10318}"
	classSCSI    = "{4d36e97b-e325-11ce-bfc1-08002be10318}"
	classDisplay = "{4d36e968-e325-11ce-bfc1-08002be10318}"
	classMouse   = "{4d36e96f-e325-11ce-bfc1-08002be10318}"
	classUSB     = "{36fc9e60-c465-11cf-8056-444553540000}"
	classSystem  = "{4d36e97d-e325-11ce-bfc1-08002be10318}"
	classDisk    = "{4d36e967-e325-11ce-bfc1-08002be10318}"
	classPrint   = "{1ed2bbf9-11f0-4084-b21f-ad83a8e6dcdc}"
	classAudioEP = "{c166523c-fe0c-4a94-a586-f1a80cfbbf3e}"
)

// driverPackage is a driver in the driver store and the device it drives.
type driverPackage struct {
	inf        string // original INF name
	oem        string // oemN.inf for third-party packages, "" for inbox
	hash       string // the FileRepository folder's hash suffix
	provider   string
	class      string
	classGUID  string
	service    string
	desc       string
	version    string // DriverVersion
	date       string // DriverDate m-d-yyyy
	instance   string // Enum path of the device it drives
	hardwareID []string
	compatible []string
	mfg        string
	location   string
}

func (d driverPackage) storeFolder() string {
	return d.inf + "_amd64_" + d.hash
}

// devices is the golden VM's hardware: a VMware virtual machine, the most
// common place a reference image is built.
func (v *volume) devices() []driverPackage {
	return []driverPackage{
		{
			inf: "vmxnet3.inf", oem: "oem2.inf", hash: "5d2ab3e8c0f46a17", provider: "VMware, Inc.",
			class: "Net", classGUID: classNet, service: "vmxnet3ndis6",
			desc: "vmxnet3 Ethernet Adapter", version: "1.9.17.0", date: "6-13-2023",
			instance:   `PCI\VEN_15AD&DEV_07B0&SUBSYS_07B015AD&REV_01\FF565000A2B4F5FE00`,
			hardwareID: []string{`PCI\VEN_15AD&DEV_07B0&SUBSYS_07B015AD&REV_01`, `PCI\VEN_15AD&DEV_07B0&SUBSYS_07B015AD`, `PCI\VEN_15AD&DEV_07B0&CC_020000`, `PCI\VEN_15AD&DEV_07B0&CC_0200`},
			compatible: []string{`PCI\VEN_15AD&DEV_07B0&REV_01`, `PCI\VEN_15AD&DEV_07B0`, `PCI\VEN_15AD&CC_020000`, `PCI\VEN_15AD`, `PCI\CC_020000`, `PCI\CC_0200`},
			mfg:        "VMware, Inc.", location: "PCI bus 11, device 0, function 0",
		},
		{
			inf: "pvscsii.inf", oem: "oem1.inf", hash: "a1f0b0a7d96bc5ef", provider: "VMware, Inc.",
			class: "SCSIAdapter", classGUID: classSCSI, service: "pvscsi",
			desc: "VMware PVSCSI Controller", version: "1.3.26.0", date: "3-1-2023",
			instance:   `PCI\VEN_15AD&DEV_07C0&SUBSYS_07C015AD&REV_02\FF565000D2B4F5FE00`,
			hardwareID: []string{`PCI\VEN_15AD&DEV_07C0&SUBSYS_07C015AD&REV_02`, `PCI\VEN_15AD&DEV_07C0&SUBSYS_07C015AD`, `PCI\VEN_15AD&DEV_07C0&CC_010700`, `PCI\VEN_15AD&DEV_07C0&CC_0107`},
			compatible: []string{`PCI\VEN_15AD&DEV_07C0&REV_02`, `PCI\VEN_15AD&DEV_07C0`, `PCI\VEN_15AD&CC_010700`, `PCI\VEN_15AD`, `PCI\CC_010700`, `PCI\CC_0107`},
			mfg:        "VMware, Inc.", location: "PCI bus 3, device 0, function 0",
		},
		{
			inf: "vm3d.inf", oem: "oem3.inf", hash: "0f7e5d31c8a24b96", provider: "VMware, Inc.",
			class: "Display", classGUID: classDisplay, service: "vm3dmp",
			desc: "VMware SVGA 3D", version: "9.17.7.2", date: "9-14-2023",
			instance:   `PCI\VEN_15AD&DEV_0405&SUBSYS_040515AD&REV_00\3&61AAA01&0&78`,
			hardwareID: []string{`PCI\VEN_15AD&DEV_0405&SUBSYS_040515AD&REV_00`, `PCI\VEN_15AD&DEV_0405&SUBSYS_040515AD`, `PCI\VEN_15AD&DEV_0405&CC_030000`, `PCI\VEN_15AD&DEV_0405&CC_0300`},
			compatible: []string{`PCI\VEN_15AD&DEV_0405&REV_00`, `PCI\VEN_15AD&DEV_0405`, `PCI\VEN_15AD&CC_030000`, `PCI\VEN_15AD`, `PCI\CC_030000`, `PCI\CC_0300`},
			mfg:        "VMware, Inc.", location: "PCI bus 0, device 15, function 0",
		},
		{
			inf: "usbport.inf", hash: "ad2b1e8f7e1c4f33", provider: "Microsoft",
			class: "USB", classGUID: classUSB, service: "usbuhci",
			desc: "Standard Universal PCI to USB Host Controller", version: "10.0.19041.1", date: "6-21-2006",
			instance:   `PCI\VEN_8086&DEV_7112&SUBSYS_197615AD&REV_00\3&61AAA01&0&3A`,
			hardwareID: []string{`PCI\VEN_8086&DEV_7112&SUBSYS_197615AD&REV_00`, `PCI\VEN_8086&DEV_7112&SUBSYS_197615AD`, `PCI\VEN_8086&DEV_7112&CC_0C0300`, `PCI\VEN_8086&DEV_7112&CC_0C03`},
			compatible: []string{`PCI\VEN_8086&DEV_7112&REV_00`, `PCI\VEN_8086&DEV_7112`, `PCI\VEN_8086&CC_0C0300`, `PCI\VEN_8086&CC_0C03`, `PCI\VEN_8086`, `PCI\CC_0C0300`, `PCI\CC_0C03`},
			mfg:        "(Standard USB Host Controller)", location: "PCI bus 0, device 7, function 2",
		},
		{
			inf: "msmouse.inf", hash: "4cd35a6d4c8b2c2a", provider: "Microsoft",
			class: "Mouse", classGUID: classMouse, service: "mouhid",
			desc: "HID-compliant mouse", version: "10.0.19041.1", date: "6-21-2006",
			instance:   `USB\VID_0E0F&PID_0003&MI_00\7&1C3A4B5&0&0000`,
			hardwareID: []string{`USB\VID_0E0F&PID_0003&REV_0102&MI_00`, `USB\VID_0E0F&PID_0003&MI_00`},
			compatible: []string{`USB\Class_03&SubClass_01&Prot_02`, `USB\Class_03&SubClass_01`, `USB\Class_03`},
			mfg:        "Microsoft", location: "0000.0007.0000.001.000.000.000.000.000",
		},
		{
			inf: "disk.inf", hash: "b6d1f8a51c93e1d5", provider: "Microsoft",
			class: "DiskDrive", classGUID: classDisk, service: "disk",
			desc: "VMware Virtual disk SCSI Disk Device", version: "10.0.19041.1", date: "6-21-2006",
			instance:   `SCSI\Disk&Ven_VMware&Prod_Virtual_disk\5&1ec51bf7&0&000000`,
			hardwareID: []string{`SCSI\DiskVMware_Virtual_disk____2.0_`, `SCSI\DiskVMware_Virtual_disk____`, `SCSI\DiskVMware_`, `SCSI\VMware_Virtual_disk____2`, `VMware_Virtual_disk____2`, `GenDisk`},
			compatible: []string{`SCSI\Disk`, `SCSI\RAW`},
			mfg:        "(Standard disk drives)", location: "Bus Number 0, Target Id 0, LUN 0",
		},
		{
			inf: "basicdisplay.inf", hash: "9b4c3a07f52ec0e4", provider: "Microsoft",
			class: "System", classGUID: classSystem, service: "BasicDisplay",
			desc: "Microsoft Basic Display Driver", version: "10.0.19041.1", date: "6-21-2006",
			instance:   `ROOT\BasicDisplay\0000`,
			hardwareID: []string{`ROOT\BasicDisplay`},
			mfg:        "(Standard system devices)",
		},
		{
			inf: "printqueue.inf", hash: "4c2a9fb1e0a5e3a6", provider: "Microsoft",
			class: "PrintQueue", classGUID: classPrint, service: "",
			desc: "Microsoft Print to PDF", version: "10.0.19041.3636", date: "6-21-2006",
			instance:   `SWD\PRINTENUM\{7B1D5E4C-2C9E-4E1A-9F3B-0F4D8E6A2B11}`,
			hardwareID: []string{`PRINTENUM\{084f01fa-e634-4d77-83ee-074817c03581}`, `PRINTENUM\LocalPrintQueue`},
			mfg:        "Microsoft",
		},
		{
			inf: "audioendpoint.inf", hash: "c3d5b8c0e6a1b2f4", provider: "Microsoft",
			class: "AudioEndpoint", classGUID: classAudioEP, service: "",
			desc: "Speakers", version: "10.0.19041.1", date: "6-21-2006",
			instance:   `SWD\MMDEVAPI\{0.0.0.00000000}.{5B9E3A7C-4E1D-4C3B-9A8F-2D6E1F0A3C47}`,
			hardwareID: []string{`MMDEVAPI\AudioEndpoints`},
			mfg:        "Microsoft",
		},
	}
}

func (v *volume) buildSystem() {
	t := v.system()
	id := v.id
	for _, name := range []string{"Current", "Default", "LastKnownGood"} {
		t.dword("Select", name, 1)
	}
	t.dword("Select", "Failed", 0)

	// Volumes: a GPT disk's C: partition.
	mounted := append([]byte("DMIO:ID:"), guidBytes(id.volumeGUID)...)
	t.bin("MountedDevices", `\DosDevices\C:`, mounted)
	t.bin("MountedDevices", `\??\Volume`+id.volumeGUID, mounted)

	v.buildControl(t)
	v.buildEnumAndClasses(t)
	v.buildServices(t)
	v.buildSetup(t)
}

func (v *volume) buildControl(t *regTree) {
	id := v.id
	c := cs + `\Control`
	t.sz(c, "SystemBootDevice", "multi(0)disk(0)rdisk(0)partition(2)")
	t.sz(c, "SystemStartOptions", " NOEXECUTE=OPTIN  NOVGA")
	t.dword(c, "WaitToKillServiceTimeout", 5000)

	cn := c + `\ComputerName`
	t.sz(cn+`\ComputerName`, "", "mnmsrvc")
	t.sz(cn+`\ComputerName`, "ComputerName", id.computerName)
	t.sz(cn+`\ActiveComputerName`, "ComputerName", id.computerName)

	t.sz(c+`\ProductOptions`, "ProductType", v.ed.productType)
	t.multi(c+`\ProductOptions`, "ProductSuite", "Terminal Server")

	// The installed language: Nls\Language's LCIDs (hex text) and the MUI
	// UI language's key, which DISM and wimlib read for LANGUAGES.
	t.sz(c+`\Nls\Language`, "Default", "0409")
	t.sz(c+`\Nls\Language`, "InstallLanguage", "0409")
	t.dword(c+`\MUI\UILanguages\en-US`, "LCID", 0x409)
	t.dword(c+`\MUI\UILanguages\en-US`, "Type", 0x111)

	sm := c + `\Session Manager`
	t.multi(sm, "BootExecute", "autocheck autochk *")
	t.dword(sm, "CriticalSectionTimeout", 2592000)
	t.multi(sm, "ExcludeFromKnownDlls")
	t.dword(sm, "GlobalFlag", 0)
	t.multi(sm, "ObjectDirectories", `\Windows`, `\RPC Control`)
	t.dword(sm, "ProtectionMode", 1)
	env := sm + `\Environment`
	t.expand(env, "ComSpec", `%SystemRoot%\system32\cmd.exe`)
	t.expand(env, "DriverData", `C:\Windows\System32\Drivers\DriverData`)
	t.sz(env, "NUMBER_OF_PROCESSORS", "2")
	t.sz(env, "OS", "Windows_NT")
	t.expand(env, "Path", `%SystemRoot%\system32;%SystemRoot%;%SystemRoot%\System32\Wbem;%SYSTEMROOT%\System32\WindowsPowerShell\v1.0\;%SYSTEMROOT%\System32\OpenSSH\`)
	t.sz(env, "PATHEXT", ".COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC")
	t.sz(env, "PROCESSOR_ARCHITECTURE", "AMD64")
	t.sz(env, "PROCESSOR_IDENTIFIER", "Intel64 Family 6 Model 85 Stepping 7, GenuineIntel")
	t.sz(env, "PROCESSOR_LEVEL", "6")
	t.sz(env, "PROCESSOR_REVISION", "5507")
	t.expand(env, "PSModulePath", `%ProgramFiles%\WindowsPowerShell\Modules;%SystemRoot%\system32\WindowsPowerShell\v1.0\Modules`)
	t.expand(env, "TEMP", `%SystemRoot%\TEMP`)
	t.expand(env, "TMP", `%SystemRoot%\TEMP`)
	t.sz(env, "USERNAME", "SYSTEM")
	t.expand(env, "windir", `%SystemRoot%`)
	// Fast startup off: a reference machine is shut down fully before it
	// is captured (the hibernated blocker turns it on).
	t.dword(sm+`\Power`, "HiberbootEnabled", 0)
	t.dword(sm+`\Power`, "AwayModeEnabled", 0)
	mm := sm + `\Memory Management`
	t.dword(mm, "ClearPageFileAtShutdown", 0)
	t.multi(mm, "PagingFiles", `?:\pagefile.sys`)
	t.multi(mm, "ExistingPageFiles", `\??\C:\pagefile.sys`)
	t.dword(mm, "LargeSystemCache", 0)
	t.sz(sm+`\KnownDLLs`, "kernel32", "kernel32.dll")
	t.sz(sm+`\KnownDLLs`, "ntdll", "ntdll.dll")

	tz := c + `\TimeZoneInformation`
	t.dword(tz, "Bias", 480)
	t.dword(tz, "ActiveTimeBias", 420)
	t.dword(tz, "DaylightBias", 0xffffffc4)
	t.sz(tz, "DaylightName", "@tzres.dll,-211")
	t.sz(tz, "StandardName", "@tzres.dll,-212")
	t.sz(tz, "TimeZoneKeyName", "Pacific Standard Time")
	t.dword(tz, "DynamicDaylightTimeDisabled", 0)

	crash := c + `\CrashControl`
	t.dword(crash, "AutoReboot", 1)
	t.dword(crash, "CrashDumpEnabled", 7)
	t.expand(crash, "DumpFile", `%SystemRoot%\MEMORY.DMP`)
	t.expand(crash, "MinidumpDir", `%SystemRoot%\Minidump`)
	t.dword(crash, "LogEvent", 1)

	ts := c + `\Terminal Server`
	t.dword(ts, "fDenyTSConnections", 1)
	rdp := ts + `\WinStations\RDP-Tcp`
	t.dword(rdp, "PortNumber", 3389)
	t.dword(rdp, "SecurityLayer", 2)
	t.dword(rdp, "UserAuthentication", 1)
	// The thumbprint of the machine's self-signed RDP certificate: a clone
	// must make its own (Generalize.xml deletes it).
	thumb, _ := hex.DecodeString(id.rdpThumbprint)
	t.bin(rdp, "SSLCertificateSHA1Hash", thumb)

	t.dword(c+`\Windows`, "CSDVersion", 0)
	t.expand(c+`\Windows`, "Directory", `%SystemRoot%`)
	st := filetime(v.now)
	t.bin(c+`\Windows`, "ShutdownTime", binary.LittleEndian.AppendUint64(nil, st))

	net := c + `\Network\` + classNet + `\` + id.ifGUID + `\Connection`
	t.sz(net, "Name", "Ethernet0")
	t.sz(net, "PnPInstanceId", `PCI\VEN_15AD&DEV_07B0&SUBSYS_07B015AD&REV_01\FF565000A2B4F5FE00`)
	t.dword(net, "MediaSubType", 1)
}

func (v *volume) buildEnumAndClasses(t *regTree) {
	classNames := map[string][2]string{
		classNet:     {"Net", "Network adapters"},
		classSCSI:    {"SCSIAdapter", "Storage controllers"},
		classDisplay: {"Display", "Display adapters"},
		classMouse:   {"Mouse", "Mice and other pointing devices"},
		classUSB:     {"USB", "Universal Serial Bus controllers"},
		classSystem:  {"System", "System devices"},
		classDisk:    {"DiskDrive", "Disk drives"},
		classPrint:   {"PrintQueue", "Print queues"},
		classAudioEP: {"AudioEndpoint", "Audio inputs and outputs"},
	}
	instanceOf := map[string]int{}
	for _, d := range v.devices() {
		ck := cs + `\Control\Class\` + d.classGUID
		names := classNames[d.classGUID]
		t.sz(ck, "", names[1])
		t.sz(ck, "Class", names[0])
		n := instanceOf[d.classGUID]
		instanceOf[d.classGUID] = n + 1
		driverKey := fmt.Sprintf(`%s\%04d`, d.classGUID, n)
		dk := cs + `\Control\Class\` + driverKey
		infPath := d.inf
		if d.oem != "" {
			infPath = d.oem
		}
		t.sz(dk, "DriverDesc", d.desc)
		t.sz(dk, "ProviderName", d.provider)
		t.sz(dk, "DriverDateData", d.date)
		t.sz(dk, "DriverDate", d.date)
		t.sz(dk, "DriverVersion", d.version)
		t.sz(dk, "InfPath", infPath)
		t.sz(dk, "InfSection", strings.TrimSuffix(d.inf, ".inf")+".ndi")
		t.sz(dk, "MatchingDeviceId", strings.ToLower(d.hardwareID[len(d.hardwareID)-1]))
		if d.classGUID == classNet {
			t.sz(dk, "NetCfgInstanceId", v.id.ifGUID)
			t.dword(dk, "*IfType", 6)
			t.dword(dk, "*MediaType", 0)
			t.dword(dk, "*PhysicalMediaType", 14)
			t.sz(dk, "NetworkAddress", "")
		}

		ek := cs + `\Enum\` + d.instance
		t.sz(ek, "DeviceDesc", fmt.Sprintf("@%s,%%%s%%;%s", d.inf, strings.ReplaceAll(strings.ToLower(d.desc), " ", "_"), d.desc))
		t.multi(ek, "HardwareID", d.hardwareID...)
		if len(d.compatible) > 0 {
			t.multi(ek, "CompatibleIDs", d.compatible...)
		}
		if d.service != "" {
			t.sz(ek, "Service", d.service)
		}
		t.sz(ek, "ClassGUID", d.classGUID)
		t.sz(ek, "Class", names[0])
		t.sz(ek, "Driver", driverKey)
		t.sz(ek, "Mfg", fmt.Sprintf("@%s,%%%s%%;%s", d.inf, "mfg", d.mfg))
		t.dword(ek, "ConfigFlags", 0)
		t.dword(ek, "Capabilities", 0x60)
		t.sz(ek, "ContainerID", "{00000000-0000-0000-ffff-ffffffffffff}")
		if d.location != "" {
			t.sz(ek, "LocationInformation", d.location)
		}
		t.dword(ek+`\Device Parameters`, "InterruptManagement", 0)
		t.key(ek + `\LogConf`)

		// The driver database: which package serves which device. The
		// packages stay in the store after generalize.
		dd := `DriverDatabase\DriverPackages\` + d.storeFolder()
		t.sz(dd, "", d.inf)
		t.sz(dd, "Provider", d.provider)
		t.sz(dd, "SignerName", "Microsoft Windows Hardware Compatibility Publisher")
		t.dword(dd, "SignerScore", 0x0d000005)
		t.bin(dd, "Version", driverVersionBlob(d))
		if d.oem != "" {
			t.multi(`DriverDatabase\DriverInfFiles\`+d.oem, "", d.storeFolder())
			t.sz(`DriverDatabase\DriverInfFiles\`+d.oem, "Active", d.storeFolder())
		}
		t.dword(`DriverDatabase\DeviceIds\`+strings.ToLower(d.hardwareID[len(d.hardwareID)-1]), infPath, 0x00ff0000)
	}
	t.bin(`DriverDatabase`, "OemInfMap", []byte{0xe0})
	t.dword(`DriverDatabase`, "Version", 0x00010003)
}

// driverVersionBlob is the packed class GUID, date and version a
// DriverPackages key holds.
func driverVersionBlob(d driverPackage) []byte {
	b := make([]byte, 0, 40)
	b = binary.LittleEndian.AppendUint32(b, 0x000000ff)
	b = append(b, guidBytes(d.classGUID)...)
	b = binary.LittleEndian.AppendUint64(b, 0x01d99d1c9e6a8000)
	var parts [4]uint16
	fmt.Sscanf(d.version, "%d.%d.%d.%d", &parts[0], &parts[1], &parts[2], &parts[3])
	for i := 3; i >= 0; i-- {
		b = binary.LittleEndian.AppendUint16(b, parts[i])
	}
	return b
}

// service is one Services key. Type: 1 kernel driver, 2 file system,
// 0x10 own process, 0x20 shared process. Start: 0 boot .. 4 disabled.
type service struct {
	name, display, image, object, group string
	typ, start                          uint32
	depends                             []string
}

var baseServices = []service{
	{name: "Tcpip", display: "@%SystemRoot%\\system32\\tcpipcfg.dll,-50003", image: `System32\drivers\tcpip.sys`, group: "PNP_TDI", typ: 1, start: 0},
	{name: "Tcpip6", display: "@%SystemRoot%\\system32\\tcpipcfg.dll,-50004", image: `System32\drivers\tcpip.sys`, group: "PNP_TDI", typ: 1, start: 3},
	{name: "Dhcp", display: "@%SystemRoot%\\system32\\dhcpcore.dll,-100", image: `%SystemRoot%\system32\svchost.exe -k LocalServiceNetworkRestricted -p`, object: `NT Authority\LocalService`, group: "TDI", typ: 0x20, start: 2, depends: []string{"NSI", "Afd"}},
	{name: "Dnscache", display: "@%SystemRoot%\\System32\\dnsapi.dll,-101", image: `%SystemRoot%\system32\svchost.exe -k NetworkService -p`, object: `NT AUTHORITY\NetworkService`, group: "NetworkProvider", typ: 0x20, start: 2, depends: []string{"nsi", "Tdx"}},
	{name: "W32Time", display: "@%SystemRoot%\\system32\\w32time.dll,-200", image: `%SystemRoot%\system32\svchost.exe -k LocalService`, object: `NT AUTHORITY\LocalService`, typ: 0x20, start: 3},
	{name: "NlaSvc", display: "@%SystemRoot%\\System32\\nlasvc.dll,-1", image: `%SystemRoot%\System32\svchost.exe -k NetworkService -p`, object: `NT AUTHORITY\NetworkService`, group: "NetworkProvider", typ: 0x20, start: 2, depends: []string{"NSI", "RpcSs", "TcpIp", "Dhcp", "Eventlog"}},
	{name: "EventLog", display: "@%SystemRoot%\\system32\\wevtsvc.dll,-200", image: `%SystemRoot%\System32\svchost.exe -k LocalServiceNetworkRestricted -p`, object: `NT AUTHORITY\LocalService`, group: "Event Log", typ: 0x20, start: 2},
	{name: "LanmanServer", display: "@%systemroot%\\system32\\srvsvc.dll,-100", image: `%SystemRoot%\system32\svchost.exe -k netsvcs -p`, object: "LocalSystem", typ: 0x20, start: 2, depends: []string{"SamSS", "Srv2"}},
	{name: "LanmanWorkstation", display: "@%systemroot%\\system32\\wkssvc.dll,-100", image: `%SystemRoot%\System32\svchost.exe -k NetworkService -p`, object: `NT AUTHORITY\NetworkService`, group: "NetworkProvider", typ: 0x20, start: 2, depends: []string{"Bowser", "MRxSmb20", "NSI"}},
	{name: "Netlogon", display: "@%SystemRoot%\\System32\\netlogon.dll,-102", image: `%systemroot%\system32\lsass.exe`, object: "LocalSystem", group: "RemoteValidation", typ: 0x20, start: 3, depends: []string{"LanmanWorkstation"}},
	{name: "wuauserv", display: "@%systemroot%\\system32\\wuaueng.dll,-105", image: `%systemroot%\system32\svchost.exe -k netsvcs -p`, object: "LocalSystem", typ: 0x20, start: 3, depends: []string{"rpcss"}},
	{name: "BITS", display: "@%SystemRoot%\\system32\\qmgr.dll,-1000", image: `%SystemRoot%\System32\svchost.exe -k netsvcs -p`, object: "LocalSystem", typ: 0x20, start: 3, depends: []string{"RpcSs"}},
	{name: "Winmgmt", display: "@%Systemroot%\\system32\\wbem\\wmisvc.dll,-205", image: `%systemroot%\system32\svchost.exe -k netsvcs -p`, object: "localSystem", typ: 0x20, start: 2, depends: []string{"RPCSS"}},
	{name: "Schedule", display: "@%SystemRoot%\\system32\\schedsvc.dll,-100", image: `%systemroot%\system32\svchost.exe -k netsvcs -p`, object: "LocalSystem", group: "SchedulerGroup", typ: 0x20, start: 2, depends: []string{"RPCSS", "SystemEventsBroker"}},
	{name: "TermService", display: "@%SystemRoot%\\System32\\termsrv.dll,-268", image: `%SystemRoot%\System32\svchost.exe -k NetworkService`, object: `NT Authority\NetworkService`, typ: 0x20, start: 3, depends: []string{"RPCSS"}},
	{name: "sppsvc", display: "@%SystemRoot%\\system32\\sppsvc.exe,-101", image: `%SystemRoot%\system32\sppsvc.exe`, object: `NT AUTHORITY\NetworkService`, typ: 0x10, start: 2, depends: []string{"RpcSs"}},
	{name: "MSDTC", display: "@%SystemRoot%\\system32\\msdtckrm.dll,-1", image: `%SystemRoot%\System32\msdtc.exe`, object: `NT AUTHORITY\NetworkService`, typ: 0x10, start: 3, depends: []string{"RPCSS", "SamSS"}},
	{name: "disk", display: "@disk.inf,%disk_ServiceDesc%;Disk Driver", image: `System32\drivers\disk.sys`, group: "SCSI Class", typ: 1, start: 0},
	{name: "volsnap", display: "@volsnap.inf,%volsnap.SVCDESC%;Volume Shadow Copy driver", image: `System32\drivers\volsnap.sys`, group: "Filter", typ: 1, start: 0},
	{name: "Ntfs", display: "Ntfs", group: "Boot File System", typ: 2, start: 3},
	{name: "usbuhci", display: "@usbport.inf,%usbuhci.SvcDesc%;Microsoft USB Universal Host Controller Miniport Driver", image: `\SystemRoot\System32\drivers\usbuhci.sys`, group: "Base", typ: 1, start: 3},
	{name: "mouhid", display: "@msmouse.inf,%HID_Mouse_Filter_Driver%;Mouse HID Driver", image: `\SystemRoot\System32\drivers\mouhid.sys`, typ: 1, start: 3},
	{name: "BasicDisplay", display: "@basicdisplay.inf,%BasicDisplay.SvcDesc%;Microsoft Basic Display Driver", image: `\SystemRoot\System32\DriverStore\FileRepository\basicdisplay.inf_amd64_9b4c3a07f52ec0e4\BasicDisplay.sys`, group: "Video", typ: 1, start: 1},
	{name: "vmxnet3ndis6", display: "@oem2.inf,%vmxnet3.Service.DispName%;vmxnet3 NDIS 6 Ethernet Adapter Driver", image: `\SystemRoot\System32\drivers\vmxnet3.sys`, group: "NDIS", typ: 1, start: 3},
	{name: "pvscsi", display: "@oem1.inf,%pvscsi.DiskName%;pvscsi Storage Controller Driver", image: `\SystemRoot\System32\drivers\pvscsii.sys`, group: "SCSI miniport", typ: 1, start: 0},
	{name: "vm3dmp", display: "@oem3.inf,%vm3dmp.SvcDesc%;vm3dmp", image: `\SystemRoot\System32\DriverStore\FileRepository\vm3d.inf_amd64_0f7e5d31c8a24b96\vm3dmp.sys`, typ: 1, start: 3},
	{name: "vm3dservice", display: "@oem3.inf,%VM3DSERVICE_DISPLAYNAME%;VMware SVGA Helper Service", image: `%SystemRoot%\system32\vm3dservice.exe`, object: "LocalSystem", typ: 0x10, start: 2},
	{name: "VMTools", display: "VMware Tools", image: `"C:\Program Files\VMware\VMware Tools\vmtoolsd.exe"`, object: "LocalSystem", typ: 0x10, start: 2},
}

func (v *volume) buildServices(t *regTree) {
	id := v.id
	svc := cs + `\Services`
	for _, s := range baseServices {
		k := svc + `\` + s.name
		if s.display != "" {
			t.sz(k, "DisplayName", s.display)
		}
		if s.image != "" {
			t.expand(k, "ImagePath", s.image)
		}
		if s.object != "" {
			t.sz(k, "ObjectName", s.object)
		}
		if s.group != "" {
			t.sz(k, "Group", s.group)
		}
		if len(s.depends) > 0 {
			t.multi(k, "DependOnService", s.depends...)
		}
		t.dword(k, "ErrorControl", 1)
		t.dword(k, "Start", s.start)
		t.dword(k, "Type", s.typ)
	}

	// TCP/IP: the host name, and the DHCP lease of the golden VM's NIC.
	tp := svc + `\Tcpip\Parameters`
	t.expand(tp, "DataBasePath", `%SystemRoot%\System32\drivers\etc`)
	t.sz(tp, "Hostname", id.computerName)
	t.sz(tp, "NV Hostname", id.computerName)
	t.sz(tp, "Domain", "")
	t.sz(tp, "NV Domain", "")
	t.sz(tp, "ICSDomain", "mshome.net")
	t.sz(tp, "SearchList", "")
	t.dword(tp, "UseDomainNameDevolution", 1)
	t.dword(tp, "EnableICMPRedirect", 1)
	t.dword(tp, "DeadGWDetectDefault", 1)
	t.dword(tp, "DontAddDefaultGatewayDefault", 0)
	t.dword(tp, "SyncDomainWithMembership", 1)
	ifs := tp + `\Interfaces`
	// Interfaces without a lease, as every installation has (tunnels).
	for _, g := range []string{"{2dd0ea9a-0a24-4d5e-a5b9-c3cd95e27a1a}", "{71e0a6e3-3b0a-4c3f-9a3e-1f0c0b0d6c4e}"} {
		t.dword(ifs+`\`+g, "EnableDHCP", 0)
		t.sz(ifs+`\`+g, "Domain", "")
		t.sz(ifs+`\`+g, "NameServer", "")
	}
	lease := ifs + `\` + strings.ToLower(id.ifGUID)
	obtained := uint32(id.leaseObtained.Unix())
	t.dword(lease, "EnableDHCP", 1)
	t.sz(lease, "Domain", "")
	t.sz(lease, "NameServer", "")
	t.sz(lease, "DhcpIPAddress", id.ipAddress())
	t.sz(lease, "DhcpSubnetMask", "255.255.255.0")
	t.sz(lease, "DhcpServer", id.gatewayAddr())
	t.dword(lease, "Lease", 86400)
	t.dword(lease, "LeaseObtainedTime", obtained)
	t.dword(lease, "T1", obtained+43200)
	t.dword(lease, "T2", obtained+75600)
	t.dword(lease, "LeaseTerminatesTime", obtained+86400)
	t.sz(lease, "DhcpNameServer", id.gatewayAddr())
	t.multi(lease, "DhcpDefaultGateway", id.gatewayAddr())
	t.multi(lease, "DhcpSubnetMaskOpt", "255.255.255.0")
	t.sz(lease, "DhcpDomain", "localdomain")
	t.dword(lease, "AddressType", 0)
	t.dword(lease, "IsServerNapAware", 0)
	t.dword(lease, "DhcpConnForceBroadcastFlag", 0)
	// The gateway's IP address, the hardware address length, its MAC.
	t.bin(lease, "DhcpGatewayHardware", append([]byte{192, 168, id.subnet, 1, 6, 0, 0, 0}, id.gatewayMAC[:]...))
	t.dword(lease, "DhcpGatewayHardwareCount", 1)
	t.bin(lease, "DhcpInterfaceOptions", dhcpOptions(id))
	t.multi(svc+`\Tcpip\Linkage`, "Bind", `\Device\`+id.ifGUID)
	t.multi(svc+`\Tcpip\Linkage`, "Export", `\Device\Tcpip_`+id.ifGUID)

	t6 := svc + `\Tcpip6\Parameters`
	t.bin(t6, "Dhcpv6DUID", id.duid())
	t.dword(t6, "DisabledComponents", 0)
	t.dword(t6+`\Interfaces\`+strings.ToLower(id.ifGUID), "Dhcpv6Iaid", id.iaid)

	t.expand(svc+`\Dhcp\Parameters`, "ServiceDll", `%SystemRoot%\system32\dhcpcore.dll`)

	w := svc + `\W32Time`
	t.dword(w+`\Config`, "AnnounceFlags", 10)
	t.dword(w+`\Config`, "MaxNegPhaseCorrection", 54000)
	t.dword(w+`\Config`, "MaxPosPhaseCorrection", 54000)
	t.sz(w+`\Parameters`, "NtpServer", "time.windows.com,0x9")
	t.sz(w+`\Parameters`, "Type", "NTP")
	t.expand(w+`\Parameters`, "ServiceDll", `%systemroot%\system32\w32time.dll`)
	t.dword(w+`\TimeProviders\NtpClient`, "Enabled", 1)
	t.dword(w+`\TimeProviders\NtpClient`, "SpecialPollInterval", 604800)
	t.expand(w+`\TimeProviders\NtpClient`, "DllName", `%systemroot%\system32\w32time.dll`)

	for _, log := range []string{"Application", "System", "Security"} {
		k := svc + `\EventLog\` + log
		t.expand(k, "File", `%SystemRoot%\System32\Winevt\Logs\`+log+`.evtx`)
		t.dword(k, "MaxSize", 20971520)
		t.dword(k, "Retention", 0)
	}
	t.sz(svc+`\LanmanServer\Parameters`, "srvcomment", "")
	t.multi(svc+`\LanmanServer\Parameters`, "NullSessionPipes")
	t.sz(svc+`\Netlogon\Parameters`, "SysVol", "")
	t.sz(svc+`\Netlogon\Parameters`, "DynamicSiteName", "")
}

// dhcpOptions is the cached option list of a lease: (code, flags, length,
// time, data) records for the subnet mask, router, DNS server and lease
// time.
func dhcpOptions(id identity) []byte {
	var b []byte
	add := func(code uint32, data []byte) {
		b = binary.LittleEndian.AppendUint32(b, code)
		b = binary.LittleEndian.AppendUint32(b, 0)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
		b = binary.LittleEndian.AppendUint32(b, uint32(id.leaseObtained.Unix()))
		b = append(b, data...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	add(1, []byte{255, 255, 255, 0})
	add(3, []byte{192, 168, id.subnet, 1})
	add(6, []byte{192, 168, id.subnet, 1})
	add(51, binary.BigEndian.AppendUint32(nil, 86400))
	add(54, []byte{192, 168, id.subnet, 1})
	return b
}

func (v *volume) buildSetup(t *regTree) {
	t.dword("Setup", "SetupType", 0)
	t.sz("Setup", "CmdLine", "")
	t.dword("Setup", "SystemSetupInProgress", 0)
	t.dword("Setup", "OOBEInProgress", 0)
	t.dword("Setup", "SetupPhase", 0)
	t.dword("Setup", "RestartSetup", 0)
	t.dword("Setup", "SetupShutdownRequired", 0)
	t.sz("Setup", "OsLoaderPath", `\`)
	t.sz("Setup", "SystemPartition", `\Device\HarddiskVolume1`)
	t.dword("Setup", "Upgrade", 0)
	t.sz("Setup", "WorkingDirectory", `C:\Windows\Panther`)
	t.dword(`Setup\Status`, "AuditBoot", 0)
	t.dword(`Setup\Status\ChildCompletion`, "setup.exe", 3)
	t.dword(`Setup\Status\ChildCompletion`, "oobeldr.exe", 3)
	t.dword(`Setup\Status\SysprepStatus`, "GeneralizationState", 7)
	t.dword(`Setup\Status\SysprepStatus`, "CleanupState", 2)
	t.dword(`Setup\Status\UnattendPasses`, "specialize", 9)
	t.dword(`Setup\Status\UnattendPasses`, "oobeSystem", 9)
}
