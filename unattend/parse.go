package unattend

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Limits on what Parse accepts. Real answer files are a few tens of
// kilobytes, a dozen elements deep and a few thousand nodes; these bounds are
// far above that and keep a hostile input from costing more than a few
// hundred megabytes.
const (
	MaxFileSize = 16 << 20 // bytes of input
	MaxDepth    = 128      // nested elements
	MaxNodes    = 100_000  // elements, attributes, texts, comments (the corpus's largest file has 855)
)

// Stable identifiers of parse failures; they are also the Finding IDs that
// Check reports.
const (
	IDMalformed = "xml.malformed" // not well-formed XML
	IDEncoding  = "xml.encoding"  // bad byte order, invalid UTF-16/UTF-8, unsupported charset
	IDLimit     = "xml.limit"     // larger, deeper or with more nodes than the limits
	IDDoctype   = "xml.doctype"   // a DOCTYPE or other directive: refused, never expanded
)

// ParseError is a file that could not be read as an answer file.
type ParseError struct {
	ID           string // IDMalformed, IDEncoding, IDLimit or IDDoctype
	Line, Column int    // where the problem was found (0 when unknown)
	Msg          string
	Err          error // the underlying error, if any
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
	}
	return e.Msg
}

func (e *ParseError) Unwrap() error { return e.Err }

// Encoding is the character encoding a file was read in; WriteTo writes the
// file back in the same one.
type Encoding uint8

const (
	UTF8    Encoding = iota // no byte order mark
	UTF8BOM                 // EF BB BF
	UTF16LE                 // FF FE
	UTF16BE                 // FE FF
)

func (e Encoding) String() string {
	return [...]string{"UTF-8", "UTF-8 with BOM", "UTF-16LE", "UTF-16BE"}[e]
}

// ParseFile reads an answer file.
func ParseFile(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	f, err := Parse(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Parse reads an answer file in UTF-8 or UTF-16 (with a byte order mark).
// It reads at most MaxFileSize+1 bytes: a larger input is refused without
// being read to its end. DOCTYPE declarations are refused, so no entity is
// ever defined or expanded. The error is a *ParseError for any problem of
// the content.
func Parse(r io.Reader) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, &ParseError{ID: IDLimit, Msg: fmt.Sprintf("larger than %d MiB: not an answer file", MaxFileSize>>20)}
	}
	text, enc, err := toUTF8(data)
	if err != nil {
		return nil, err
	}
	p := &parser{dec: xml.NewDecoder(bytes.NewReader(text)), text: text, utf16: enc == UTF16LE || enc == UTF16BE}
	p.dec.Strict = true
	p.dec.CharsetReader = charsetReader
	doc, err := p.parse()
	if err != nil {
		return nil, err
	}
	f := &File{Doc: doc, Encoding: enc, CRLF: bytes.Contains(text, []byte("\r\n")), namespaceErrors: p.namespaceErrors}
	for _, c := range doc.Children {
		if c.Kind == ElementNode {
			f.Root = c
		}
	}
	return f, nil
}

// charsetReader accepts the labels an answer file declares. The bytes have
// already been transcoded to UTF-8 from what the byte order mark says, so
// the label only has to be one that agrees.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "utf-16", "utf16", "utf-16le", "utf-16be", "unicode", "us-ascii", "ascii":
		return r, nil
	}
	return nil, &ParseError{ID: IDEncoding, Msg: fmt.Sprintf("encoding %q is not supported (answer files are UTF-8 or UTF-16)", label)}
}

// toUTF8 detects the encoding from the byte order mark (or, without one,
// from a UTF-16 "<" as the first character) and returns the text as UTF-8.
func toUTF8(data []byte) ([]byte, Encoding, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return checkUTF8(data[3:], UTF8BOM)
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		return decodeUTF16(data[2:], false)
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return decodeUTF16(data[2:], true)
	case bytes.HasPrefix(data, []byte{'<', 0}):
		return decodeUTF16(data, false)
	case bytes.HasPrefix(data, []byte{0, '<'}):
		return decodeUTF16(data, true)
	}
	return checkUTF8(data, UTF8)
}

func checkUTF8(data []byte, enc Encoding) ([]byte, Encoding, error) {
	if !utf8.Valid(data) {
		off := 0
		for off < len(data) {
			r, n := utf8.DecodeRune(data[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		line := 1 + bytes.Count(data[:off], []byte("\n"))
		return nil, enc, &ParseError{ID: IDEncoding, Line: line, Column: off - bytes.LastIndexByte(data[:off], '\n'),
			Msg: fmt.Sprintf("invalid UTF-8 at byte %d", off)}
	}
	return data, enc, nil
}

func decodeUTF16(data []byte, bigEndian bool) ([]byte, Encoding, error) {
	enc := UTF16LE
	if bigEndian {
		enc = UTF16BE
	}
	if len(data)%2 != 0 {
		return nil, enc, &ParseError{ID: IDEncoding, Msg: fmt.Sprintf("%s input has an odd number of bytes (%d)", enc, len(data))}
	}
	out := make([]byte, 0, len(data)/2*3/2)
	unit := func(i int) uint16 {
		if bigEndian {
			return uint16(data[i])<<8 | uint16(data[i+1])
		}
		return uint16(data[i]) | uint16(data[i+1])<<8
	}
	for i := 0; i < len(data); i += 2 {
		u := rune(unit(i))
		switch {
		case utf16.IsSurrogate(u):
			if u >= 0xDC00 || i+2 >= len(data) {
				return nil, enc, &ParseError{ID: IDEncoding, Msg: fmt.Sprintf("unpaired UTF-16 surrogate at byte %d", i+2)}
			}
			r := utf16.DecodeRune(u, rune(unit(i+2)))
			if r == utf8.RuneError {
				return nil, enc, &ParseError{ID: IDEncoding, Msg: fmt.Sprintf("unpaired UTF-16 surrogate at byte %d", i+2)}
			}
			out = utf8.AppendRune(out, r)
			i += 2
		default:
			out = utf8.AppendRune(out, u)
		}
	}
	return out, enc, nil
}

type parser struct {
	dec             *xml.Decoder
	utf16           bool // the input was UTF-16
	text            []byte
	nodes           int
	namespaceErrors []*Node // elements using an undeclared prefix (on the element or an attribute)
}

// scope maps prefixes to namespaces for one element and its descendants.
type scope struct {
	parent   *scope
	bindings map[string]string
}

func (s *scope) lookup(prefix string) (string, bool) {
	switch prefix {
	case "xml":
		return namespaceXML, true
	case "xmlns":
		return namespaceXMLNS, true
	}
	for ; s != nil; s = s.parent {
		if ns, ok := s.bindings[prefix]; ok {
			return ns, true
		}
	}
	return "", prefix == ""
}

func (p *parser) errorAt(id string, line, col int, err error, format string, args ...any) *ParseError {
	return &ParseError{ID: id, Line: line, Column: col, Msg: fmt.Sprintf(format, args...), Err: err}
}

func (p *parser) count(n int) error {
	p.nodes += n
	if p.nodes > MaxNodes {
		line, col := p.dec.InputPos()
		return p.errorAt(IDLimit, line, col, nil, "more than %d nodes: not an answer file", MaxNodes)
	}
	return nil
}

func (p *parser) parse() (*Node, error) {
	doc := &Node{Kind: DocumentNode}
	cur := doc
	sc := &scope{}
	var scopes []*scope
	var openOffset int64 // input offset just after the current element's start tag
	seenRoot := false
	for {
		line, col := p.dec.InputPos()
		start := p.dec.InputOffset()
		tok, err := p.dec.RawToken()
		if err == nil {
			if err := p.checkRaw(tok, p.text[start:p.dec.InputOffset()], line, col); err != nil {
				return nil, err
			}
		}
		if err == io.EOF {
			if cur != doc {
				l, c := p.dec.InputPos()
				return nil, p.errorAt(IDMalformed, l, c, nil, "unexpected end of file: <%s> opened at line %d is not closed", cur.Name, cur.Line)
			}
			if !seenRoot {
				return nil, p.errorAt(IDMalformed, 0, 0, nil, "no root element")
			}
			return doc, nil
		}
		if err != nil {
			var pe *ParseError
			if errors.As(err, &pe) {
				return nil, pe
			}
			l, c := p.dec.InputPos()
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				if se.Line != l {
					c = 0
				}
				return nil, p.errorAt(IDMalformed, se.Line, c, err, "%s", se.Msg)
			}
			return nil, p.errorAt(IDMalformed, l, c, err, "%v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if cur == doc && seenRoot {
				return nil, p.errorAt(IDMalformed, line, col, nil, "second root element <%s>", rawName(t.Name))
			}
			if len(scopes) >= MaxDepth {
				return nil, p.errorAt(IDLimit, line, col, nil, "elements nested deeper than %d: not an answer file", MaxDepth)
			}
			if err := p.count(1 + len(t.Attr)); err != nil {
				return nil, err
			}
			seenRoot = true
			if !validName(Name{t.Name.Space, t.Name.Local}) {
				return nil, p.errorAt(IDMalformed, line, col, nil, "%q is not a valid element name", rawName(t.Name))
			}
			for _, a := range t.Attr {
				if !validName(Name{a.Name.Space, a.Name.Local}) {
					return nil, p.errorAt(IDMalformed, line, col, nil, "%q is not a valid attribute name", rawName(a.Name))
				}
			}
			n := &Node{Kind: ElementNode, Name: Name{t.Name.Space, t.Name.Local}, Parent: cur, Line: line, Column: col}
			inner := &scope{parent: sc}
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "xmlns":
					if err := checkPrefixBinding(a.Name.Local, a.Value); err != nil {
						return nil, p.errorAt(IDMalformed, line, col, nil, "%v", err)
					}
					if inner.bindings == nil {
						inner.bindings = map[string]string{}
					}
					inner.bindings[a.Name.Local] = a.Value
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					if inner.bindings == nil {
						inner.bindings = map[string]string{}
					}
					inner.bindings[""] = a.Value
				}
			}
			seen := make(map[Name]bool, len(t.Attr))
			seenExpanded := make(map[[2]string]bool, len(t.Attr))
			undeclared := false
			for _, a := range t.Attr {
				an := Name{a.Name.Space, a.Name.Local}
				if seen[an] {
					return nil, p.errorAt(IDMalformed, line, col, nil, "attribute %s appears twice in <%s>", an, n.Name)
				}
				seen[an] = true
				attr := Attr{Name: an, Value: a.Value}
				if an.Prefix != "" && an.Prefix != "xmlns" {
					ns, ok := inner.lookup(an.Prefix)
					attr.Space = ns
					undeclared = undeclared || !ok
					if ok {
						k := [2]string{ns, an.Local}
						if seenExpanded[k] {
							return nil, p.errorAt(IDMalformed, line, col, nil, "attribute {%s}%s appears twice in <%s> under two prefixes", ns, an.Local, n.Name)
						}
						seenExpanded[k] = true
					}
				}
				n.Attrs = append(n.Attrs, attr)
			}
			ns, ok := inner.lookup(n.Name.Prefix)
			n.Space = ns
			if !ok || undeclared {
				p.namespaceErrors = append(p.namespaceErrors, n)
			}
			cur.Children = append(cur.Children, n)
			cur = n
			scopes = append(scopes, sc)
			sc = inner
			openOffset = p.dec.InputOffset()
		case xml.EndElement:
			if cur == doc || cur.Name != (Name{t.Name.Space, t.Name.Local}) {
				if cur == doc {
					return nil, p.errorAt(IDMalformed, line, col, nil, "unexpected end tag </%s>", rawName(t.Name))
				}
				return nil, p.errorAt(IDMalformed, line, col, nil, "end tag </%s> does not match <%s> opened at line %d", rawName(t.Name), cur.Name, cur.Line)
			}
			// <x/> yields its end without consuming input.
			cur.SelfClosing = len(cur.Children) == 0 && p.dec.InputOffset() == openOffset
			cur = cur.Parent
			sc = scopes[len(scopes)-1]
			scopes = scopes[:len(scopes)-1]
			openOffset = -1
		case xml.CharData:
			if cur == doc && len(bytes.TrimSpace(t)) > 0 {
				lead := t[:len(t)-len(bytes.TrimLeft(t, " \t\r\n"))]
				if k := bytes.Count(lead, []byte("\n")); k > 0 {
					line, col = line+k, len(lead)-bytes.LastIndexByte(lead, '\n')
				} else {
					col += len(lead)
				}
				return nil, p.errorAt(IDMalformed, line, col, nil, "text outside the root element")
			}
			if err := p.count(1); err != nil {
				return nil, err
			}
			// Adjacent character data (text, then a CDATA section) is one text.
			if k := len(cur.Children); k > 0 && cur.Children[k-1].Kind == TextNode {
				cur.Children[k-1].Text += string(t)
				continue
			}
			cur.Children = append(cur.Children, &Node{Kind: TextNode, Text: string(t), Parent: cur, Line: line, Column: col})
		case xml.Comment:
			if err := p.count(1); err != nil {
				return nil, err
			}
			cur.Children = append(cur.Children, &Node{Kind: CommentNode, Text: normalizeNewlines(string(t)), Parent: cur, Line: line, Column: col})
		case xml.ProcInst:
			if err := p.count(1); err != nil {
				return nil, err
			}
			if !nameToken(t.Target) || t.Target == "" {
				return nil, p.errorAt(IDMalformed, line, col, nil, "%q is not a valid processing instruction target", t.Target)
			}
			if strings.EqualFold(t.Target, "xml") && (cur != doc || len(doc.Children) > 0) {
				return nil, p.errorAt(IDMalformed, line, col, nil, "XML declaration not at the start of the file")
			}
			if t.Target == "xml" {
				if label, is16, ok := declaredEncoding(string(t.Inst)); ok && is16 != p.utf16 {
					actual := "UTF-8"
					if p.utf16 {
						actual = "UTF-16"
					}
					return nil, p.errorAt(IDEncoding, line, col, nil, "the declaration says encoding %q but the file is %s", label, actual)
				}
			}
			cur.Children = append(cur.Children, &Node{Kind: ProcInstNode, Name: Name{Local: t.Target}, Text: normalizeNewlines(string(t.Inst)), Parent: cur, Line: line, Column: col})
		case xml.Directive:
			kind := strings.Fields(string(t))
			what := "directive"
			if len(kind) > 0 {
				what = "<!" + kind[0] + ">"
			}
			return nil, p.errorAt(IDDoctype, line, col, nil, "%s is refused: answer files have no document type, and reseal never defines or expands entities", what)
		}
	}
}

func rawName(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// normalizeNewlines does XML's end-of-line handling for the content the
// decoder hands over raw (comments, processing instructions).
func normalizeNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

var (
	charRef = regexp.MustCompile(`&#(x[0-9A-Fa-f]+|[0-9]+);`)
	// xmlDecl is XML 1.0's XMLDecl after "<?xml": version, then optional
	// encoding and standalone, in that order.
	xmlDecl = regexp.MustCompile(`^version\s*=\s*("1\.[0-9]+"|'1\.[0-9]+')(\s+encoding\s*=\s*("[A-Za-z][A-Za-z0-9._-]*"|'[A-Za-z][A-Za-z0-9._-]*'))?(\s+standalone\s*=\s*("(yes|no)"|'(yes|no)'))?\s*$`)
)

// checkRaw catches what encoding/xml lets through although XML forbids it:
// attributes not separated by white space, character references to
// surrogates, a malformed XML declaration, a reserved "xml" target.
func (p *parser) checkRaw(tok xml.Token, raw []byte, line, col int) error {
	switch t := tok.(type) {
	case xml.StartElement:
		if err := checkTagSpacing(raw); err != nil {
			return p.errorAt(IDMalformed, line, col, nil, "<%s>: %v", rawName(t.Name), err)
		}
	case xml.ProcInst:
		switch {
		case t.Target == "xml":
			if !xmlDecl.Match(bytes.TrimSpace(t.Inst)) {
				return p.errorAt(IDMalformed, line, col, nil, "malformed XML declaration %q", t.Inst)
			}
			return nil
		case strings.EqualFold(t.Target, "xml"):
			return p.errorAt(IDMalformed, line, col, nil, "processing instruction target %q is reserved", t.Target)
		}
		return nil
	case xml.CharData:
		if bytes.Contains(raw, []byte("<![CDATA[")) {
			return nil // its "&#" is literal text, not a reference
		}
	default:
		return nil
	}
	for _, m := range charRef.FindAllSubmatch(raw, -1) {
		ref := string(m[1])
		var v uint64
		var err error
		if ref[0] == 'x' {
			v, err = strconv.ParseUint(ref[1:], 16, 32)
		} else {
			v, err = strconv.ParseUint(ref, 10, 32)
		}
		if err != nil || v >= 0xD800 && v <= 0xDFFF || v == 0xFFFE || v == 0xFFFF {
			return p.errorAt(IDMalformed, line, col, nil, "character reference &#%s; is not a character XML allows", ref)
		}
	}
	return nil
}

// checkTagSpacing walks a start tag's raw bytes and requires white space
// before each attribute.
func checkTagSpacing(raw []byte) error {
	i := 1
	for i < len(raw) && !isSpace(raw[i]) && raw[i] != '>' && raw[i] != '/' {
		i++ // element name
	}
	for i < len(raw) {
		c := raw[i]
		if c == '"' || c == '\'' {
			end := bytes.IndexByte(raw[i+1:], c)
			if end < 0 {
				return nil // encoding/xml has already judged this
			}
			i += end + 2
			if i < len(raw) && !isSpace(raw[i]) && raw[i] != '>' && raw[i] != '/' {
				return fmt.Errorf("no white space before attribute at %q", raw[i:min(len(raw), i+12)])
			}
			continue
		}
		i++
	}
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// checkPrefixBinding applies the rules of Namespaces in XML 1.0 to
// xmlns:prefix="uri".
func checkPrefixBinding(prefix, uri string) error {
	switch {
	case uri == "":
		return fmt.Errorf("xmlns:%s=\"\": a prefix cannot be undeclared", prefix)
	case prefix == "xmlns":
		return fmt.Errorf("the xmlns prefix cannot be declared")
	case prefix == "xml" && uri != namespaceXML, prefix != "xml" && uri == namespaceXML:
		return fmt.Errorf("xmlns:%s=%q: the xml prefix and its namespace belong to each other", prefix, uri)
	case uri == namespaceXMLNS:
		return fmt.Errorf("xmlns:%s: the xmlns namespace cannot be bound", prefix)
	}
	return nil
}
