package sample

import (
	"fmt"
	"html"
	"strings"
)

// The sample's Sysprep action files are written by this generator from the
// format's description (../shared/docs/sysprep-reference.md section 6,
// docs/fidelity.md), not copied from Windows: <sysprepInformation> with one
// <imaging exclude=""> per provider, a full <assemblyIdentity>, a
// <sysprepOrder order="0x...">, then either code (<sysprepValidate>,
// <sysprepModule> with $(runtime.system32)\dll) or declarative actions
// (<registryActions> with setValue's data in a value attribute, decimal or
// 0x; <fileActions> with $(runtime.*) paths and wildcards). Roots are
// spelled as Windows spells them (HKEY_LOCAL_MACHINE\System, \SYSTEM,
// \Software, HKEY_USERS\.DEFAULT, HKEY_CURRENT_USER), and components that
// have a 32-bit side appear twice, amd64 and wow64.

// imaging is one <imaging> element of an action file.
type imaging struct {
	component string
	order     int
	wow64     bool // also written as a wow64 twin, as 64-bit Windows does
	validate  *module
	module    *module
	registry  []regAction
	files     []fileAction
}

type module struct{ dll, method string }

// regAction is a declarative registry action: op is deleteKey,
// deleteValue or setValue; value is setValue's data as written.
type regAction struct{ op, path, name, typ, value string }

// fileAction is a declarative file action: deleteFile or deleteDirectory.
type fileAction struct{ op, path string }

// xmlAttr is an attribute value in double quotes, XML-escaped (never Go
// quoting, which would double the backslashes of a path).
func xmlAttr(s string) string { return `"` + html.EscapeString(s) + `"` }

func (a regAction) xml() string {
	s := "<" + a.op + " path=" + xmlAttr(a.path)
	if a.name != "" || a.op != "deleteKey" {
		s += " name=" + xmlAttr(a.name)
	}
	if a.op == "setValue" {
		s += " type=" + xmlAttr(a.typ) + " value=" + xmlAttr(a.value)
	}
	return s + "/>"
}

func (a fileAction) xml() string {
	return "<" + a.op + " path=" + xmlAttr(a.path) + "/>"
}

// buildActionFiles writes Cleanup.xml, Generalize.xml and Specialize.xml.
// The declarative actions target values and files the sample plants, so
// that their effect can be seen; several repeat what a reseal provider
// does too (the RDP certificate, senseGuid), as Windows' own files do.
func (v *volume) buildActionFiles() {
	const hkcuExplorer = `HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Explorer`
	cleanup := []imaging{
		{component: "Microsoft-Windows-PnpSysprep", order: 0x0900, module: &module{"sppnp.dll", "Sysprep_Clean_Pnp"}},
		{component: "Microsoft-Windows-Servicing-Sysprep", order: 0x0e00,
			files: []fileAction{
				{"deleteFile", `$(runtime.windows)\Logs\CBS\CBS.log`},
				{"deleteFile", `$(runtime.windows)\Logs\DISM\dism.log`},
				{"deleteDirectory", `$(runtime.windows)\Logs\WindowsUpdate`},
				{"deleteFile", `$(runtime.system32)\LogFiles\WMI\*.etl`},
			}},
		{component: "Microsoft-Windows-Shell-Setup", order: 0x1000, wow64: true,
			registry: []regAction{
				{op: "deleteKey", path: hkcuExplorer + `\TypedPaths`},
				{op: "deleteValue", path: hkcuExplorer + `\Advanced`, name: "StartMenuInit"},
			}},
		{component: "Microsoft-Windows-AppX-Sysprep", order: 0x1a00,
			validate: &module{"AppxSysprep.dll", "SysprepCleanupValidate"},
			module:   &module{"AppxSysprep.dll", "SysprepCleanup"}},
	}
	generalize := []imaging{
		{component: "Microsoft-Windows-OfflineServicing-Sysprep", order: 0x0500, module: &module{"spopk.dll", "Sysprep_Generalize_Opk"}},
		{component: "Microsoft-Windows-MountPointManager", order: 0x0600, module: &module{"spmpm.dll", "Sysprep_Generalize_MountPointManager"}},
		{component: "Microsoft-Windows-PnpSysprep", order: 0x0900, module: &module{"sppnp.dll", "Sysprep_Generalize_Pnp"}},
		{component: "Microsoft-Windows-BootEnvironment-Sysprep", order: 0x0a00, module: &module{"spbcd.dll", "Sysprep_Generalize_Bcd"}},
		{component: "Microsoft-Windows-Security-SPP", order: 0x0c00, wow64: true, module: &module{"slc.dll", "SLpSysprepGeneralize"}},
		{component: "Microsoft-Windows-Dhcp-Client-DLL", order: 0x0d00, module: &module{"dhcpcsvc.dll", "DhcpClient_Generalize"}},
		{component: "Microsoft-Windows-WindowsUpdateClient-Core", order: 0x0d10, module: &module{"wuaueng.dll", "GeneralizeForImaging"}},
		{component: "Microsoft-Windows-SQM-Consolidator-Base", order: 0x0d20, wow64: true, module: &module{"sqmapi.dll", "SqmSysprepGeneralize"}},
		{component: "Microsoft-Windows-ErrorReportingCore", order: 0x0d30, module: &module{"wer.dll", "WerSysprepGeneralize"}},
		{component: "Microsoft-Windows-SystemRestore-Main", order: 0x0d40, module: &module{"srclient.dll", "SysprepGeneralize"}},
		{component: "Microsoft-Windows-ClipSVC", order: 0x0d50, module: &module{"clipc.dll", "ClipCleanUpState"}},
		{component: "Microsoft-Windows-WinSATAPI", order: 0x0d60, module: &module{"spwinsat.dll", "SpWinSatGeneralize"}},
		{component: "Microsoft-Windows-TerminalServices-RDP-WinStationExtensions", order: 0x1100,
			registry: []regAction{
				{op: "deleteValue", path: `HKEY_LOCAL_MACHINE\System\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp`, name: "SSLCertificateSHA1Hash"},
				{op: "deleteKey", path: `HKEY_LOCAL_MACHINE\Software\Microsoft\SystemCertificates\Remote Desktop\Certificates`},
			}},
		{component: "Windows-SenseClient-Service", order: 0x1200,
			registry: []regAction{
				{op: "deleteValue", path: `HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows Advanced Threat Protection`, name: "senseGuid"},
				{op: "setValue", path: `HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows Advanced Threat Protection`, name: "SysprepGeneralized", typ: "REG_DWORD", value: "0x1"},
			}},
		{component: "Microsoft-Windows-Shell-Setup", order: 0x1300, wow64: true,
			registry: []regAction{
				{op: "setValue", path: `HKEY_USERS\.DEFAULT\Control Panel\Desktop`, name: "PaintDesktopVersion", typ: "REG_DWORD", value: "0"},
				{op: "setValue", path: `HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Session Manager\Memory Management`, name: "ClearPageFileAtShutdown", typ: "REG_DWORD", value: "0"},
			}},
		{component: "Microsoft-Windows-AppX-Sysprep", order: 0x1a00,
			validate: &module{"AppxSysprep.dll", "SysprepGeneralizeValidate"},
			module:   &module{"AppxSysprep.dll", "SysprepGeneralize"}},
	}
	specialize := []imaging{
		{component: "Microsoft-Windows-CAPI2", order: 0x0300, module: &module{"capisp.dll", "CryptoSysPrep_Specialize"}},
		{component: "Microsoft-Windows-PnpSysprep", order: 0x0900, module: &module{"sppnp.dll", "Sysprep_Specialize_Pnp"}},
		{component: "Microsoft-Windows-Security-SPP", order: 0x0c00, module: &module{"slc.dll", "SLpSysprepSpecialize"}},
	}
	dir := "Windows/System32/Sysprep/ActionFiles/"
	v.text(dir+"Cleanup.xml", v.actionFile(cleanup))
	v.text(dir+"Generalize.xml", v.actionFile(generalize))
	v.text(dir+"Specialize.xml", v.actionFile(specialize))
	// What the declarative actions above act on.
	v.text("Windows/System32/LogFiles/WMI/Wifi.etl", "")
	v.text("Windows/System32/LogFiles/WMI/NetCore.etl", "")
}

func (v *volume) actionFile(entries []imaging) string {
	var sb strings.Builder
	sb.WriteString("<?xml version='1.0' encoding='utf-8' standalone='yes'?>\n<sysprepInformation>\n")
	for _, e := range entries {
		v.writeImaging(&sb, e, "amd64")
		if e.wow64 {
			v.writeImaging(&sb, e, "wow64")
		}
	}
	sb.WriteString("</sysprepInformation>\n")
	return crlf(sb.String())
}

func (v *volume) writeImaging(sb *strings.Builder, e imaging, arch string) {
	sb.WriteString("  <imaging exclude=\"\">\n")
	fmt.Fprintf(sb, "    <assemblyIdentity buildType=\"release\" language=\"neutral\" name=%q processorArchitecture=%q publicKeyToken=\"31bf3856ad364e35\" version=\"10.0.%d.1\" versionScope=\"nonSxS\"/>\n",
		e.component, arch, v.ed.build)
	fmt.Fprintf(sb, "    <sysprepOrder order=\"0x%04X\"/>\n", e.order)
	if e.validate != nil {
		fmt.Fprintf(sb, "    <sysprepValidate methodName=%q moduleName=\"$(runtime.system32)\\%s\"/>\n", e.validate.method, e.validate.dll)
	}
	if e.module != nil {
		fmt.Fprintf(sb, "    <sysprepModule methodName=%q moduleName=\"$(runtime.system32)\\%s\"/>\n", e.module.method, e.module.dll)
	}
	if len(e.registry) > 0 {
		sb.WriteString("    <registryActions>\n")
		for _, a := range e.registry {
			sb.WriteString("      " + a.xml() + "\n")
		}
		sb.WriteString("    </registryActions>\n")
	}
	if len(e.files) > 0 {
		sb.WriteString("    <fileActions>\n")
		for _, a := range e.files {
			sb.WriteString("      " + a.xml() + "\n")
		}
		sb.WriteString("    </fileActions>\n")
	}
	sb.WriteString("  </imaging>\n")
}
