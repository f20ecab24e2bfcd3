package sample

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Blocker describes one thing `reseal sample --blocker NAME` can plant and
// the preflight finding it must produce.
type Blocker struct {
	Name     string
	Finding  string // the preflight finding ID
	Severity string // "error" or "warning"
	Planted  string // what is written, in a sentence
	// NeedsServer: the blocker exists only on a server installation; with
	// no Windows chosen, a server sample is written.
	NeedsServer bool
	plantFn     func(v *volume)
}

// Blockers lists every blocker in the engine contract's order.
func Blockers() []Blocker {
	return []Blocker{
		{Name: "appx", Finding: "appx-not-provisioned", Severity: "error",
			Planted: "Calculator " + appxBlockerVersion + " installed for the user (state repository, in its WAL, and AppxAllUserStore\\<SID>) but not provisioned",
			plantFn: plantAppx},
		{Name: "pending", Finding: "pending-servicing", Severity: "error",
			Planted: "WinSxS\\pending.xml, Session Manager PendingFileRenameOperations, CBS RebootPending",
			plantFn: plantPending},
		{Name: "upgrade", Finding: "upgraded-os", Severity: "error",
			Planted: "SYSTEM\\Setup\\Source OS key and CurrentBuild 10586 (Windows 10 1511)",
			plantFn: plantUpgrade},
		{Name: "role", Finding: "server-role", Severity: "error",
			Planted:     "AD-Domain-Services InstallState=1 in Server Manager's component cache and the NTDS service (server only)",
			NeedsServer: true, plantFn: plantRole},
		{Name: "nps", Finding: "nps-radius", Severity: "error",
			Planted: "System32\\ias\\ias.xml with a RADIUS client and a remote RADIUS server group",
			plantFn: plantNPS},
		{Name: "runlimit", Finding: "run-limit", Severity: "error",
			Planted: "SOFTWARE\\reseal GeneralizeCount=1001",
			plantFn: plantRunLimit},
		{Name: "state", Finding: "invalid-state", Severity: "error",
			Planted: "ImageState IMAGE_STATE_UNDEPLOYABLE (registry and State.ini) and Setup\\Sysprep\\SysprepCorrupt",
			plantFn: plantState},
		{Name: "hibernated", Finding: "hibernated", Severity: "error",
			Planted: "hiberfil.sys holding a hibernation image (HIBR) and HiberbootEnabled=1",
			plantFn: plantHibernated},
		{Name: "stale-unattend", Finding: "stale-unattend", Severity: "warning",
			Planted: "Windows\\Panther\\Unattend\\Unattend.xml left from an earlier deployment",
			plantFn: plantStaleUnattend},
		{Name: "domain", Finding: "domain-member", Severity: "warning",
			Planted: "SECURITY Policy\\PolPrDmN/PolPrDmS of domain CONTOSO, machine account secret, Tcpip Domain",
			plantFn: plantDomain},
	}
}

// BlockerNames lists the valid blocker names.
func BlockerNames() []string {
	var names []string
	for _, b := range Blockers() {
		names = append(names, b.Name)
	}
	return names
}

// resolveBlockers returns the blockers names asks for (any letter case),
// each once, in the order first named.
func resolveBlockers(names []string) ([]Blocker, error) {
	all := Blockers()
	var out []Blocker
	seen := map[string]bool{}
	for _, n := range names {
		i := slices.IndexFunc(all, func(b Blocker) bool { return strings.EqualFold(b.Name, n) })
		if i < 0 {
			if strings.EqualFold(n, "bitlocker") {
				return nil, fmt.Errorf("blocker %q cannot be planted: an encrypted volume cannot be read offline (valid: %s)", n, strings.Join(BlockerNames(), ", "))
			}
			return nil, fmt.Errorf("unknown blocker %q (valid: %s)", n, strings.Join(BlockerNames(), ", "))
		}
		b := all[i]
		if seen[b.Name] {
			continue
		}
		seen[b.Name] = true
		out = append(out, b)
	}
	return out, nil
}

const (
	appxBlockerVersion = "11.2405.2.0"
	appxBlockerPackage = "Microsoft.WindowsCalculator_" + appxBlockerVersion + "_x64__8wekyb3d8bbwe"
)

// plantAppx: the Store updated Calculator for the user only. The new
// version is installed for the user (in the WAL: the newest change) and
// listed under the user's SID in AppxAllUserStore, but not provisioned.
func plantAppx(v *volume) {
	st := v.appx
	sid := v.id.userSID()
	// The user's older Calculator, if provisioned, is replaced by the update.
	st.installs = slices.DeleteFunc(st.installs, func(in appxInstall) bool {
		return in.userSID == sid && strings.HasPrefix(in.fullName, "Microsoft.WindowsCalculator_")
	})
	st.packages = append(st.packages, appxPackage{fullName: appxBlockerPackage})
	st.installs = append(st.installs, appxInstall{fullName: appxBlockerPackage, userSID: sid, recent: true})
	v.buildAppxRegistry(v.software())
}

func plantPending(v *volume) {
	v.text("Windows/WinSxS/pending.xml", crlf(fmt.Sprintf(`<?xml version='1.0' encoding='utf-8'?>
<PendingTransaction Version="3.1" WinSxSGeneration="1" TransactionId="{%s}">
  <POQ postAction="reboot">
    <MoveFile source="\SystemRoot\WinSxS\Temp\PendingRenames\%s.ntoskrnl.exe" destination="\SystemRoot\System32\ntoskrnl.exe"/>
    <DeleteFile path="\SystemRoot\WinSxS\Temp\PendingDeletes\%s"/>
  </POQ>
</PendingTransaction>
`, v.rngGUID(), v.randHex(32), v.randHex(32))))
	v.system().multi(cs+`\Control\Session Manager`, "PendingFileRenameOperations",
		`\??\C:\Windows\Temp\`+strings.ToUpper(v.rngGUID())+`\vmtoolsd.exe`, "",
		`\??\C:\Program Files\VMware\VMware Tools\vmtoolsd.exe.old`, "")
	t := v.software()
	cbs := cv + `\Component Based Servicing`
	t.key(cbs + `\RebootPending`)
	t.key(cbs + `\PackagesPending`)
	t.dword(cbs+`\SessionsPending`, "Exclusive", 0)
	t.dword(cbs+`\SessionsPending`, "TotalSessionPhases", 1)
}

// plantUpgrade: an installation upgraded in place from an old build, as
// Windows records it, still at Windows 10 1511.
func plantUpgrade(v *volume) {
	s := v.system()
	src := `Setup\Source OS (Updated on 1/1/2016 00:00:00)`
	s.sz(src, "ProductName", "Windows 10 Pro")
	s.sz(src, "CurrentBuild", "10240")
	s.sz(src, "CurrentBuildNumber", "10240")
	s.sz(src, "EditionID", "Professional")
	s.dword(src, "InstallDate", 1436918400)
	s.dword("Setup", "Upgrade", 1)
	t := v.software()
	t.sz(cvNT, "CurrentBuild", "10586")
	t.sz(cvNT, "CurrentBuildNumber", "10586")
	t.dword(cvNT, "UBR", 0)
	t.sz(cvNT, "ReleaseId", "1511")
	t.deleteValue(cvNT, "DisplayVersion")
	t.sz(cvNT, "BuildLab", "10586.th2_release.151029-1700")
	t.sz(cvNT, "BuildLabEx", "10586.0.amd64fre.th2_release.151029-1700")
	t.sz(cvNT, "BuildBranch", "th2_release")
}

func plantRole(v *volume) {
	t := v.software()
	cache := `Microsoft\ServerManager\ServicingStorage\ServerComponentCache\AD-Domain-Services`
	t.dword(cache, "InstallState", 1)
	s := v.system()
	ntds := cs + `\Services\NTDS`
	s.expand(ntds, "ImagePath", `%systemroot%\System32\lsass.exe`)
	s.sz(ntds, "DisplayName", "Active Directory Domain Services")
	s.dword(ntds, "Start", 2)
	s.dword(ntds, "Type", 0x20)
	s.dword(ntds, "ErrorControl", 1)
	p := ntds + `\Parameters`
	s.sz(p, "DSA Database file", `C:\Windows\NTDS\ntds.dit`)
	s.sz(p, "Database log files path", `C:\Windows\NTDS`)
	s.sz(p, "Root Domain", "DC=contoso,DC=local")
	s.sz(p, "Machine DN Name", "CN=NTDS Settings,CN="+v.id.computerName+",CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=contoso,DC=local")
	v.file("Windows/NTDS/ntds.dit", append([]byte{0xef, 0xcd, 0xab, 0x89}, make([]byte, 8188)...))
}

func plantNPS(v *volume) {
	v.text("Windows/System32/ias/ias.xml", crlf(`<?xml version="1.0" encoding="UTF-8"?>
<Root xmlns:dt="urn:schemas-microsoft-com:datatypes">
  <Children>
    <Microsoft_Internet_Authentication_Service name="Microsoft_Internet_Authentication_Service">
      <Children>
        <Protocols name="Protocols">
          <Children>
            <Microsoft_Radius_Protocol name="Microsoft_Radius_Protocol">
              <Children>
                <RadiusClients name="Clients">
                  <Clients>
                    <Entry name="vpn-gateway-01">
                      <Properties>
                        <IP_Address dt:dt="string">192.168.`+fmt.Sprint(v.id.subnet)+`.20</IP_Address>
                        <Require_Signature dt:dt="boolean">0</Require_Signature>
                        <Shared_Secret dt:dt="string">*</Shared_Secret>
                      </Properties>
                    </Entry>
                  </Clients>
                </RadiusClients>
                <RadiusServerGroups name="RADIUS Server Groups">
                  <Entry name="Remote RADIUS Servers">
                    <Properties>
                      <Address dt:dt="string">10.0.0.5</Address>
                    </Properties>
                  </Entry>
                </RadiusServerGroups>
              </Children>
            </Microsoft_Radius_Protocol>
          </Children>
        </Protocols>
      </Children>
    </Microsoft_Internet_Authentication_Service>
  </Children>
</Root>
`))
}

func plantRunLimit(v *volume) {
	v.software().dword(`reseal`, "GeneralizeCount", 1001)
}

func plantState(v *volume) {
	t := v.software()
	t.sz(cv+`\Setup\State`, "ImageState", "IMAGE_STATE_UNDEPLOYABLE")
	t.dword(cv+`\Setup\Sysprep\SysprepCorrupt`, "", 1)
	v.text("Windows/Setup/State/State.ini", "[State]\r\nImageState=IMAGE_STATE_UNDEPLOYABLE\r\n")
	// The failed run that left the state behind, in setupact.log and, its
	// error alone, in setuperr.log.
	const failure = "Error      [0x0f0082] SYSPRP ActionPlatform::LaunchModule: Failure occurred while executing 'SysprepGeneralizeValidate' from C:\\Windows\\System32\\AppxSysprep.dll; dwRet = 0x3cf2"
	failed := v.now.Add(-30 * time.Minute)
	v.text("Windows/System32/Sysprep/Panther/setupact.log", crlf(pantherLog(failed, []string{
		"Info                  SYSPRP ========================================================",
		"Info                  SYSPRP ========== Beginning of a new sysprep run ==========",
		"Info                  SYSPRP ========================================================",
		"Info       [0x0f004d] SYSPRP WinMain:Processing 'cleanup' internal provider in the list...",
		failure,
		"Error      SYSPRP RunPlatformActions:Failed while validating Sysprep session actions; dwRet = 0x3cf2",
	})))
	v.text("Windows/System32/Sysprep/Panther/setuperr.log", crlf(pantherLog(failed, []string{failure})))
}

// plantHibernated: the machine was last "shut down" with fast startup, so
// hiberfil.sys holds a hibernation image (signature HIBR).
func plantHibernated(v *volume) {
	v.system().dword(cs+`\Control\Session Manager\Power`, "HiberbootEnabled", 1)
	b := make([]byte, 64<<10)
	copy(b, "HIBR")
	b[4] = 0x3c // image header version
	copy(b[4096:], v.randBytes(60<<10))
	v.file("hiberfil.sys", b)
}

func plantStaleUnattend(v *volume) {
	v.text("Windows/Panther/Unattend/Unattend.xml", crlf(`<?xml version="1.0" encoding="utf-8"?>
<unattend xmlns="urn:schemas-microsoft-com:unattend">
  <settings pass="oobeSystem">
    <component name="Microsoft-Windows-Shell-Setup" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS" xmlns:wcm="http://schemas.microsoft.com/WMIConfig/2002/State" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
      <OOBE>
        <HideEULAPage>true</HideEULAPage>
        <ProtectYourPC>3</ProtectYourPC>
      </OOBE>
      <UserAccounts>
        <AdministratorPassword>
          <Value>*SENSITIVE*DATA*DELETED*</Value>
          <PlainText>true</PlainText>
        </AdministratorPassword>
      </UserAccounts>
    </component>
  </settings>
</unattend>
`))
}

// plantDomain: the reference machine was joined to CONTOSO.
func plantDomain(v *volume) {
	t := v.hive(securityHive)
	const domainSID = "S-1-5-21-3623811015-3361044348-30300820"
	t.set(`Policy\PolPrDmN`, "", regNone, lsaString("CONTOSO"))
	t.set(`Policy\PolPrDmS`, "", regNone, sidBytes(domainSID))
	t.set(`Policy\PolDnDDN`, "", regNone, lsaString("contoso.local"))
	t.set(`Policy\PolDnTrN`, "", regNone, lsaString("contoso.local"))
	t.set(`Policy\PolDnDmG`, "", regNone, guidBytes("8a1f3c52-77d4-4e0b-9a6e-3f2d1c0b9e84"))
	t.set(`Policy\Secrets\$MACHINE.ACC\CurrVal`, "", regNone, v.randBytes(0x9c))
	t.set(`Policy\Secrets\$MACHINE.ACC\CupdTime`, "", regNone, binary.LittleEndian.AppendUint64(nil, filetime(v.now.Add(-48*time.Hour))))
	s := v.system()
	p := cs + `\Services\Tcpip\Parameters`
	s.sz(p, "Domain", "contoso.local")
	s.sz(p, "NV Domain", "contoso.local")
	s.sz(cs+`\Services\Netlogon\Parameters`, "DynamicSiteName", "Default-First-Site-Name")
	v.software().sz(cvNT+`\Winlogon`, "DefaultDomainName", "CONTOSO")
}
