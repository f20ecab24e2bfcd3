package unattend

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/reseal/reseal/unattend/internal/catalog"
)

var (
	publicKeyTokenPattern = regexp.MustCompile(`^[0-9A-Fa-f]{16}$`)
	// languagePattern: "neutral", or a language tag (en-US, zh-Hant-TW).
	languagePattern = regexp.MustCompile(`^(neutral|[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*)$`)
)

// Validate checks the file against the embedded settings catalog and the
// rules of the Unattended Windows Setup Reference. Findings come in
// document order.
func (f *File) Validate() []Finding {
	v := &validator{cat: catalog.Default()}
	v.file(f)
	sort.SliceStable(v.out, func(i, j int) bool {
		a, b := v.out[i], v.out[j]
		return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
	})
	return v.out
}

// Check parses and validates in one step, turning a parse failure into a
// finding (IDMalformed, IDEncoding, IDLimit or IDDoctype). err is only for
// failures to read r.
func Check(r io.Reader) (*File, []Finding, error) {
	f, err := Parse(r)
	if err != nil {
		if pe, ok := err.(*ParseError); ok {
			return nil, []Finding{{ID: pe.ID, Severity: SeverityError, Line: pe.Line, Column: pe.Column, Message: pe.Msg}}, nil
		}
		return nil, nil, err
	}
	return f, f.Validate(), nil
}

type validator struct {
	cat *catalog.Catalog
	out []Finding
}

func (v *validator) add(id string, sev Severity, n *Node, format string, args ...any) {
	fd := Finding{ID: id, Severity: sev, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		fd.Line, fd.Column = n.Line, n.Column
	}
	v.out = append(v.out, fd)
}

func (v *validator) file(f *File) {
	for _, n := range f.namespaceErrors {
		v.add(IDNamespacePrefix, SeverityError, n, "<%s> uses a namespace prefix that is not declared", n.Name)
	}
	root := f.Root
	if root == nil {
		v.add(IDRootElement, SeverityError, nil, "no root element")
		return
	}
	if root.Name.Local != "unattend" {
		v.add(IDRootElement, SeverityError, root, "the root element is <%s>, not <unattend>", root.Name)
		return
	}
	if root.Space != NamespaceUnattend {
		ns := root.Space
		if ns == "" {
			ns = "no namespace"
		}
		v.add(IDRootNamespace, SeverityError, root, "<unattend> is in %s, not %s", ns, NamespaceUnattend)
	}
	type compKey struct{ pass, arch, name string }
	seenComp := map[compKey]*Node{}
	for _, s := range root.Elements() {
		if s.Name.Local != "settings" {
			continue // servicing, cpi:offlineImage and the like are kept, not checked
		}
		pass, ok := s.Attr("", "pass")
		switch {
		case !ok:
			v.add(IDPassMissing, SeverityError, s, "<settings> has no pass attribute")
			continue
		case !knownPass(pass):
			hint := ""
			for _, p := range catalog.Passes {
				if strings.EqualFold(p, pass) {
					hint = fmt.Sprintf(" (pass names are case-sensitive: %q)", p)
				}
			}
			v.add(IDPassUnknown, SeverityError, s, "unknown pass %q%s; passes are %s", pass, hint, strings.Join(catalog.Passes[:], ", "))
			continue
		}
		for _, cn := range s.Elements() {
			if cn.Name.Local != "component" {
				continue
			}
			c := componentOf(pass, cn)
			v.componentAttrs(c)
			if c.Name == "" {
				continue
			}
			k := compKey{pass, c.Arch, strings.ToLower(c.Name)}
			if first, dup := seenComp[k]; dup {
				v.add(IDComponentDup, SeverityWarning, cn, "component %s (%s) appears twice in pass %s (first at line %d); Windows applies only one", c.Name, c.Arch, pass, first.Line)
			} else {
				seenComp[k] = cn
			}
			v.component(c)
		}
		v.generalizeReseal(pass, s)
	}
}

func knownPass(p string) bool {
	_, ok := catalog.PassBit(p)
	return ok
}

func (v *validator) componentAttrs(c *Component) {
	n := c.Node
	if c.Name == "" {
		v.add(IDComponentName, SeverityError, n, "<component> has no name attribute")
	}
	label := c.Name
	check := func(id, attr, value string, ok bool, want string) {
		if _, present := n.Attr("", attr); !present {
			v.add(id, SeverityError, n, "component %s has no %s attribute (%s)", label, attr, want)
		} else if !ok {
			v.add(id, SeverityError, n, "component %s: %s=%q is not %s", label, attr, value, want)
		}
	}
	check(IDComponentArch, "processorArchitecture", c.Arch, validArch(c.Arch), "one of "+strings.Join(Architectures, ", "))
	check(IDComponentToken, "publicKeyToken", c.PublicKeyToken, publicKeyTokenPattern.MatchString(c.PublicKeyToken), "16 hexadecimal digits")
	check(IDComponentLang, "language", c.Language, languagePattern.MatchString(c.Language), `"neutral" or a language tag`)
	check(IDComponentScope, "versionScope", c.VersionScope, c.VersionScope == "SxS" || c.VersionScope == "nonSxS", "SxS or nonSxS")
}

func (v *validator) component(c *Component) {
	_, known := v.cat.Component(c.Name)
	if !known {
		v.add(IDComponentUnknown, SeverityWarning, c.Node, "component %s is not in the settings reference; its settings are not checked", c.Name)
	}
	v.children(c, c.Node, "", known, false)
}

// children checks the element children of n (at path below component c).
// wrongPass is set below a setting already reported for its pass, so that
// one misplaced container gives one finding.
func (v *validator) children(c *Component, n *Node, path string, known, wrongPass bool) {
	keys := map[string]map[string]*Node{} // element name -> keyValue -> first
	for _, e := range n.Elements() {
		p := e.Name.Local
		if path != "" {
			p = path + "/" + p
		}
		v.listAttrs(e, keys)
		if passwordNode(e) {
			v.password(c, e)
		}
		if !known {
			v.children(c, e, p, false, wrongPass)
			continue
		}
		s, ok := v.cat.Lookup(c.Name, p)
		if !ok {
			if near, ok := v.cat.LookupFold(c.Name, p); ok {
				v.add(IDSettingCase, SeverityError, e, "%s/%s: element names are case-sensitive; the setting is %s", c.Name, p, near.Path)
			} else {
				v.add(IDSettingUnknown, SeverityWarning, e, "%s/%s is not in the settings reference (it may be newer than 2018)", c.Name, p)
			}
			v.children(c, e, p, false, wrongPass)
			continue
		}
		if !wrongPass && s.Passes != 0 && !s.Passes.Has(c.Pass) {
			v.add(IDSettingPass, SeverityError, e, "%s/%s is not valid in pass %s (valid in %s)", c.Name, p, c.Pass, strings.Join(s.Passes.Names(), ", "))
			wrongPass = true
		}
		if s.ListItem && e.Action() == "" {
			v.add(IDListActionMissing, SeverityWarning, e, "%s/%s is a list item without wcm:action (add, modify or remove)", c.Name, p)
		}
		if s.Deprecated {
			v.add(IDSettingDeprec, SeverityWarning, e, "%s/%s is deprecated", c.Name, p)
		}
		if !e.HasElements() && !s.ValueAllowed(e.Content()) {
			v.add(IDSettingValue, SeverityError, e, "%s/%s is %q; the reference allows %s", c.Name, p, e.Content(), strings.Join(s.Values, ", "))
		}
		if strings.EqualFold(c.Name, "Microsoft-Windows-Shell-Setup") && p == "ComputerName" {
			if err := CheckComputerName(e.Content()); err != nil {
				v.add(IDComputerName, SeverityError, e, "ComputerName %v", err)
			}
		}
		if strings.EqualFold(c.Name, "Microsoft-Windows-Shell-Setup") && p == "TimeZone" && !e.HasElements() {
			if err := CheckTimeZone(strings.TrimSpace(e.Content())); err != nil {
				v.add(IDTimeZone, SeverityWarning, e, "TimeZone %v", err)
			}
		}
		v.children(c, e, p, true, wrongPass)
	}
}

// listAttrs checks wcm:action and wcm:keyValue of a list item among its
// siblings.
func (v *validator) listAttrs(e *Node, keys map[string]map[string]*Node) {
	if a, ok := e.wcmAttr("action"); ok {
		switch a {
		case "add", "modify", "remove":
		default:
			v.add(IDListAction, SeverityError, e, "<%s> has wcm:action=%q; it must be add, modify or remove", e.Name, a)
		}
	}
	kv, ok := e.wcmAttr("keyValue")
	if !ok {
		return
	}
	byKey := keys[e.Name.Local]
	if byKey == nil {
		byKey = map[string]*Node{}
		keys[e.Name.Local] = byKey
	}
	if first, dup := byKey[kv]; dup {
		v.add(IDListKeyDup, SeverityError, e, "<%s> repeats wcm:keyValue=%q of its sibling at line %d", e.Name, kv, first.Line)
		return
	}
	byKey[kv] = e
}

func (v *validator) password(c *Component, e *Node) {
	value := e.Child("Value")
	plain := e.Child("PlainText")
	text := value.Content()
	hidden, err := parseBool(plain.Content())
	if err != nil {
		return // PlainText's own value is reported by the enumeration check
	}
	switch {
	case text == Redacted:
	case !hidden:
		if _, err := DecodePassword(text, e.Name.Local); err != nil && text != "" {
			v.add(IDPasswordEncoding, SeverityError, value, "<%s> says PlainText=false but its Value is not a hidden password: %v", e.Name, err)
		}
	default:
		if text != "" {
			v.add(IDPasswordPlain, SeverityWarning, value, "%s %s is stored in plain text; `reseal unattend password encode` hides it", c.Name, e.Path())
		}
	}
}

func (v *validator) generalizeReseal(pass string, s *Node) {
	type pair struct{ generalize, reseal *Node }
	byArch := map[string]*pair{}
	for _, cn := range s.Elements() {
		c := componentOf(pass, cn)
		if cn.Name.Local != "component" || !strings.EqualFold(c.Name, "Microsoft-Windows-Deployment") {
			continue
		}
		p := byArch[c.Arch]
		if p == nil {
			p = &pair{}
			byArch[c.Arch] = p
		}
		if g := cn.Child("Generalize"); g != nil && p.generalize == nil {
			p.generalize = g
		}
		if r := cn.Child("Reseal"); r != nil && p.reseal == nil {
			p.reseal = r
		}
	}
	for arch, p := range byArch {
		if p.generalize != nil && p.reseal != nil {
			v.add(IDGeneralizeReseal, SeverityWarning, p.reseal, "pass %s (%s) has both Generalize (line %d) and Reseal: Windows ignores Reseal", pass, arch, p.generalize.Line)
		}
	}
}
