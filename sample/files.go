package sample

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strings"
	"time"
)

// buildFiles writes the volume's files: what Windows needs to be
// recognised, and what a generalize run must clean.
func (v *volume) buildFiles() {
	id := v.id
	for _, d := range []string{
		"Windows/System32/config/RegBack",
		"Windows/System32/config/systemprofile",
		"Windows/System32/Sysprep/Panther",
		"Windows/SystemApps",
		"Windows/Logs",
		"Program Files/Common Files",
		"Program Files (x86)",
		"ProgramData/Microsoft/Windows/Start Menu/Programs",
		"Users/Public/Documents",
		"Users/Default/Desktop",
		"Users/" + id.userName + "/Desktop",
		"Users/" + id.userName + "/Downloads",
		"Users/" + id.userName + "/AppData/Roaming/Microsoft/Windows",
	} {
		v.dir(d)
	}
	for _, f := range []string{"Windows/explorer.exe", "Windows/notepad.exe", "Windows/System32/ntoskrnl.exe",
		"Windows/System32/kernel32.dll", "Windows/System32/winload.efi", "Windows/System32/cmd.exe",
		"Windows/System32/AppxSysprep.dll", "Windows/System32/spopk.dll", "Windows/System32/sppnp.dll",
		"Windows/System32/spbcd.dll", "Windows/System32/slc.dll", "Windows/System32/capisp.dll",
		"Windows/System32/Sysprep/sysprep.exe"} {
		v.file(f, peImage(f))
	}
	v.file("Windows/System32/drivers/etc/hosts", []byte(crlf("# Copyright (c) 1993-2009 Microsoft Corp.\n#\n# This is a sample HOSTS file used by Microsoft TCP/IP for Windows.\n#\n# localhost name resolution is handled within DNS itself.\n#\t127.0.0.1       localhost\n#\t::1             localhost\n")))
	v.text("Windows/Setup/State/State.ini", "[State]\r\nImageState=IMAGE_STATE_COMPLETE\r\n")

	// Driver store: the packages stay through generalize; only the device
	// installs that use them are removed.
	for _, d := range v.devices() {
		folder := "Windows/System32/DriverStore/FileRepository/" + d.storeFolder() + "/"
		base := strings.TrimSuffix(d.inf, ".inf")
		v.text(folder+d.inf, infText(d))
		v.file(folder+base+".cat", append([]byte{0x30, 0x82, 0x1f, 0x4a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02}, v.randBytes(241)...))
		if d.service != "" {
			v.file(folder+base+".sys", peImage(base+".sys"))
		}
		if d.oem != "" {
			v.text("Windows/INF/"+d.oem, infText(d))
		}
	}

	// Machine-specific files a generalize run removes.
	for _, log := range []string{"Application", "System", "Security", "Setup",
		"Microsoft-Windows-Kernel-PnP%4Configuration", "Microsoft-Windows-Store%4Operational",
		"Microsoft-Windows-TerminalServices-LocalSessionManager%4Operational", "Windows PowerShell"} {
		v.file("Windows/System32/winevt/Logs/"+log+".evtx", v.evtx())
	}
	v.file("pagefile.sys", v.randBytes(1<<20))
	if !v.ed.server() {
		v.file("swapfile.sys", make([]byte, 256<<10))
	}
	v.text("Windows/Temp/MpCmdRun.log", crlf("-------------------------------------------------------------------------------------\nMpCmdRun: Command Line: \"C:\\Program Files\\Windows Defender\\MpCmdRun.exe\" -wdenable\n Start Time: "+v.now.Add(-time.Hour).Format("Mon Jan 02 2006 15:04:05")+"\n\nMpCmdRun: End Time: "+v.now.Add(-time.Hour).Format("Mon Jan 02 2006 15:04:05")+"\n"))
	v.file("Windows/Temp/"+strings.ToUpper(v.rngGUID())+".tmp", v.randBytes(4096))
	v.text("Windows/Temp/vmware-vmsvc-SYSTEM.log", v.now.Add(-2*time.Hour).Format("2006-01-02T15:04:05.000Z")+"| vmsvc| I005: Core dump limit set to -1\n")
	for _, exe := range []string{"NOTEPAD.EXE", "CMD.EXE", "SVCHOST.EXE", "EXPLORER.EXE", "MSEDGE.EXE"} {
		hash := v.rng.Uint32()
		v.file(fmt.Sprintf("Windows/Prefetch/%s-%08X.pf", exe, hash), prefetch(exe, hash, v.now))
	}
	v.file("Windows/Prefetch/Layout.ini", utf16File(crlf("C:\\Windows\\System32\\ntoskrnl.exe\nC:\\Windows\\System32\\hal.dll\n")))
	install := id.installTime
	v.text("Windows/Panther/setupact.log", crlf(pantherLog(install, []string{
		"Info                  [0x090009] PANTHR CBlackboard::Open: C:\\$WINDOWS.~BT\\Sources\\Panther\\setupinfo",
		"Info                  SP     Setup Platform: Initializing",
		"Info                  IBS    Callback_BootEnvironmentDetect:FirmwareType 2.",
		"Info                  IBS    Callback_BootEnvironmentDetect: Detected boot environment: UEFI",
		"Info                  MIG    Setting system locale to [en-US]",
		"Info                  [setup.exe] Setup phase change: [SetupPhaseApply] -> [SetupPhaseSafeOS]",
		"Info                  [setup.exe] Setup completed successfully",
	})))
	v.text("Windows/Panther/setuperr.log", "")
	v.text("Windows/Panther/diagerr.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<Events />\r\n")
	v.text("Windows/Panther/UnattendGC/setupact.log", crlf(pantherLog(install.Add(20*time.Minute), []string{
		"Info                  [windeploy.exe] Process started: [C:\\Windows\\system32\\oobe\\windeploy.exe]",
		"Info                  [oobeldr.exe] OOBE boot complete",
	})))
	v.text("Windows/INF/setupapi.dev.log", crlf(setupapiLog(install, v.devices())))
	v.text("Windows/INF/setupapi.setup.log", crlf(fmt.Sprintf("[Device Install Log]\n     OS Version = 10.0.%d\n     Service Pack = 0.0\n     Suite = 0x0100\n     ProductType = 1\n     Architecture = amd64\n\n[BeginLog]\n\n>>>  [Setup Online Install - NDIS\\Ndisuio]\n>>>  Section start %s\n<<<  Section end %s\n<<<  [Exit status: SUCCESS]\n",
		v.ed.build, install.Format("2006/01/02 15:04:05.000"), install.Add(time.Second).Format("2006/01/02 15:04:05.000"))))
	v.text("Windows/INF/setupapi.offline.log", crlf(fmt.Sprintf("[Boot Session: %s]\n\n>>>  [Setup Offline Install - Driver Packages]\n>>>  Section start %s\n<<<  Section end %s\n<<<  [Exit status: SUCCESS]\n",
		install.Format("2006/01/02 15:04:05.000"), install.Format("2006/01/02 15:04:05.000"), install.Add(3*time.Second).Format("2006/01/02 15:04:05.000"))))
	v.text("Windows/Logs/CBS/CBS.log", crlf(install.Format("2006-01-02 15:04:05")+", Info                  CBS    TI: --- Initializing Trusted Installer ---\n"))
	v.text("Windows/Logs/DISM/dism.log", crlf(install.Format("2006-01-02 15:04:05")+", Info                  DISM   PID=1234 TID=5678 Scratch directory set to 'C:\\Windows\\TEMP\\'. - CDISMManager::put_ScratchDir\n"))
	v.text("Windows/Logs/WindowsUpdate/WindowsUpdate.20250101.000000.000.1.etl", "")
	// What the Store licence, WinSAT and restore providers act on.
	v.file("ProgramData/Microsoft/Windows/ClipSVC/tokens.dat", append([]byte{0x02, 0, 0, 0}, v.randBytes(252)...))
	v.text("Windows/Performance/WinSAT/DataStore/"+install.Format("2006-01-02 15.04.05.000")+" Formal.Assessment (Initial).WinSAT.xml",
		crlf("<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<WinSAT><SystemScore>8.1</SystemScore></WinSAT>\n"))
	v.file("Windows/Minidump/"+v.now.Add(-72*time.Hour).Format("010206")+"-8765-01.dmp", minidump(v))
	wer := "ProgramData/Microsoft/Windows/WER/ReportQueue/AppCrash_notepad.exe_" + v.randHex(40) + "_" + v.rngGUID()[:8] + "_cab_" + v.rngGUID()
	v.file(wer+"/Report.wer", utf16File(crlf("Version=1\nEventType=APPCRASH\nEventTime="+fmt.Sprint(filetime(v.now.Add(-72*time.Hour)))+"\nReportType=2\nConsent=1\nAppName=Notepad\nAppPath=C:\\Windows\\System32\\notepad.exe\n")))
	v.file(wer+"/WERInternalMetadata.xml", utf16File(crlf("<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<WERReportMetadata>\n</WERReportMetadata>\n")))
	recycle := "$Recycle.Bin/" + id.userSID() + "/"
	v.file(recycle+"desktop.ini", utf16File(crlf("\n[.ShellClassInfo]\nCLSID={645FF040-5081-101B-9F08-00AA002F954E}\n")))
	v.file(recycle+"$IAB12CD.txt", recycleInfo(`C:\Users\`+id.userName+`\Desktop\old-notes.txt`, 37, v.now.Add(-5*24*time.Hour)))
	v.text(recycle+"$RAB12CD.txt", "things to do before capturing the image\r\n")
	// A restore point's shadow copy store and the restore index.
	v.file("System Volume Information/{"+v.rngGUID()+"}{3808876b-c176-4e48-b7ae-04046e6cc752}", append([]byte("\x6b\x87\x08\x38\x76\xc1\x48\x4e\xb7\xae\x04\x04\x6e\x6c\xc7\x52"), v.randBytes(64<<10)...))
	v.file("System Volume Information/tracking.log", v.randBytes(20480))
	v.text("Users/"+id.userName+"/Desktop/notes.txt", "golden image build notes\r\n")
}

// peImage is a placeholder executable: a DOS header with its stub and a
// PE signature, enough for tools that sniff file types.
func peImage(name string) []byte {
	b := make([]byte, 512)
	copy(b, "MZ")
	binary.LittleEndian.PutUint32(b[0x3c:], 0x80)
	copy(b[0x40:], "\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21This program cannot be run in DOS mode.\r\r\n$")
	copy(b[0x80:], "PE\x00\x00\x64\x86") // AMD64
	copy(b[0x100:], "reseal sample placeholder for "+name)
	return b
}

func infText(d driverPackage) string {
	return crlf(fmt.Sprintf(`;
; %s - %s
;
[Version]
Signature   = "$WINDOWS NT$"
Class       = %s
ClassGuid   = %s
Provider    = %%Provider%%
DriverVer   = %s,%s
CatalogFile = %s.cat
PnpLockdown = 1

[Manufacturer]
%%Mfg%% = Models,NTamd64

[Models.NTamd64]
%%DeviceDesc%% = Install, %s

[Strings]
Provider   = "%s"
Mfg        = "%s"
DeviceDesc = "%s"
`, d.inf, d.desc, d.class, d.classGUID, strings.ReplaceAll(d.date, "-", "/"), d.version, strings.TrimSuffix(d.inf, ".inf"),
		d.hardwareID[0], d.provider, d.mfg, d.desc))
}

// evtx is an empty event log as Windows leaves one it has just created:
// the 4096-byte file header ("ElfFile\0", version 3.1, header CRC32) and
// one unused 64 KiB chunk.
func (v *volume) evtx() []byte {
	b := make([]byte, 4096+65536)
	copy(b, "ElfFile\x00")
	le := binary.LittleEndian
	le.PutUint64(b[8:], 0)    // first chunk
	le.PutUint64(b[16:], 0)   // last chunk
	le.PutUint64(b[24:], 1)   // next record id
	le.PutUint32(b[32:], 128) // header size
	le.PutUint16(b[36:], 2)   // minor version
	le.PutUint16(b[38:], 3)   // major version
	le.PutUint16(b[40:], 4096)
	le.PutUint16(b[42:], 1)  // chunk count
	le.PutUint32(b[120:], 0) // flags: clean
	le.PutUint32(b[124:], crc32.ChecksumIEEE(b[:120]))
	return b
}

// prefetch is an uncompressed version-30 prefetch header (Windows 10
// compresses these with MAM; the header is the same once decompressed).
func prefetch(exe string, hash uint32, now time.Time) []byte {
	b := make([]byte, 0x130)
	le := binary.LittleEndian
	le.PutUint32(b[0:], 30)
	copy(b[4:], "SCCA")
	le.PutUint32(b[8:], 0x11)
	le.PutUint32(b[12:], uint32(len(b)))
	copy(b[16:76], utf16le(exe))
	le.PutUint32(b[76:], hash)
	le.PutUint64(b[0x80:], filetime(now.Add(-3*time.Hour)))
	le.PutUint32(b[0xd0:], 3) // run count
	return b
}

func minidump(v *volume) []byte {
	b := make([]byte, 8192)
	copy(b, "PAGEDU64")
	binary.LittleEndian.PutUint32(b[8:], 0x0f)
	binary.LittleEndian.PutUint32(b[12:], uint32(v.ed.build))
	copy(b[4096:], v.randBytes(4096))
	return b
}

// recycleInfo is a $I file (version 2): original size, deletion time and
// the original path.
func recycleInfo(path string, size uint64, deleted time.Time) []byte {
	le := binary.LittleEndian
	b := le.AppendUint64(nil, 2)
	b = le.AppendUint64(b, size)
	b = le.AppendUint64(b, filetime(deleted))
	p := utf16z(path)
	b = le.AppendUint32(b, uint32(len(p)/2))
	return append(b, p...)
}

func pantherLog(start time.Time, lines []string) string {
	var sb strings.Builder
	for i, l := range lines {
		fmt.Fprintf(&sb, "%s, %s\n", start.Add(time.Duration(i)*time.Second).Format("2006-01-02 15:04:05"), l)
	}
	return sb.String()
}

func setupapiLog(start time.Time, devs []driverPackage) string {
	var sb strings.Builder
	sb.WriteString("[Device Install Log]\n     OS Version = 10.0\n     Architecture = amd64\n\n[BeginLog]\n")
	for i, d := range devs {
		t := start.Add(time.Duration(i) * 2 * time.Second)
		fmt.Fprintf(&sb, "\n>>>  [Device Install (Hardware initiated) - %s]\n>>>  Section start %s\n", d.instance, t.Format("2006/01/02 15:04:05.000"))
		fmt.Fprintf(&sb, "     ump: Creating Install Process: DrvInst.exe %s\n     ndv: Selecting best match from Driver Store (including Device Path)...\n     dvi:      Selected Driver:\n     dvi:           Description - [%s]\n     dvi:           InfFile     - [c:\\windows\\system32\\driverstore\\filerepository\\%s\\%s]\n", t.Format("15:04:05.000"), d.desc, d.storeFolder(), d.inf)
		fmt.Fprintf(&sb, "<<<  Section end %s\n<<<  [Exit status: SUCCESS]\n", t.Add(time.Second).Format("2006/01/02 15:04:05.000"))
	}
	return sb.String()
}

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// utf16File is text as Windows writes "Unicode" files: UTF-16LE with a BOM.
func utf16File(s string) []byte { return append([]byte{0xff, 0xfe}, utf16le(s)...) }
