package sample

import (
	"fmt"
	"strings"
)

// imaging is one <imaging> element of an action file: the component it
// belongs to, its order, and either a module Sysprep calls or declarative
// actions.
type imaging struct {
	component string
	order     int
	validate  *module
	module    *module
	registry  []string // <registryActions> children, already XML
	files     []string // <fileActions> children, already XML
}

type module struct{ dll, method string }

// buildActionFiles writes Sysprep's ActionFiles in the shape real ones have
// (sysprepInformation/imaging with assemblyIdentity, sysprepOrder and
// sysprepModule or sysprepValidate), with declarative registry and file
// actions in the engine contract's convention. The declarative actions
// target values and files the sample plants, so that their effect can be
// seen.
func (v *volume) buildActionFiles() {
	cleanup := []imaging{
		{component: "Microsoft-Windows-PnpSysprep", order: 0x0900, module: &module{"sppnp.dll", "Sysprep_Clean_Pnp"}},
		{component: "Microsoft-Windows-Servicing-Sysprep", order: 0x0e00,
			files: []string{
				`<deleteFile path="$(runtime.windows)\Logs\CBS\CBS.log"/>`,
				`<deleteFile path="$(runtime.windows)\Logs\DISM\dism.log"/>`,
				`<deleteDirectory path="$(runtime.windows)\Logs\WindowsUpdate"/>`,
			}},
		{component: "Microsoft-Windows-AppX-Sysprep", order: 0x1a00,
			validate: &module{"AppxSysprep.dll", "SysprepCleanupValidate"},
			module:   &module{"AppxSysprep.dll", "SysprepCleanup"}},
	}
	generalize := []imaging{
		{component: "Microsoft-Windows-OfflineServicing-Sysprep", order: 0x0500, module: &module{"spopk.dll", "Sysprep_Generalize_Opk"}},
		{component: "Microsoft-Windows-PnpSysprep", order: 0x0900, module: &module{"sppnp.dll", "Sysprep_Generalize_Pnp"}},
		{component: "Microsoft-Windows-BootEnvironment-Sysprep", order: 0x0a00, module: &module{"spbcd.dll", "Sysprep_Generalize_Bcd"}},
		{component: "Microsoft-Windows-Security-SPP", order: 0x0c00, module: &module{"slc.dll", "SLpSysprepGeneralize"}},
		{component: "Microsoft-Windows-TerminalServices-RDP-WinStationExtensions", order: 0x1100,
			registry: []string{
				`<deleteValue path="HKEY_LOCAL_MACHINE\System\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp" name="SSLCertificateSHA1Hash"/>`,
				`<deleteKey path="HKEY_LOCAL_MACHINE\Software\Microsoft\SystemCertificates\Remote Desktop\Certificates"/>`,
			}},
		{component: "Windows-SenseClient-Service", order: 0x1200,
			registry: []string{
				`<deleteValue path="HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows Advanced Threat Protection" name="senseGuid"/>`,
				`<setValue path="HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows Advanced Threat Protection" name="SysprepGeneralized" type="REG_DWORD" value="0x1"/>`,
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
}

func (v *volume) actionFile(entries []imaging) string {
	var sb strings.Builder
	sb.WriteString("<?xml version='1.0' encoding='utf-8' standalone='yes'?>\n<sysprepInformation>\n")
	for _, e := range entries {
		sb.WriteString("  <imaging exclude=\"\">\n")
		fmt.Fprintf(&sb, "    <assemblyIdentity name=%q version=\"%s\" processorArchitecture=\"amd64\" publicKeyToken=\"31bf3856ad364e35\" language=\"neutral\" versionScope=\"nonSxS\"/>\n",
			e.component, fmt.Sprintf("10.0.%d.1", v.ed.build))
		fmt.Fprintf(&sb, "    <sysprepOrder order=\"0x%04X\"/>\n", e.order)
		if e.validate != nil {
			fmt.Fprintf(&sb, "    <sysprepValidate methodName=%q moduleName=\"$(runtime.system32)\\%s\"/>\n", e.validate.method, e.validate.dll)
		}
		if e.module != nil {
			fmt.Fprintf(&sb, "    <sysprepModule methodName=%q moduleName=\"$(runtime.system32)\\%s\"/>\n", e.module.method, e.module.dll)
		}
		if len(e.registry) > 0 {
			sb.WriteString("    <registryActions>\n")
			for _, a := range e.registry {
				sb.WriteString("      " + a + "\n")
			}
			sb.WriteString("    </registryActions>\n")
		}
		if len(e.files) > 0 {
			sb.WriteString("    <fileActions>\n")
			for _, a := range e.files {
				sb.WriteString("      " + a + "\n")
			}
			sb.WriteString("    </fileActions>\n")
		}
		sb.WriteString("  </imaging>\n")
	}
	sb.WriteString("</sysprepInformation>\n")
	return crlf(sb.String())
}
