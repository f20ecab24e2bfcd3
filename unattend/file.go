// Package unattend reads, checks, edits and writes Windows answer files
// (unattend.xml, autounattend.xml): the XML that drives Windows Setup and
// Sysprep through its configuration passes.
//
// Parse keeps the whole XML tree, including what it does not understand, so
// that WriteTo gives the file back without loss; the answer-file view on top
// of it (passes, components, settings, list items) reads and edits that tree.
// Validate checks a file against the settings catalog of Microsoft's
// Unattended Windows Setup Reference, embedded in the binary.
package unattend

import (
	"fmt"
	"strconv"
	"strings"
)

// Architectures a component may declare in processorArchitecture.
var Architectures = []string{"x86", "amd64", "arm64", "arm", "ia64", "wow64"}

// File is a parsed answer file.
type File struct {
	Doc      *Node // the document: prolog, root element, trailing comments
	Root     *Node // the root element, normally <unattend>
	Encoding Encoding
	CRLF     bool // lines end in CR LF; kept when writing

	namespaceErrors []*Node
}

// Component is one <component> of a <settings pass="..."> block.
type Component struct {
	Pass           string
	Name           string
	Arch           string // processorArchitecture
	PublicKeyToken string
	Language       string
	VersionScope   string
	Node           *Node // the <component> element
}

// Item is one entry of a list setting (RunSynchronousCommand,
// PathAndCredentials, LocalAccount, ...).
type Item struct {
	Action   string // wcm:action: add, modify or remove
	KeyValue string // wcm:keyValue, "" when none
	Node     *Node
}

// SettingsBlocks returns the <settings> elements of the file, in document
// order, with the pass each names.
func (f *File) SettingsBlocks() []*Node {
	if f.Root == nil {
		return nil
	}
	var out []*Node
	for _, c := range f.Root.Children {
		if c.Kind == ElementNode && c.Name.Local == "settings" {
			out = append(out, c)
		}
	}
	return out
}

// Passes lists the passes the file has settings for, in document order,
// each once.
func (f *File) Passes() []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range f.SettingsBlocks() {
		p, _ := s.Attr("", "pass")
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// Components returns every component of the file, in document order.
func (f *File) Components() []*Component {
	var out []*Component
	for _, s := range f.SettingsBlocks() {
		pass, _ := s.Attr("", "pass")
		for _, c := range s.Children {
			if c.Kind == ElementNode && c.Name.Local == "component" {
				out = append(out, componentOf(pass, c))
			}
		}
	}
	return out
}

func componentOf(pass string, n *Node) *Component {
	attr := func(name string) string { v, _ := n.Attr("", name); return v }
	return &Component{
		Pass:           pass,
		Name:           attr("name"),
		Arch:           attr("processorArchitecture"),
		PublicKeyToken: attr("publicKeyToken"),
		Language:       attr("language"),
		VersionScope:   attr("versionScope"),
		Node:           n,
	}
}

// Pass returns the components of one pass for one architecture ("" for any
// architecture), in document order. The generalize engine reads
// Pass("generalize", arch).
func (f *File) Pass(pass, arch string) []*Component {
	var out []*Component
	for _, c := range f.Components() {
		if c.Pass == pass && (arch == "" || c.Arch == arch) {
			out = append(out, c)
		}
	}
	return out
}

// Component returns the first component of that name (compared without
// regard to case, as Windows does) in a pass for an architecture ("" for
// any), or nil.
func (f *File) Component(pass, arch, name string) *Component {
	for _, c := range f.Pass(pass, arch) {
		if strings.EqualFold(c.Name, name) {
			return c
		}
	}
	return nil
}

// Setting returns the text of a setting: component name (e.g.
// "Microsoft-Windows-PnpSysprep"), a slash path below the component (e.g.
// "PersistAllDeviceInstalls", "UserAccounts/AdministratorPassword/Value") in
// the given pass for an architecture ("" matches any architecture). When
// several components or list items match, the first in document order wins.
func (f *File) Setting(pass, arch, component, path string) (string, bool) {
	for _, c := range f.Pass(pass, arch) {
		if !strings.EqualFold(c.Name, component) {
			continue
		}
		if v, ok := c.Text(path); ok {
			return v, true
		}
	}
	return "", false
}

// SettingBool reads a boolean setting ("true"/"false", any case, or 1/0).
// ok is false when the setting is absent; err reports a value that is not a
// boolean.
func (f *File) SettingBool(pass, arch, component, path string) (value, ok bool, err error) {
	s, ok := f.Setting(pass, arch, component, path)
	if !ok {
		return false, false, nil
	}
	v, err := parseBool(s)
	if err != nil {
		return false, true, fmt.Errorf("%s/%s in pass %s: %w", component, path, pass, err)
	}
	return v, true, nil
}

// SettingInt reads an integer setting.
func (f *File) SettingInt(pass, arch, component, path string) (value int64, ok bool, err error) {
	s, ok := f.Setting(pass, arch, component, path)
	if !ok {
		return 0, false, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, true, fmt.Errorf("%s/%s in pass %s: %q is not an integer", component, path, pass, s)
	}
	return v, true, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", s)
}

// Lookup returns the first element at a slash path below the component, or
// nil. Path steps match element local names exactly.
func (c *Component) Lookup(path string) *Node {
	n := c.Node
	for _, step := range strings.Split(path, "/") {
		if step == "" {
			continue
		}
		n = n.Child(step)
		if n == nil {
			return nil
		}
	}
	if n == c.Node {
		return nil
	}
	return n
}

// Text returns the text of the element at path; ok is false when absent or
// when the element holds elements rather than a value.
func (c *Component) Text(path string) (string, bool) {
	n := c.Lookup(path)
	if n == nil || n.HasElements() {
		return "", false
	}
	return n.Content(), true
}

// List returns the items of a list setting: the element children of the
// container at path (e.g. "RunSynchronous", "UserAccounts/LocalAccounts")
// with their wcm:action and wcm:keyValue.
func (c *Component) List(path string) []Item {
	n := c.Lookup(path)
	if n == nil {
		return nil
	}
	var out []Item
	for _, e := range n.Elements() {
		out = append(out, Item{Action: e.Action(), KeyValue: e.KeyValue(), Node: e})
	}
	return out
}

// defaultIndent is the indentation of elements added in memory.
const defaultIndent = "    "

// SetSetting sets the text of a setting, creating the <settings> block, the
// component (with the standard attributes for arch, which must then be
// given) and the elements of path that are missing.
func (f *File) SetSetting(pass, arch, component, path, value string) error {
	c := f.Component(pass, arch, component)
	if c == nil {
		var err error
		if c, err = f.AddComponent(pass, arch, component); err != nil {
			return err
		}
	}
	n := c.Node
	for _, step := range strings.Split(path, "/") {
		if step == "" {
			continue
		}
		next := n.Child(step)
		if next == nil {
			next = n.appendElement(newElement(n.Space, n.Name.Prefix, step), defaultIndent)
		}
		n = next
	}
	if n == c.Node {
		return fmt.Errorf("unattend: set %s: empty path", component)
	}
	n.SetContent(value)
	return nil
}

// AddComponent appends a component with the attributes Windows System Image
// Manager writes to the <settings> block of pass (created when missing).
func (f *File) AddComponent(pass, arch, name string) (*Component, error) {
	if !validArch(arch) {
		return nil, fmt.Errorf("unattend: component %s: processorArchitecture %q is not one of %s", name, arch, strings.Join(Architectures, ", "))
	}
	if f.Root == nil {
		return nil, fmt.Errorf("unattend: file has no root element")
	}
	var settings *Node
	for _, s := range f.SettingsBlocks() {
		if p, _ := s.Attr("", "pass"); p == pass {
			settings = s
			break
		}
	}
	if settings == nil {
		settings = newElement(f.Root.Space, f.Root.Name.Prefix, "settings")
		settings.Attrs = []Attr{{Name: Name{Local: "pass"}, Value: pass}}
		f.Root.appendElement(settings, defaultIndent)
	}
	comp := newElement(settings.Space, settings.Name.Prefix, "component")
	comp.Attrs = []Attr{
		{Name: Name{Local: "name"}, Value: name},
		{Name: Name{Local: "processorArchitecture"}, Value: arch},
		{Name: Name{Local: "publicKeyToken"}, Value: "31bf3856ad364e35"},
		{Name: Name{Local: "language"}, Value: "neutral"},
		{Name: Name{Local: "versionScope"}, Value: "nonSxS"},
		{Name: Name{Prefix: "xmlns", Local: "wcm"}, Value: NamespaceWCM},
		{Name: Name{Prefix: "xmlns", Local: "xsi"}, Value: NamespaceXSI},
	}
	settings.appendElement(comp, defaultIndent)
	return componentOf(pass, comp), nil
}

func validArch(a string) bool {
	for _, x := range Architectures {
		if a == x {
			return true
		}
	}
	return false
}

// New returns an empty answer file: a declaration and an <unattend> root.
func New() *File {
	doc := &Node{Kind: DocumentNode}
	decl := &Node{Kind: ProcInstNode, Name: Name{Local: "xml"}, Text: `version="1.0" encoding="utf-8"`, Parent: doc}
	root := &Node{Kind: ElementNode, Name: Name{Local: "unattend"}, Space: NamespaceUnattend, Parent: doc,
		Attrs: []Attr{{Name: Name{Local: "xmlns"}, Value: NamespaceUnattend}}}
	doc.Children = []*Node{decl, {Kind: TextNode, Text: "\n", Parent: doc}, root, {Kind: TextNode, Text: "\n", Parent: doc}}
	return &File{Doc: doc, Root: root}
}

// Leaf is one value of a component's settings tree.
type Leaf struct {
	// Path below the component; list items and repeated elements are
	// numbered from 1 ("FirstLogonCommands/SynchronousCommand[2]/Order") so
	// that every path is unique.
	Path     string
	Value    string // Content() of the element
	Action   string // wcm:action of the nearest list item above, if any
	KeyValue string // its wcm:keyValue
	Node     *Node
}

// Leaves returns every value of the component (elements without element
// children), in document order: the settings of a pass are the leaves of
// its components.
func (c *Component) Leaves() []Leaf {
	var out []Leaf
	var walk func(n *Node, path, action, key string)
	walk = func(n *Node, path, action, key string) {
		counts := map[string]int{}
		for _, e := range n.Elements() {
			counts[e.Name.Local]++
		}
		seen := map[string]int{}
		for _, e := range n.Elements() {
			name := e.Name.Local
			seen[name]++
			if counts[name] > 1 || e.Action() != "" {
				name = fmt.Sprintf("%s[%d]", name, seen[e.Name.Local])
			}
			p := name
			if path != "" {
				p = path + "/" + name
			}
			a, k := action, key
			if e.Action() != "" {
				a, k = e.Action(), e.KeyValue()
			}
			if !e.HasElements() {
				out = append(out, Leaf{Path: p, Value: e.Content(), Action: a, KeyValue: k, Node: e})
				continue
			}
			walk(e, p, a, k)
		}
	}
	walk(c.Node, "", "", "")
	return out
}
