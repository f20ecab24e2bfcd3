package unattend

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestCorpusValidates: every real answer file validates without errors.
// Warnings are allowed (plain-text passwords, deprecated settings, settings
// newer or older than the 2018 reference); they are logged for review.
func TestCorpusValidates(t *testing.T) {
	for _, path := range corpusFiles(t) {
		f, err := ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, fd := range f.Validate() {
			if fd.Severity == SeverityError {
				t.Errorf("%s: %s", filepath.Base(path), fd)
			} else {
				t.Logf("%s: %s", filepath.Base(path), fd)
			}
		}
	}
}

// mutation changes a real file and names the error it must cause and the
// text whose line that error must point at.
type mutation struct {
	name, file string
	old, new   string // replace the first occurrence of old
	moveTo     string // when set, old is cut and inserted after moveTo instead
	id         string
	at         string // marker in the mutated text: the finding's line
}

func (m mutation) apply(t *testing.T, data string) string {
	t.Helper()
	if !strings.Contains(data, m.old) {
		t.Fatalf("%q not in %s", m.old, m.file)
	}
	if m.moveTo == "" {
		return strings.Replace(data, m.old, m.new, 1)
	}
	data = strings.Replace(data, m.old, "", 1)
	i := strings.Index(data, m.moveTo)
	if i < 0 {
		t.Fatalf("%q not in %s", m.moveTo, m.file)
	}
	i += len(m.moveTo)
	return data[:i] + m.old + data[i:]
}

const vagrant = "windows-vagrant_2022-uefi_autounattend.xml"

var mutations = []mutation{
	{name: "setting moved to a wrong pass", file: "joefitzgerald_7_Autounattend.xml",
		old: "<ComputerName>vagrant-7</ComputerName>", moveTo: `name="Microsoft-Windows-Shell-Setup" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS">`,
		id: IDSettingPass, at: "<ComputerName>"},
	{name: "generalize setting moved to specialize", file: "bento_2022_Autounattend.xml",
		old: `<settings pass="generalize">`, new: `<settings pass="specialize">`,
		id: IDSettingPass, at: "<SkipRearm>"},
	{name: "container moved: one finding for the container", file: vagrant,
		old: `<settings pass="oobeSystem">`, new: `<settings pass="windowsPE">`,
		id: IDSettingPass, at: "<OOBE>"},
	{name: "processorArchitecture corrupted", file: "mwrock_postunattend.xml",
		old: `name="Microsoft-Windows-PnpSysprep" processorArchitecture="amd64"`, new: `name="Microsoft-Windows-PnpSysprep" processorArchitecture="amd65"`,
		id: IDComponentArch, at: `processorArchitecture="amd65"`},
	{name: "processorArchitecture missing", file: vagrant,
		old: `<component name="Microsoft-Windows-LUA-Settings" processorArchitecture="amd64"`, new: `<component name="Microsoft-Windows-LUA-Settings"`,
		id: IDComponentArch, at: `"Microsoft-Windows-LUA-Settings"`},
	{name: "publicKeyToken too short", file: "cloudbase-unattended-setup_Unattend.xml",
		old: `processorArchitecture="x86" publicKeyToken="31bf3856ad364e35"`, new: `processorArchitecture="x86" publicKeyToken="31bf3856ad364e3"`,
		id: IDComponentToken, at: `"31bf3856ad364e3"`},
	{name: "publicKeyToken not hex", file: vagrant,
		old: `publicKeyToken="31bf3856ad364e35"`, new: `publicKeyToken="31bf3856ad364e3g"`,
		id: IDComponentToken, at: `"31bf3856ad364e3g"`},
	{name: "versionScope", file: vagrant,
		old: `versionScope="nonSxS"`, new: `versionScope="nonsxs"`,
		id: IDComponentScope, at: `"nonsxs"`},
	{name: "language", file: vagrant,
		old: `language="neutral"`, new: `language="neutral language"`,
		id: IDComponentLang, at: `"neutral language"`},
	{name: "component name missing", file: vagrant,
		old: `name="Microsoft-Windows-LUA-Settings" `, new: ``,
		id: IDComponentName, at: `<component processorArchitecture`},
	{name: "enumeration: PersistAllDeviceInstalls=yes", file: "cloudbase-unattended-setup_Unattend.xml",
		old: "<PersistAllDeviceInstalls>true</PersistAllDeviceInstalls>", new: "<PersistAllDeviceInstalls>yes</PersistAllDeviceInstalls>",
		id: IDSettingValue, at: "<PersistAllDeviceInstalls>yes"},
	{name: "enumeration: partition type", file: vagrant,
		old: "<Type>MSR</Type>", new: "<Type>Recovery</Type>",
		id: IDSettingValue, at: "<Type>Recovery"},
	{name: "enumeration: WillShowUI", file: vagrant,
		old: "<WillShowUI>OnError</WillShowUI>", new: "<WillShowUI>Sometimes</WillShowUI>",
		id: IDSettingValue, at: "<WillShowUI>Sometimes"},
	{name: "root namespace", file: vagrant,
		old: `<unattend xmlns="urn:schemas-microsoft-com:unattend">`, new: `<unattend xmlns="urn:schemas-microsoft-com:unattended">`,
		id: IDRootNamespace, at: "<unattend"},
	{name: "root namespace missing", file: "mwrock_postunattend.xml",
		old: `<unattend xmlns="urn:schemas-microsoft-com:unattend">`, new: `<unattend>`,
		id: IDRootNamespace, at: "<unattend"},
	{name: "root element", file: "mwrock_postunattend.xml",
		old: "unattend", new: "unattended", // start tag only: then the XML is broken
		id: IDMalformed, at: "</unattend>"},
	{name: "wcm prefix undeclared", file: "bento_11_arm64_Autounattend.xml",
		old: ` xmlns:wcm="http://schemas.microsoft.com/WMIConfig/2002/State"`, new: "",
		id: IDNamespacePrefix, at: `wcm:action="add" wcm:keyValue="2"`},
	{name: "unknown pass", file: vagrant,
		old: `<settings pass="specialize">`, new: `<settings pass="Specialize">`,
		id: IDPassUnknown, at: `"Specialize"`},
	{name: "pass missing", file: vagrant,
		old: `<settings pass="specialize">`, new: `<settings>`,
		id: IDPassMissing, at: `<settings>`},
	{name: "bad wcm:action", file: vagrant,
		old: `<SynchronousCommand wcm:action="add">`, new: `<SynchronousCommand wcm:action="append">`,
		id: IDListAction, at: `"append"`},
	{name: "duplicate wcm:keyValue", file: "bento_11_arm64_Autounattend.xml",
		old: `wcm:keyValue="3"`, new: `wcm:keyValue="2"`,
		id: IDListKeyDup, at: `wcm:keyValue="2">` + "\n" + `                    <Path>F:\NetKVM`},
	{name: "hidden password that is not", file: vagrant,
		old: "dgBhAGcAcgBhAG4AdABBAGQAbQBpAG4AaQBzAHQAcgBhAHQAbwByAFAAYQBzAHMAdwBvAHIAZAA=", new: "dgBhAGcAcgBhAG4AdAA=", // "vagrant" without the element name
		id: IDPasswordEncoding, at: "dgBhAGcAcgBhAG4AdAA="},
	{name: "hidden password not base64", file: vagrant,
		old: "dgBhAGcAcgBhAG4AdABQAGEAcwBzAHcAbwByAGQA", new: "vagrant!",
		id: IDPasswordEncoding, at: "vagrant!"},
	{name: "setting spelt with the wrong case", file: "mwrock_postunattend.xml",
		old: "<SkipRearm>1</SkipRearm>", new: "<skipRearm>1</skipRearm>",
		id: IDSettingCase, at: "<skipRearm>"},
	{name: "computer name too long", file: "joefitzgerald_7_Autounattend.xml",
		old: "<ComputerName>vagrant-7</ComputerName>", new: "<ComputerName>vagrant-7-sixteen</ComputerName>",
		id: IDComputerName, at: "<ComputerName>"},
	{name: "computer name with a forbidden character", file: "joefitzgerald_7_Autounattend.xml",
		old: "<ComputerName>vagrant-7</ComputerName>", new: "<ComputerName>vagrant_7.x</ComputerName>",
		id: IDComputerName, at: "<ComputerName>"},
	{name: "computer name digits only", file: "bento_11_arm64_Autounattend.xml",
		old: "<ComputerName>bento</ComputerName>", new: "<ComputerName>12345</ComputerName>",
		id: IDComputerName, at: "<ComputerName>"},
	{name: "XML: closing tag removed", file: vagrant,
		old: "</DiskID>", new: "",
		id: IDMalformed, at: "</Disk>"},
	{name: "XML: unescaped ampersand", file: "mwrock_postunattend.xml",
		old: "<TimeZone>UTC</TimeZone>", new: "<TimeZone>UTC & GMT</TimeZone>",
		id: IDMalformed, at: "UTC & GMT"},
	{name: "XML: DOCTYPE inserted", file: "mwrock_postunattend.xml",
		old: "<unattend ", new: "<!DOCTYPE unattend [<!ENTITY x \"y\">]>\n<unattend ",
		id: IDDoctype, at: "<!DOCTYPE"},
}

func TestMutationsOfRealFiles(t *testing.T) {
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			data := m.apply(t, string(readCorpus(t, m.file)))
			wantLine := lineOf(t, data, m.at)
			_, findings, err := Check(strings.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, fd := range findings {
				if fd.ID == m.id && fd.Line == wantLine && fd.Severity == SeverityError {
					return
				}
				if fd.Severity == SeverityError {
					got = append(got, fd.String())
				}
			}
			t.Errorf("want error %s at line %d; errors found:\n%s", m.id, wantLine, strings.Join(got, "\n"))
		})
	}
}

// TestMutationsAreIsolated: each mutation brings exactly one error kind
// (except the ones that cascade by nature), so a finding is not just noise.
func TestMutationsAreIsolated(t *testing.T) {
	for _, m := range mutations {
		if m.id == IDMalformed || m.id == IDDoctype || m.id == IDNamespacePrefix || m.name == "root element" {
			continue
		}
		data := m.apply(t, string(readCorpus(t, m.file)))
		_, findings, _ := Check(strings.NewReader(data))
		for _, fd := range findings {
			if fd.Severity == SeverityError && fd.ID != m.id {
				t.Errorf("%s: unexpected %s", m.name, fd)
			}
		}
	}
}

func TestWarnings(t *testing.T) {
	base := string(readCorpus(t, "mwrock_postunattend.xml"))
	tests := []struct {
		name     string
		old, new string
		id       string
		at       string
	}{
		{"unknown component", `name="Microsoft-Windows-Security-SPP"`, `name="Contoso-Imaging-Agent"`, IDComponentUnknown, "Contoso-Imaging-Agent"},
		{"unknown setting", "<SkipRearm>1</SkipRearm>", "<SkipRearm>1</SkipRearm><SkipRearmTwice>1</SkipRearmTwice>", IDSettingUnknown, "<SkipRearmTwice>"},
		{"list item without wcm:action", `<LocalAccount wcm:action="add">`, `<LocalAccount>`, IDListActionMissing, "<LocalAccount>"},
		{"plain-text password", "<Value>vagrant</Value>", "<Value>vagrant</Value>", IDPasswordPlain, "<Value>vagrant</Value>"},
		{"same component twice", `<settings pass="oobeSystem">`, `<settings pass="oobeSystem">
        <component name="Microsoft-Windows-International-Core" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS"><UILanguage>en-US</UILanguage></component>`,
			IDComponentDup, `<component name="Microsoft-Windows-International-Core" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS" xmlns`},
		{"Generalize with Reseal", `</settings>`, `</settings>
    <settings pass="auditUser">
        <component name="Microsoft-Windows-Deployment" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS">
            <Generalize><Mode>OOBE</Mode></Generalize>
            <Reseal><Mode>Audit</Mode></Reseal>
        </component>
    </settings>`, IDGeneralizeReseal, "<Reseal>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := strings.Replace(base, tt.old, tt.new, 1)
			wantLine := lineOf(t, data, tt.at)
			f := mustParse(t, []byte(data))
			findings := f.Validate()
			if HasErrors(findings) {
				t.Errorf("errors: %v", findings)
			}
			for _, fd := range findings {
				if fd.ID == tt.id && fd.Line == wantLine && fd.Severity == SeverityWarning {
					return
				}
			}
			t.Errorf("no warning %s at line %d in %v", tt.id, wantLine, findings)
		})
	}
}

func TestRedactedPasswordsAreNotErrors(t *testing.T) {
	f := mustParse(t, readCorpus(t, vagrant))
	f.RedactSecrets()
	if fs := f.Validate(); HasErrors(fs) {
		t.Fatalf("redacted file has errors: %v", fs)
	}
}

func TestComputerNameRules(t *testing.T) {
	valid := []string{"", "*", "WEB-01", "a", "VAGRANT-7", "ABCDEFGHIJKLMNO", "日本語名前", "name_with_us"}
	invalid := []string{"ABCDEFGHIJKLMNOP", "12345", "0", "has space", "a.b", "a&b", "a*", "a{b", "a\\b", "a@b", "日本語の名前です", "pc😀"}
	for _, n := range valid {
		if err := CheckComputerName(n); err != nil {
			t.Errorf("%q refused: %v", n, err)
		}
	}
	for _, n := range invalid {
		if err := CheckComputerName(n); err == nil {
			t.Errorf("%q accepted", n)
		}
	}
	for _, r := range computerNameForbidden {
		if err := CheckComputerName("ab" + string(r)); err == nil {
			t.Errorf("%q accepted", r)
		}
	}
}

func TestFindingsInDocumentOrderAndStable(t *testing.T) {
	data := readCorpus(t, "packer-windows_2022_Autounattend.xml")
	a := mustParse(t, data).Validate()
	b := mustParse(t, bytes.Clone(data)).Validate()
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("%d vs %d findings", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Errorf("finding %d differs: %v / %v", i, a[i], b[i])
		}
		if i > 0 && (a[i].Line < a[i-1].Line) {
			t.Errorf("finding %d out of order", i)
		}
	}
}

func TestWrongRootElement(t *testing.T) {
	data := strings.ReplaceAll(string(readCorpus(t, "mwrock_postunattend.xml")), "unattend>", "answers>")
	data = strings.Replace(data, "<unattend ", "<answers ", 1)
	_, findings, err := Check(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(findings) != 1 || findings[0].ID != IDRootElement || findings[0].Line != 2 {
		t.Errorf("findings %v, want one %s at line 2", findings, IDRootElement)
	}
}
