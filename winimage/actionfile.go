package winimage

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ActionFilesDir holds Sysprep's action files (Cleanup.xml, Generalize.xml, Specialize.xml).
const ActionFilesDir = "Windows/System32/Sysprep/ActionFiles"

// maxActionFile bounds how much of an action file is read.
const maxActionFile = 8 << 20

// ActionFile is a parsed Sysprep action file: a list of imaging providers.
type ActionFile struct {
	Imaging []Imaging
}

// Imaging is one <imaging> element: a provider, its order and what it does.
type Imaging struct {
	Assembly  string // assemblyIdentity name
	Arch      string // assemblyIdentity processorArchitecture (amd64, wow64, x86, arm64, ...), lower case
	Exclude   string // the exclude attribute, as written
	Order     uint32 // sysprepOrder, parsed from hex ("0x1A00") or decimal
	HasOrder  bool
	Validates []ModuleCall     // sysprepValidate
	Modules   []ModuleCall     // sysprepModule
	Registry  []RegistryAction // declarative registry actions, in document order
	Files     []FileAction     // declarative file actions, in document order
	Line      int              // line of the <imaging> element
}

// ModuleCall is code in a DLL that Sysprep would call.
type ModuleCall struct {
	Module string // "$(runtime.system32)\AppxSysprep.dll"
	Method string // "SysprepGeneralizeValidate"
}

// RegistryAction is a declarative registry action:
// deleteKey(path), deleteValue(path, name), setValue(path, name, type, data).
type RegistryAction struct {
	Op   string // "deleteKey", "deleteValue", "setValue"
	Path string
	Name string
	Type string
	Data string // the value attribute (data= in older samples)
	// HasData tells an empty value="" from a missing one.
	HasData bool
	Line    int
}

// FileAction is a declarative file action: deleteFile or deleteDirectory.
type FileAction struct {
	Op   string // "deleteFile", "deleteDirectory"
	Path string
	Line int
}

// ParseActionFile reads a Sysprep action file. Elements it does not know are
// skipped (they are reported by position only when malformed).
func ParseActionFile(r io.Reader) (*ActionFile, error) {
	lr := &io.LimitedReader{R: r, N: maxActionFile + 1}
	dec := xml.NewDecoder(lr)
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf-8", "us-ascii", "ascii":
			return in, nil
		}
		return nil, fmt.Errorf("unsupported encoding %q", label)
	}
	af := &ActionFile{}
	var cur *Imaging
	sawRoot := false
	depth := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, _ := dec.InputPos()
			return nil, fmt.Errorf("action file line %d: %w", line, err)
		}
		if lr.N <= 0 {
			return nil, fmt.Errorf("action file larger than %d bytes", maxActionFile)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > 64 {
				return nil, fmt.Errorf("action file: elements nested deeper than 64")
			}
			line, _ := dec.InputPos()
			name := t.Name.Local
			if depth == 1 {
				if name != "sysprepInformation" {
					return nil, fmt.Errorf("action file: root element <%s>, want <sysprepInformation>", name)
				}
				sawRoot = true
				continue
			}
			if name == "imaging" {
				af.Imaging = append(af.Imaging, Imaging{Exclude: attr(t, "exclude"), Line: line})
				cur = &af.Imaging[len(af.Imaging)-1]
				continue
			}
			if cur == nil {
				continue
			}
			switch name {
			case "assemblyIdentity":
				cur.Assembly = attr(t, "name")
				cur.Arch = strings.ToLower(strings.TrimSpace(attr(t, "processorArchitecture")))
			case "sysprepOrder":
				n, err := parseOrder(attr(t, "order"))
				if err != nil {
					return nil, fmt.Errorf("action file line %d: sysprepOrder: %w", line, err)
				}
				cur.Order, cur.HasOrder = n, true
			case "sysprepValidate":
				cur.Validates = append(cur.Validates, ModuleCall{Module: attr(t, "moduleName"), Method: attr(t, "methodName")})
			case "sysprepModule":
				cur.Modules = append(cur.Modules, ModuleCall{Module: attr(t, "moduleName"), Method: attr(t, "methodName")})
			case "deleteKey", "deleteValue", "setValue":
				a := RegistryAction{Op: name, Path: attr(t, "path"), Name: attr(t, "name"), Type: attr(t, "type"), Line: line}
				// Windows' own action files carry setValue's data in a
				// value attribute (value="1", value="0x8002"); data= is
				// accepted as the same thing.
				a.Data, a.HasData = attrOK(t, "value")
				if !a.HasData {
					a.Data, a.HasData = attrOK(t, "data")
				}
				if a.Path == "" {
					return nil, fmt.Errorf("action file line %d: <%s> without path", line, name)
				}
				cur.Registry = append(cur.Registry, a)
			case "deleteFile", "deleteDirectory":
				a := FileAction{Op: name, Path: attr(t, "path"), Line: line}
				if a.Path == "" {
					return nil, fmt.Errorf("action file line %d: <%s> without path", line, name)
				}
				cur.Files = append(cur.Files, a)
			}
		case xml.EndElement:
			depth--
			if t.Name.Local == "imaging" {
				cur = nil
			}
		}
	}
	if !sawRoot {
		return nil, fmt.Errorf("action file: no <sysprepInformation> element")
	}
	return af, nil
}

func attrOK(t xml.StartElement, name string) (string, bool) {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func parseOrder(s string) (uint32, error) {
	s = strings.TrimSpace(s)
	base := 10
	if strings.HasPrefix(strings.ToLower(s), "0x") {
		s, base = s[2:], 16
	}
	n, err := strconv.ParseUint(s, base, 32)
	if err != nil {
		return 0, fmt.Errorf("order %q: %w", s, err)
	}
	return uint32(n), nil
}

// runtimeVars are the $(runtime.*) variables of action files, as
// volume-relative directories (keys lower case). $(runtime.userprofile) is
// the profile of the account Sysprep runs as and is given by the caller.
var runtimeVars = map[string]string{
	"runtime.windows":         "Windows",
	"runtime.systemroot":      "Windows",
	"runtime.windir":          "Windows",
	"runtime.system32":        "Windows/System32",
	"runtime.system":          "Windows/System",
	"runtime.syswow64":        "Windows/SysWOW64",
	"runtime.drivers":         "Windows/System32/drivers",
	"runtime.wbem":            "Windows/System32/wbem",
	"runtime.inf":             "Windows/INF",
	"runtime.help":            "Windows/Help",
	"runtime.fonts":           "Windows/Fonts",
	"runtime.programdata":     "ProgramData",
	"runtime.programfiles":    "Program Files",
	"runtime.programfilesx86": "Program Files (x86)",
	"runtime.commonfiles":     "Program Files/Common Files",
	"runtime.commonfilesx86":  "Program Files (x86)/Common Files",
	"runtime.public":          "Users/Public",
	"runtime.systemdrive":     "",
	"runtime.bootdrive":       "",
}

// KnownRuntimeVariable reports whether $(name) is a variable action files
// may use (name without $( ), any case).
func KnownRuntimeVariable(name string) bool {
	n := strings.ToLower(name)
	_, ok := runtimeVars[n]
	return ok || n == "runtime.userprofile"
}

// ExpandRuntimePath turns an action-file path ("$(runtime.windows)\Logs\x.log",
// "%SystemRoot%\Temp", "C:\Windows\...") into a volume-relative path with
// forward slashes. $(runtime.userprofile) has no meaning here; see
// ExpandRuntimePathFor.
func ExpandRuntimePath(p string) (string, error) { return ExpandRuntimePathFor(p, "") }

// ExpandRuntimePathFor is ExpandRuntimePath with $(runtime.userprofile)
// standing for userProfile, a volume-relative profile folder ("" when no
// account is known, which makes the variable an error).
func ExpandRuntimePathFor(p, userProfile string) (string, error) {
	orig := p
	p = strings.TrimSpace(p)
	if strings.HasPrefix(p, "$(") {
		end := strings.Index(p, ")")
		if end < 0 {
			return "", fmt.Errorf("path %q: unterminated variable", orig)
		}
		name := strings.ToLower(p[2:end])
		dir, ok := runtimeVars[name]
		if name == "runtime.userprofile" && userProfile != "" {
			dir, ok = userProfile, true
		} else if name == "runtime.userprofile" {
			return "", fmt.Errorf("path %q: $(%s) needs the account Sysprep runs as, and the volume has none (see --user)", orig, p[2:end])
		}
		if !ok {
			return "", fmt.Errorf("path %q: variable $(%s) is not one reseal knows", orig, p[2:end])
		}
		p = dir + "/" + p[end+1:]
	} else if strings.HasPrefix(strings.ToLower(p), "%systemroot%") || strings.HasPrefix(strings.ToLower(p), "%windir%") {
		p = "Windows/" + p[strings.Index(p[1:], "%")+2:]
	} else if len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') {
		p = p[3:]
	} else {
		return "", fmt.Errorf("path %q: not anchored to the volume (expected $(runtime.*), %%SystemRoot%% or a drive)", orig)
	}
	if strings.Contains(p, "$(") {
		return "", fmt.Errorf("path %q: a variable inside the path is not supported", orig)
	}
	parts, err := splitRel(p)
	if err != nil {
		return "", fmt.Errorf("path %q: %w", orig, err)
	}
	return strings.Join(parts, "/"), nil
}
