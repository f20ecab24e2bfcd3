package unattend

import "fmt"

// Severity of a finding.
type Severity int

const (
	SeverityWarning Severity = 1 // Windows Setup goes on, but the file probably does not do what its author meant
	SeverityError   Severity = 2 // Windows Setup fails or ignores the setting
)

func (s Severity) String() string {
	switch s {
	case SeverityWarning:
		return "warning"
	case SeverityError:
		return "error"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// Finding is one problem found in an answer file. ID is stable (see the
// ID... constants and docs/unattend.md); Line and Column locate the element
// or attribute concerned.
type Finding struct {
	ID           string
	Severity     Severity
	Line, Column int
	Message      string
}

func (f Finding) String() string {
	return fmt.Sprintf("%d:%d: %s: %s [%s]", f.Line, f.Column, f.Severity, f.Message, f.ID)
}

// HasErrors reports whether any finding is an error.
func HasErrors(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Finding IDs reported by Validate (the parse failures are IDMalformed,
// IDEncoding, IDLimit and IDDoctype).
const (
	IDNamespacePrefix   = "xml.namespace-prefix"         // error: a prefix used but not declared
	IDRootElement       = "root.element"                 // error: the root is not <unattend>
	IDRootNamespace     = "root.namespace"               // error: <unattend> not in urn:schemas-microsoft-com:unattend
	IDPassMissing       = "pass.missing"                 // error: <settings> without pass=
	IDPassUnknown       = "pass.unknown"                 // error: pass= not one of the seven passes
	IDComponentName     = "component.name"               // error: <component> without name=
	IDComponentArch     = "component.architecture"       // error: processorArchitecture missing or invalid
	IDComponentToken    = "component.public-key-token"   // error: publicKeyToken missing or not 16 hex digits
	IDComponentLang     = "component.language"           // error: language missing or invalid
	IDComponentScope    = "component.version-scope"      // error: versionScope missing or not SxS/nonSxS
	IDComponentUnknown  = "component.unknown"            // warning: not in the catalog
	IDComponentDup      = "component.duplicate"          // warning: same component twice in one pass for one architecture
	IDSettingPass       = "setting.pass"                 // error: a known setting in a pass where it is not valid
	IDSettingValue      = "setting.value"                // error: a value outside the setting's enumeration
	IDSettingCase       = "setting.case"                 // error: a known setting spelt with the wrong case (Windows reads names case-sensitively)
	IDSettingUnknown    = "setting.unknown"              // warning: not in the catalog (which stops at 2018)
	IDSettingDeprec     = "setting.deprecated"           // warning: deprecated by the reference
	IDListAction        = "list.action"                  // error: wcm:action other than add, modify, remove
	IDListActionMissing = "list.action-missing"          // warning: a list item without wcm:action
	IDListKeyDup        = "list.key-duplicate"           // error: two siblings with the same wcm:keyValue
	IDPasswordEncoding  = "password.encoding"            // error: PlainText=false value is not base64 UTF-16LE ending in the element name
	IDPasswordPlain     = "password.plaintext"           // warning: a password stored in plain text
	IDComputerName      = "computer-name.invalid"        // error: ComputerName breaks the documented rules
	IDTimeZone          = "time-zone.unknown"            // warning: TimeZone is not a Windows time zone ID
	IDGeneralizeReseal  = "deployment.generalize-reseal" // warning: Generalize and Reseal in one pass: Reseal is ignored
)
