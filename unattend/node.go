package unattend

import "strings"

// Namespaces an answer file uses.
const (
	NamespaceUnattend = "urn:schemas-microsoft-com:unattend"
	NamespaceWCM      = "http://schemas.microsoft.com/WMIConfig/2002/State"
	NamespaceXSI      = "http://www.w3.org/2001/XMLSchema-instance"
	NamespaceCPI      = "urn:schemas-microsoft-com:cpi"
	namespaceXML      = "http://www.w3.org/XML/1998/namespace"
	namespaceXMLNS    = "http://www.w3.org/2000/xmlns/"
)

// NodeKind tells what a Node is.
type NodeKind uint8

const (
	DocumentNode NodeKind = iota // the whole file; its children are the prolog, the root and what follows
	ElementNode
	TextNode    // character data, entities already decoded
	CommentNode // <!--Text-->
	ProcInstNode
)

// Name is an XML name as it was written: the prefix is kept so that the file
// is written back the way it was read.
type Name struct {
	Prefix string // "" when unprefixed
	Local  string
}

func (n Name) String() string {
	if n.Prefix == "" {
		return n.Local
	}
	return n.Prefix + ":" + n.Local
}

// Attr is one attribute, in document order.
type Attr struct {
	Name  Name
	Space string // namespace the prefix is bound to ("" for unprefixed attributes)
	Value string
}

// Node is one node of an answer file's XML tree. The tree holds everything
// the file held, understood or not: unknown components and elements,
// comments, processing instructions, namespace declarations and the
// whitespace between elements, so that writing it back loses nothing.
type Node struct {
	Kind     NodeKind
	Name     Name   // element name; processing instruction target in Name.Local
	Space    string // namespace URI of an element ("" when its prefix is undeclared)
	Attrs    []Attr
	Children []*Node
	Parent   *Node
	Text     string // text, comment, or processing instruction content

	// Line and Column (1-based; the column counts bytes of the UTF-8 form)
	// of the node's first character in the input. Zero for nodes built in
	// memory.
	Line, Column int

	// SelfClosing records <x/> so that an empty element is written back the
	// way it was; it matters only while the element has no children.
	SelfClosing bool
}

// IsElement reports whether n is an element named local in namespace space
// (any namespace when space is "*").
func (n *Node) IsElement(space, local string) bool {
	return n != nil && n.Kind == ElementNode && n.Name.Local == local && (space == "*" || n.Space == space)
}

// Elements returns the element children of n.
func (n *Node) Elements() []*Node {
	var out []*Node
	for _, c := range n.Children {
		if c.Kind == ElementNode {
			out = append(out, c)
		}
	}
	return out
}

// Child returns the first element child with that local name, or nil.
func (n *Node) Child(local string) *Node {
	for _, c := range n.Children {
		if c.Kind == ElementNode && c.Name.Local == local {
			return c
		}
	}
	return nil
}

// HasElements reports whether n has any element child.
func (n *Node) HasElements() bool {
	for _, c := range n.Children {
		if c.Kind == ElementNode {
			return true
		}
	}
	return false
}

// Attr returns the value of an attribute by namespace and local name; space
// is "" for an unprefixed attribute.
func (n *Node) Attr(space, local string) (string, bool) {
	for _, a := range n.Attrs {
		if a.Name.Local == local && a.Space == space && a.Name.Prefix != "xmlns" && !(a.Name.Prefix == "" && a.Name.Local == "xmlns") {
			return a.Value, true
		}
	}
	return "", false
}

// SetAttr sets an attribute, replacing its value when present. A new
// attribute is written with prefix, which must be declared (or "").
func (n *Node) SetAttr(prefix, space, local, value string) {
	for i, a := range n.Attrs {
		if a.Name.Local == local && a.Space == space && a.Name.Prefix != "xmlns" {
			n.Attrs[i].Value = value
			return
		}
	}
	n.Attrs = append(n.Attrs, Attr{Name: Name{prefix, local}, Space: space, Value: value})
}

// wcmAttr returns a wcm:... attribute. A file that uses the wcm prefix
// without declaring it is reported by Validate; its attributes are still
// read here so that one mistake does not hide the others.
func (n *Node) wcmAttr(local string) (string, bool) {
	if v, ok := n.Attr(NamespaceWCM, local); ok {
		return v, true
	}
	for _, a := range n.Attrs {
		if a.Name.Prefix == "wcm" && a.Name.Local == local && a.Space == "" {
			return a.Value, true
		}
	}
	return "", false
}

// Action returns the element's wcm:action ("add", "modify", "remove"), or "".
func (n *Node) Action() string { v, _ := n.wcmAttr("action"); return v }

// KeyValue returns the element's wcm:keyValue, or "".
func (n *Node) KeyValue() string { v, _ := n.wcmAttr("keyValue"); return v }

// Content returns the character data directly inside n, with surrounding
// white space removed (answer files are indented freely; Windows Setup
// ignores that space too).
func (n *Node) Content() string {
	var b strings.Builder
	for _, c := range n.Children {
		if c.Kind == TextNode {
			b.WriteString(c.Text)
		}
	}
	return strings.TrimSpace(b.String())
}

// SetContent replaces the children of n by one text node.
func (n *Node) SetContent(text string) {
	n.Children = []*Node{{Kind: TextNode, Text: text, Parent: n}}
}

// Path returns the element names from below the component down to n,
// joined by "/", or "" when n is not inside a component.
func (n *Node) Path() string {
	var parts []string
	for e := n; e != nil && e.Kind == ElementNode; e = e.Parent {
		if e.Name.Local == "component" && e.Parent != nil && e.Parent.Name.Local == "settings" {
			// reverse
			for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
				parts[i], parts[j] = parts[j], parts[i]
			}
			return strings.Join(parts, "/")
		}
		parts = append(parts, e.Name.Local)
	}
	return ""
}

// depth is the number of element ancestors of n.
func (n *Node) depth() int {
	d := 0
	for p := n.Parent; p != nil && p.Kind == ElementNode; p = p.Parent {
		d++
	}
	return d
}

// appendElement adds child as the last element of n, indented like a file
// Windows System Image Manager writes, and returns it.
func (n *Node) appendElement(child *Node, indent string) *Node {
	child.Parent = n
	d := n.depth()
	inner := "\n" + strings.Repeat(indent, d+1)
	outer := "\n" + strings.Repeat(indent, d)
	n.SelfClosing = false
	if k := len(n.Children); k > 0 && n.Children[k-1].Kind == TextNode && strings.TrimSpace(n.Children[k-1].Text) == "" && n.HasElements() {
		// Keep the closing tag's indentation last.
		last := n.Children[k-1]
		n.Children = append(n.Children[:k-1], &Node{Kind: TextNode, Text: inner, Parent: n}, child, last)
		return child
	}
	if !n.HasElements() {
		n.Children = nil // drop white space only content
	}
	n.Children = append(n.Children, &Node{Kind: TextNode, Text: inner, Parent: n}, child, &Node{Kind: TextNode, Text: outer, Parent: n})
	return child
}

func newElement(space, prefix, local string) *Node {
	return &Node{Kind: ElementNode, Name: Name{prefix, local}, Space: space}
}
