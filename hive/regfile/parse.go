package regfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/reseal/reseal/hive"
)

// DefaultMaxValueSize bounds the data of one value read from a .reg file
// (and so the memory a Parser needs) unless ParseOptions says otherwise.
const DefaultMaxValueSize = 64 << 20

// ParseOptions tunes a Parser; the zero value is ready to use.
type ParseOptions struct {
	// MaxValueSize is the largest value data accepted, in bytes; 0 means
	// DefaultMaxValueSize. A longer value is an error, never an allocation.
	MaxValueSize int
}

// SyntaxError is a malformed line of a .reg file.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Parser reads the operations of a .reg file one at a time.
type Parser struct {
	r        *bufio.Reader
	encoding Encoding
	version  Version
	maxValue int
	maxLine  int
	line     int    // number of the last line read
	long     []byte // assembly buffer for lines longer than the reader's buffer
	key      string // the current [KEY] section, "" before the first
	deleted  bool   // the current section is a [-KEY]
	err      error  // sticky error
}

// NewParser reads the header of a .reg file and returns a parser for the
// rest. The encoding (UTF-16LE or UTF-16BE with a byte order mark, UTF-8,
// or 8-bit ANSI for REGEDIT4) is detected from the first bytes.
func NewParser(r io.Reader, opts *ParseOptions) (*Parser, error) {
	p := &Parser{maxValue: DefaultMaxValueSize}
	if opts != nil && opts.MaxValueSize > 0 {
		p.maxValue = opts.MaxValueSize
	}
	// Data is at most three characters a byte ("xx,") plus the name.
	p.maxLine = 3*p.maxValue + 64<<10
	br, enc, err := textReader(r)
	if err != nil {
		return nil, fmt.Errorf("read .reg header: %w", err)
	}
	p.r, p.encoding = br, enc
	for {
		line, err := p.readLine()
		if err == io.EOF {
			return nil, &SyntaxError{Line: max(p.line, 1), Msg: "empty file: no \"" + header5 + "\" or \"" + header4 + "\" header"}
		}
		if err != nil {
			return nil, err
		}
		text := string(bytes.TrimSpace(line))
		switch {
		case text == "":
			continue
		case text == header5:
			p.version = Version5
		case text == header4:
			p.version = Version4
		default:
			return nil, &SyntaxError{Line: p.line, Msg: fmt.Sprintf("not a .reg file: the header is %q, want %q or %q", clip(text, 60), header5, header4)}
		}
		return p, nil
	}
}

// Parse reads a whole .reg file into memory. Use NewParser and Next to
// stream large files.
func Parse(r io.Reader, opts *ParseOptions) ([]Op, Version, error) {
	p, err := NewParser(r, opts)
	if err != nil {
		return nil, 0, err
	}
	var ops []Op
	for {
		op, err := p.Next()
		if err == io.EOF {
			return ops, p.Version(), nil
		}
		if err != nil {
			return ops, p.Version(), err
		}
		ops = append(ops, op)
	}
}

// Version returns the dialect named by the header.
func (p *Parser) Version() Version { return p.version }

// Encoding returns the encoding detected from the file's first bytes.
func (p *Parser) Encoding() Encoding { return p.encoding }

// Next returns the next operation, or io.EOF after the last one. Errors
// are *SyntaxError for malformed text (naming the line), or the reader's
// error; after an error Next keeps returning it.
func (p *Parser) Next() (Op, error) {
	if p.err != nil {
		return Op{}, p.err
	}
	op, err := p.next()
	if err != nil {
		p.err = err
	}
	return op, err
}

func (p *Parser) next() (Op, error) {
	for {
		raw, err := p.readLine()
		if err != nil {
			return Op{}, err
		}
		line := trimLeft(raw)
		if len(line) == 0 || line[0] == ';' {
			continue
		}
		switch line[0] {
		case '[':
			return p.parseKey(line)
		case '"', '@':
			if p.key == "" {
				return Op{}, p.syntax("value line before any [KEY] line")
			}
			if p.deleted {
				return Op{}, p.syntax("value line in a [-KEY] section, whose key is deleted")
			}
			return p.parseValue(line)
		}
		return Op{}, p.syntax(fmt.Sprintf("unexpected text %q: expected [KEY], \"name\"=data or @=data", clip(string(line), 40)))
	}
}

func (p *Parser) syntax(msg string) error { return &SyntaxError{Line: p.line, Msg: msg} }

// parseKey reads [KEY] or [-KEY]. The path runs to the last ']' of the
// line, since key names may themselves contain ']'.
func (p *Parser) parseKey(line []byte) (Op, error) {
	end := bytes.LastIndexByte(line, ']')
	if end < 0 {
		return Op{}, p.syntax("key line without a closing ']'")
	}
	if rest := trimLeft(line[end+1:]); len(rest) > 0 && rest[0] != ';' {
		return Op{}, p.syntax(fmt.Sprintf("unexpected text %q after the key's ']'", clip(string(rest), 40)))
	}
	path := line[1:end]
	kind := CreateKey
	if len(path) > 0 && path[0] == '-' {
		kind, path = DeleteKey, path[1:]
	}
	if len(bytes.TrimSpace(path)) == 0 {
		return Op{}, p.syntax("empty key path")
	}
	key := p.text(path)
	p.key, p.deleted = key, kind == DeleteKey
	return Op{Kind: kind, Line: p.line, Key: key}, nil
}

// parseValue reads "name"=data or @=data, with hex lists continued over
// several lines.
func (p *Parser) parseValue(line []byte) (Op, error) {
	op := Op{Kind: SetValue, Line: p.line, Key: p.key}
	var rest []byte
	if line[0] == '@' {
		rest = line[1:]
	} else {
		name, r, err := p.quoted(line)
		if err != nil {
			return Op{}, err
		}
		op.Name, rest = name, r
	}
	rest = trimLeft(rest)
	if len(rest) == 0 || rest[0] != '=' {
		return Op{}, p.syntax("expected '=' after the value name")
	}
	rest = trimLeft(rest[1:])
	switch {
	case len(rest) == 0:
		return Op{}, p.syntax("missing value data after '='")
	case rest[0] == '-':
		if err := p.endOfLine(rest[1:]); err != nil {
			return Op{}, err
		}
		op.Kind = DeleteValue
		return op, nil
	case rest[0] == '"':
		s, r, err := p.quoted(rest)
		if err != nil {
			return Op{}, err
		}
		if err := p.endOfLine(r); err != nil {
			return Op{}, err
		}
		if 2*len(s)+2 > p.maxValue {
			return Op{}, p.syntax(fmt.Sprintf("string longer than the limit of %d bytes", p.maxValue))
		}
		op.Type = hive.TypeString
		op.Data = append(appendUTF16(make([]byte, 0, 2*len(s)+2), s), 0, 0)
		return op, nil
	case hasPrefixFold(rest, "dword:"):
		digits := rest[len("dword:"):]
		n := 0
		for n < len(digits) && isHex(digits[n]) {
			n++
		}
		if n == 0 || n > 8 {
			return Op{}, p.syntax(fmt.Sprintf("dword data must be 1 to 8 hex digits, got %q", clip(string(digits), 20)))
		}
		v, _ := strconv.ParseUint(string(digits[:n]), 16, 32)
		if err := p.endOfLine(digits[n:]); err != nil {
			return Op{}, err
		}
		op.Type = hive.TypeDWord
		op.Data = []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
		return op, nil
	case hasPrefixFold(rest, "hex:"):
		op.Type = hive.TypeBinary
		rest = rest[len("hex:"):]
	case hasPrefixFold(rest, "hex("):
		close := bytes.IndexByte(rest, ')')
		if close < 0 || close+1 >= len(rest) || rest[close+1] != ':' {
			return Op{}, p.syntax("expected hex(TYPE): with a hexadecimal type")
		}
		t, err := strconv.ParseUint(string(rest[len("hex("):close]), 16, 32)
		if err != nil {
			return Op{}, p.syntax(fmt.Sprintf("bad value type %q in hex(TYPE): (hexadecimal, up to ffffffff)", clip(string(rest[len("hex("):close]), 20)))
		}
		op.Type = hive.ValueType(t)
		rest = rest[close+2:]
	default:
		return Op{}, p.syntax(fmt.Sprintf("unknown value data %q: expected \"string\", dword:, hex:, hex(TYPE): or -", clip(string(rest), 20)))
	}
	data, err := p.hexList(rest)
	if err != nil {
		return Op{}, err
	}
	if p.version == Version4 && (op.Type == hive.TypeExpandString || op.Type == hive.TypeMultiString) {
		data = ansiToUTF16(data)
	}
	op.Data = data
	return op, nil
}

// hexList reads comma-separated hex bytes; a '\' at the end of a line
// continues the list on the next one.
func (p *Parser) hexList(rest []byte) ([]byte, error) {
	var data []byte
	startLine := p.line
	for {
		i := 0
		for {
			for i < len(rest) && (rest[i] == ' ' || rest[i] == '\t') {
				i++
			}
			if i == len(rest) || rest[i] == ';' {
				return data, nil
			}
			if rest[i] == '\\' {
				if err := p.endOfLine(rest[i+1:]); err != nil {
					return nil, err
				}
				break
			}
			if !isHex(rest[i]) {
				return nil, p.syntax(fmt.Sprintf("bad hex byte %q in hex list", clip(string(rest[i:]), 10)))
			}
			b := unhex(rest[i])
			i++
			if i < len(rest) && isHex(rest[i]) {
				b = b<<4 | unhex(rest[i])
				i++
			}
			if len(data) >= p.maxValue {
				return nil, &SyntaxError{Line: startLine, Msg: fmt.Sprintf("hex data longer than the limit of %d bytes", p.maxValue)}
			}
			data = append(data, b)
			for i < len(rest) && (rest[i] == ' ' || rest[i] == '\t') {
				i++
			}
			if i < len(rest) {
				switch rest[i] {
				case ',':
					i++
				case '\\', ';':
				default:
					return nil, p.syntax(fmt.Sprintf("expected ',' between hex bytes, got %q", clip(string(rest[i:]), 10)))
				}
			}
		}
		// Continuation: comment lines are skipped; a blank line ends the list.
		for {
			raw, err := p.readLine()
			if err == io.EOF {
				return data, nil
			}
			if err != nil {
				return nil, err
			}
			rest = trimLeft(raw)
			if len(rest) == 0 {
				return data, nil
			}
			if rest[0] != ';' {
				break
			}
		}
	}
}

// quoted reads a "..." string at the start of b, undoing regedit's escapes
// (\\ and \"; \n and \r as Wine writes them), and returns what follows it.
func (p *Parser) quoted(b []byte) (string, []byte, error) {
	var sb []byte
	for i := 1; i < len(b); i++ {
		c := b[i]
		switch c {
		case '"':
			return p.text(sb), b[i+1:], nil
		case '\\':
			if i+1 >= len(b) {
				return "", nil, p.syntax("string ends with a lone '\\'")
			}
			i++
			switch b[i] {
			case '\\', '"':
				sb = append(sb, b[i])
			case 'n':
				sb = append(sb, '\n')
			case 'r':
				sb = append(sb, '\r')
			case '0':
				sb = append(sb, 0)
			default:
				return "", nil, p.syntax(fmt.Sprintf("unknown escape \\%c in a string (write \\\\ for a backslash)", b[i]))
			}
		default:
			sb = append(sb, c)
		}
	}
	return "", nil, p.syntax("string without a closing '\"'")
}

// endOfLine accepts only blanks and an optional ; comment.
func (p *Parser) endOfLine(b []byte) error {
	b = trimLeft(b)
	if len(b) > 0 && b[0] != ';' {
		return p.syntax(fmt.Sprintf("unexpected text %q at the end of the line", clip(string(b), 40)))
	}
	return nil
}

// text converts bytes of the file to a string: UTF-8 as it is; in a
// REGEDIT4 file, bytes that are not UTF-8 are code page 1252.
func (p *Parser) text(b []byte) string {
	if p.version == Version4 && !utf8.Valid(b) {
		return string(ansiToUTF8(b))
	}
	return string(b)
}

// readLine returns the next line without its line ending. The slice is
// valid until the next call.
func (p *Parser) readLine() ([]byte, error) {
	line, err := p.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		p.long = append(p.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(p.long) > p.maxLine {
				return nil, &SyntaxError{Line: p.line + 1, Msg: fmt.Sprintf("line longer than the limit of %d bytes", p.maxLine)}
			}
			line, err = p.r.ReadSlice('\n')
			p.long = append(p.long, line...)
		}
		line = p.long
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("line %d: %w", p.line+1, err)
	}
	if len(line) == 0 && errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	p.line++
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) > 0 && line[len(line)-1] == 0 {
		// Some tools end a UTF-16 file with a NUL character.
		line = bytes.TrimRight(line, "\x00")
	}
	return trimRight(line), nil
}

func trimLeft(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

func trimRight(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && strings.EqualFold(string(b[:len(prefix)]), prefix)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// clip shortens s for an error message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
