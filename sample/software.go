package sample

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

const (
	cvNT = `Microsoft\Windows NT\CurrentVersion`
	cv   = `Microsoft\Windows\CurrentVersion`
)

func (v *volume) buildSoftware() {
	t := v.software()
	id, ed := v.id, v.ed

	t.sz(cvNT, "ProductName", ed.productName)
	t.sz(cvNT, "EditionID", ed.editionID)
	t.sz(cvNT, "CompositionEditionID", ed.compositionID)
	t.sz(cvNT, "CurrentBuild", fmt.Sprint(ed.build))
	t.sz(cvNT, "CurrentBuildNumber", fmt.Sprint(ed.build))
	t.dword(cvNT, "UBR", uint32(ed.ubr))
	t.sz(cvNT, "DisplayVersion", ed.displayVersion)
	t.sz(cvNT, "ReleaseId", "2009")
	t.sz(cvNT, "InstallationType", ed.installationType)
	t.dword(cvNT, "CurrentMajorVersionNumber", 10)
	t.dword(cvNT, "CurrentMinorVersionNumber", 0)
	t.sz(cvNT, "CurrentVersion", "6.3")
	t.sz(cvNT, "CurrentType", "Multiprocessor Free")
	t.sz(cvNT, "BuildBranch", ed.buildBranch)
	t.sz(cvNT, "BuildLab", ed.buildLab)
	t.sz(cvNT, "BuildLabEx", fmt.Sprintf("%d.%d.amd64fre.%s", ed.build, ed.ubr, ed.buildLab[strings.IndexByte(ed.buildLab, '.')+1:]))
	t.sz(cvNT, "LCUVer", ed.version())
	t.dword(cvNT, "InstallDate", uint32(id.installTime.Unix()))
	t.qword(cvNT, "InstallTime", filetime(id.installTime))
	t.sz(cvNT, "ProductId", "00330-80000-00000-AA"+fmt.Sprintf("%03d", id.domainSubs[0]%1000))
	t.sz(cvNT, "RegisteredOrganization", "")
	t.sz(cvNT, "RegisteredOwner", id.userName)
	t.sz(cvNT, "SoftwareType", "System")
	t.sz(cvNT, "SystemRoot", `C:\Windows`)
	t.sz(cvNT, "PathName", `C:\Windows`)

	wl := cvNT + `\Winlogon`
	t.sz(wl, "AutoAdminLogon", "0")
	t.sz(wl, "DefaultUserName", id.userName)
	t.sz(wl, "LastUsedUsername", id.userName)
	t.sz(wl, "Shell", "explorer.exe")
	t.sz(wl, "Userinit", `C:\Windows\system32\userinit.exe,`)

	v.buildProfileList(t)
	v.buildNetworkList(t)

	t.sz(cv, "ProgramFilesDir", `C:\Program Files`)
	t.sz(cv, "ProgramFilesDir (x86)", `C:\Program Files (x86)`)
	t.sz(cv, "CommonFilesDir", `C:\Program Files\Common Files`)
	t.expand(cv, "DevicePath", `%SystemRoot%\inf`)
	t.sz(cv, "ProgramFilesPath", `%ProgramFiles%`)
	t.sz(cv+`\Setup\State`, "ImageState", "IMAGE_STATE_COMPLETE")
	t.sz(cv+`\Setup`, "BootDir", `C:\`)
	t.sz(cv+`\Setup`, "SourcePath", `D:\`)
	t.sz(cv+`\Setup\OC Manager`, "SetupCompleted", "1")

	// Identity that clones must not share.
	t.sz(`Microsoft\Cryptography`, "MachineGuid", id.machineGUID)
	wu := cv + `\WindowsUpdate`
	t.sz(wu, "SusClientId", id.susClientID)
	t.bin(wu, "SusClientIDValidation", id.susValidation)
	t.sz(wu, "AccountDomainSid", id.machineSID())
	t.sz(wu, "PingID", v.rngGUID())
	t.sz(`Microsoft\SQMClient`, "MachineId", id.sqmMachineID)
	t.sz(`Microsoft\MSDTC`, "CID", id.msdtcCID)
	t.dword(`Microsoft\MSDTC`, "AllowOnlySecureRpcCalls", 1)
	t.dword(`Microsoft\MSDTC`, "TurnOffRpcSecurity", 0)
	t.sz(`Microsoft\Windows Advanced Threat Protection`, "senseGuid", id.senseGUID)
	cert := `Microsoft\SystemCertificates\Remote Desktop\Certificates\` + id.rdpThumbprint
	t.bin(cert, "Blob", v.randBytes(420))

	// Servicing: one installed cumulative update, nothing pending.
	cbs := cv + `\Component Based Servicing`
	pkg := fmt.Sprintf(`Package_for_RollupFix~31bf3856ad364e35~amd64~~%d.%d.1.9`, ed.build, ed.ubr)
	t.dword(cbs+`\Packages\`+pkg, "CurrentState", 0x70)
	t.sz(cbs+`\Packages\`+pkg, "InstallClient", "UpdateAgentLCU")
	t.sz(cbs+`\Packages\`+pkg, "InstallLocation", `\\?\C:\Windows\SoftwareDistribution\Download\`+v.randHex(32))
	t.qword(cbs, "LastTrustTime", filetime(v.now))

	uninst := cv + `\Uninstall\{` + strings.ToUpper("b7f5b2ae-31a3-4ca3-9d9b-8c5a3d6f5e10") + `}`
	t.sz(uninst, "DisplayName", "VMware Tools")
	t.sz(uninst, "DisplayVersion", "12.3.5.22544099")
	t.sz(uninst, "Publisher", "VMware, Inc.")
	t.sz(uninst, "InstallLocation", `C:\Program Files\VMware\VMware Tools\`)
	t.sz(uninst, "InstallDate", id.installTime.Format("20060102"))

	t.sz(`Classes\.txt`, "", "txtfile")
	t.sz(`Classes\.txt`, "Content Type", "text/plain")
	t.sz(`Classes\txtfile`, "", "Text Document")
	t.expand(`Classes\txtfile\shell\open\command`, "", `%SystemRoot%\system32\NOTEPAD.EXE %1`)

	t.dword(`Policies\Microsoft\Windows\WindowsUpdate\AU`, "NoAutoUpdate", 1)

	if ed.server() {
		v.buildServerManager(t)
	}
	v.buildAppxRegistry(t)
}

// serverComponents are the entries of Server Manager's component cache a
// file server with IIS shows. Install state 1 = installed, 0 = available;
// the cache lists the roles Sysprep refuses as well, only not installed.
var serverComponents = []struct {
	name    string
	display string
	state   uint32
}{
	{"AD-Domain-Services", "Active Directory Domain Services", 0},
	{"ADCS-Cert-Authority", "Certification Authority", 0},
	{"FS-FileServer", "File Server", 1},
	{"File-Services", "File and Storage Services", 1},
	{"NET-Framework-45-Core", ".NET Framework 4.8", 1},
	{"PowerShellRoot", "Windows PowerShell", 1},
	{"Storage-Services", "Storage Services", 1},
	{"Web-Default-Doc", "Default Document", 1},
	{"Web-Server", "Web Server (IIS)", 1},
	{"Web-Static-Content", "Static Content", 1},
	{"Web-WebServer", "Web Server", 1},
	{"WoW64-Support", "WoW64 Support", 1},
}

func (v *volume) buildServerManager(t *regTree) {
	cache := `Microsoft\ServerManager\ServicingStorage\ServerComponentCache`
	for _, c := range serverComponents {
		t.dword(cache+`\`+c.name, "InstallState", c.state)
		t.sz(cache+`\`+c.name, "DisplayName", c.display)
	}
	t.dword(`Microsoft\ServerManager`, "DoNotOpenServerManagerAtLogon", 0)
	for _, svc := range []string{"W3SVC", "WAS"} {
		k := cs + `\Services\` + svc
		t := v.system()
		t.expand(k, "ImagePath", `%windir%\system32\svchost.exe -k iissvcs`)
		t.dword(k, "Start", 2)
		t.dword(k, "Type", 0x20)
		t.dword(k, "ErrorControl", 1)
	}
}

func (v *volume) buildProfileList(t *regTree) {
	pl := cvNT + `\ProfileList`
	t.expand(pl, "ProfilesDirectory", `%SystemDrive%\Users`)
	t.expand(pl, "Default", `%SystemDrive%\Users\Default`)
	t.expand(pl, "Public", `%SystemDrive%\Users\Public`)
	wellKnown := []struct{ sid, path string }{
		{"S-1-5-18", `%systemroot%\system32\config\systemprofile`},
		{"S-1-5-19", `%systemroot%\ServiceProfiles\LocalService`},
		{"S-1-5-20", `%systemroot%\ServiceProfiles\NetworkService`},
	}
	for _, p := range wellKnown {
		k := pl + `\` + p.sid
		t.expand(k, "ProfileImagePath", p.path)
		t.dword(k, "Flags", 12)
		t.dword(k, "State", 0)
		t.bin(k, "Sid", sidBytes(p.sid))
	}
	// The built-in Administrator's profile (the golden image was built in
	// audit mode, which logs on as it) and the golden user's.
	for _, u := range []struct{ sid, name string }{
		{v.id.machineSID() + "-500", "Administrator"},
		{v.id.userSID(), v.id.userName},
	} {
		k := pl + `\` + u.sid
		t.expand(k, "ProfileImagePath", `C:\Users\`+u.name)
		t.dword(k, "Flags", 0)
		t.dword(k, "State", 0)
		t.dword(k, "FullProfile", 1)
		t.bin(k, "Sid", sidBytes(u.sid))
		t.dword(k, "LocalProfileLoadTimeLow", uint32(filetime(v.now)))
		t.dword(k, "LocalProfileLoadTimeHigh", uint32(filetime(v.now)>>32))
	}
}

// buildNetworkList writes the network location profile the golden VM's
// NIC was given, and its signature (keyed by a hash of the gateway).
func (v *volume) buildNetworkList(t *regTree) {
	id := v.id
	nl := cvNT + `\NetworkList`
	p := nl + `\Profiles\` + id.profileGUID
	t.sz(p, "ProfileName", "Network")
	t.sz(p, "Description", "Network")
	t.dword(p, "Managed", 0)
	t.dword(p, "Category", 0)
	t.bin(p, "DateCreated", systemtime(id.installTime))
	t.bin(p, "DateLastConnected", systemtime(id.leaseObtained))
	t.dword(p, "NameType", 6)
	t.dword(p, "CategoryType", 0)
	t.dword(p, "IconType", 0)

	sum := sha256.Sum256(append(id.gatewayMAC[:], []byte("localdomain")...))
	sigName := "010103000F0000F0080000000F0000F0" + strings.ToUpper(hex.EncodeToString(sum[:]))
	s := nl + `\Signatures\Unmanaged\` + sigName
	t.sz(s, "ProfileGuid", id.profileGUID)
	t.sz(s, "Description", "Network")
	t.dword(s, "Source", 8)
	t.sz(s, "DnsSuffix", "localdomain")
	t.sz(s, "FirstNetwork", "Network")
	t.bin(s, "DefaultGatewayMac", id.gatewayMAC[:])
	t.key(nl + `\Signatures\Managed`)
	t.key(nl + `\Nla\Cache\Intranet`)
	t.dword(nl+`\Nla\Cache\Intranet\localdomain`, "Failures", 0)
	t.dword(nl+`\Nla\Cache\Intranet\localdomain`, "Successes", 12)
}

func (v *volume) randBytes(n int) []byte { return randBytes(v.rng, n) }
func (v *volume) randHex(n int) string   { return randString(v.rng, "0123456789abcdef", n) }
func (v *volume) rngGUID() string        { return randGUID(v.rng) }
