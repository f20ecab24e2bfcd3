package unattend

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// WriteTo writes the file in the encoding it was read in (UTF-8 for a file
// built in memory), with its line ends, comments, processing instructions,
// unknown elements and namespace prefixes as they were. What may differ from
// the input is only what XML does not distinguish: quoting of attributes,
// white space inside tags, CDATA sections (written as escaped text) and
// character references.
func (f *File) WriteTo(w io.Writer) (int64, error) {
	cw := &countingWriter{w: w}
	var sink io.Writer = cw
	var u16 *utf16Writer
	switch f.Encoding {
	case UTF8BOM:
		if _, err := cw.Write([]byte{0xEF, 0xBB, 0xBF}); err != nil {
			return cw.n, err
		}
	case UTF16LE, UTF16BE:
		u16 = &utf16Writer{w: cw, bigEndian: f.Encoding == UTF16BE}
		if err := u16.writeRune(0xFEFF); err != nil {
			return cw.n, err
		}
		sink = u16
	}
	bw := bufio.NewWriter(sink)
	xw := &xmlWriter{w: bw, newline: "\n", utf16: u16 != nil}
	if f.CRLF {
		xw.newline = "\r\n"
	}
	if f.Doc == nil {
		return cw.n, fmt.Errorf("unattend: write: empty file")
	}
	for _, c := range f.Doc.Children {
		xw.node(c)
	}
	if xw.err == nil {
		xw.err = bw.Flush()
	}
	if xw.err == nil && u16 != nil {
		xw.err = u16.flush()
	}
	return cw.n, xw.err
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// utf16Writer transcodes the UTF-8 it is given, which may arrive split in
// the middle of a character.
type utf16Writer struct {
	w         io.Writer
	bigEndian bool
	pending   []byte
}

func (u *utf16Writer) Write(p []byte) (int, error) {
	data := append(u.pending, p...)
	out := make([]byte, 0, len(data)*2)
	i := 0
	for i < len(data) {
		if !utf8.FullRune(data[i:]) {
			break
		}
		r, n := utf8.DecodeRune(data[i:])
		out = u.appendRune(out, r)
		i += n
	}
	u.pending = append(u.pending[:0:0], data[i:]...)
	if _, err := u.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (u *utf16Writer) appendRune(out []byte, r rune) []byte {
	var units []uint16
	if r >= 0x10000 {
		a, b := utf16.EncodeRune(r)
		units = []uint16{uint16(a), uint16(b)}
	} else {
		units = []uint16{uint16(r)}
	}
	for _, x := range units {
		if u.bigEndian {
			out = append(out, byte(x>>8), byte(x))
		} else {
			out = append(out, byte(x), byte(x>>8))
		}
	}
	return out
}

func (u *utf16Writer) writeRune(r rune) error {
	_, err := u.w.Write(u.appendRune(nil, r))
	return err
}

func (u *utf16Writer) flush() error {
	if len(u.pending) > 0 {
		return fmt.Errorf("unattend: write: truncated UTF-8 sequence")
	}
	return nil
}

type xmlWriter struct {
	w       *bufio.Writer
	newline string
	utf16   bool // the output is UTF-16: the declaration must say so
	err     error
}

func (x *xmlWriter) str(s string) {
	if x.err == nil {
		_, x.err = x.w.WriteString(s)
	}
}

// lines writes s with its line ends in the file's style.
func (x *xmlWriter) lines(s string) {
	if x.newline != "\n" {
		s = strings.ReplaceAll(s, "\n", x.newline)
	}
	x.str(s)
}

func (x *xmlWriter) node(n *Node) {
	if x.err != nil {
		return
	}
	switch n.Kind {
	case TextNode:
		x.text(n.Text)
	case CommentNode:
		if strings.Contains(n.Text, "--") || strings.HasSuffix(n.Text, "-") {
			x.err = fmt.Errorf("unattend: write: comment %q cannot be written in XML", n.Text)
			return
		}
		x.str("<!--")
		x.lines(n.Text)
		x.str("-->")
	case ProcInstNode:
		if strings.Contains(n.Text, "?>") || n.Name.Local == "" {
			x.err = fmt.Errorf("unattend: write: processing instruction %q cannot be written in XML", n.Name.Local)
			return
		}
		x.str("<?" + n.Name.Local)
		text := n.Text
		if n.Name.Local == "xml" {
			text = declarationFor(text, x.utf16)
		}
		if text != "" {
			x.str(" ")
			x.lines(text)
		}
		x.str("?>")
	case ElementNode:
		if !validName(n.Name) {
			x.err = fmt.Errorf("unattend: write: %q is not an XML name", n.Name.String())
			return
		}
		x.str("<" + n.Name.String())
		for _, a := range n.Attrs {
			if !validName(a.Name) {
				x.err = fmt.Errorf("unattend: write: attribute %q of <%s> is not an XML name", a.Name.String(), n.Name)
				return
			}
			x.str(" " + a.Name.String() + `="`)
			x.attrValue(a.Value)
			x.str(`"`)
		}
		if len(n.Children) == 0 && n.SelfClosing {
			x.str(" />")
			return
		}
		x.str(">")
		for _, c := range n.Children {
			x.node(c)
		}
		x.str("</" + n.Name.String() + ">")
	case DocumentNode:
		for _, c := range n.Children {
			x.node(c)
		}
	}
}

func (x *xmlWriter) text(s string) {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\r':
			b.WriteString("&#xD;")
		case '\n':
			b.WriteString(x.newline)
		default:
			if !xmlChar(r) {
				x.err = fmt.Errorf("unattend: write: character %U cannot be written in XML", r)
				return
			}
			b.WriteRune(r)
		}
	}
	x.str(b.String())
}

func (x *xmlWriter) attrValue(s string) {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '"':
			b.WriteString("&quot;")
		case '\t':
			b.WriteString("&#x9;")
		case '\n':
			b.WriteString("&#xA;")
		case '\r':
			b.WriteString("&#xD;")
		default:
			if !xmlChar(r) {
				x.err = fmt.Errorf("unattend: write: character %U cannot be written in XML", r)
				return
			}
			b.WriteRune(r)
		}
	}
	x.str(b.String())
}

// xmlChar is XML 1.0's Char production.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

func validName(n Name) bool {
	return n.Local != "" && nameToken(n.Local) && (n.Prefix == "" || nameToken(n.Prefix))
}

func nameToken(s string) bool {
	for i, r := range s {
		ok := r == '_' || r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= 0x80
		if !ok || i == 0 && (r == '-' || r == '.' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

var encodingDecl = regexp.MustCompile(`(encoding\s*=\s*)("[^"]*"|'[^']*')`)

// declarationFor makes the XML declaration's encoding agree with the
// encoding the file is written in (it may have been changed since it was
// read); a declaration that already agrees is kept as it was.
func declarationFor(decl string, utf16 bool) string {
	_, is16, ok := declaredEncoding(decl)
	if !ok || is16 == utf16 {
		return decl // no encoding named (both are detected from the BOM), or it agrees
	}
	want := `"utf-8"`
	if utf16 {
		want = `"utf-16"`
	}
	return encodingDecl.ReplaceAllString(decl, "${1}"+want)
}

// declaredEncoding returns the encoding an XML declaration names, and
// whether it is a UTF-16 one.
func declaredEncoding(decl string) (label string, utf16, ok bool) {
	m := encodingDecl.FindStringSubmatch(decl)
	if m == nil {
		return "", false, false
	}
	label = strings.Trim(m[2], `"'`)
	l := strings.ToLower(label)
	return label, strings.HasPrefix(l, "utf-16") || strings.HasPrefix(l, "utf16") || l == "unicode", true
}
