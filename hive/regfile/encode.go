package regfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/reseal/reseal/hive"
)

// hexLineLimit is regedit's wrapping rule for hex lists: after a byte and
// its comma, a line that has passed this column continues on the next line
// ("\" then two spaces), so that no line exceeds 80 columns.
const hexLineLimit = 76

// Encoder writes a .reg file in the layout regedit exports: the header, a
// blank line, then for each key its [path] line, its values, and a blank
// line; lines end in CRLF.
type Encoder struct {
	w       *bufio.Writer
	enc     Encoding
	line    []byte // the line being built, UTF-8
	wide    []byte // scratch for UTF-16 output
	started bool
	err     error
}

// NewEncoder returns an Encoder writing in enc (UTF16LE, with a byte order
// mark, as regedit does; or UTF8). Call Close to finish the file.
func NewEncoder(w io.Writer, enc Encoding) *Encoder {
	if enc != UTF8 {
		enc = UTF16LE
	}
	return &Encoder{w: bufio.NewWriterSize(w, 64<<10), enc: enc}
}

func (e *Encoder) start() {
	if e.started {
		return
	}
	e.started = true
	if e.enc == UTF16LE {
		e.raw([]byte{0xFF, 0xFE})
	}
	e.line = append(e.line[:0], header5...)
	e.endLine()
}

// WriteKey starts the section of a key: a blank line, then [path].
func (e *Encoder) WriteKey(path string) error { return e.key("", path) }

// WriteDeleteKey writes [-path], which deletes the key on import.
func (e *Encoder) WriteDeleteKey(path string) error { return e.key("-", path) }

func (e *Encoder) key(mark, path string) error {
	if e.err != nil {
		return e.err
	}
	if strings.ContainsAny(path, "\r\n") {
		return fmt.Errorf("key %q: a line break in a key name cannot be written to a .reg file", path)
	}
	e.start()
	e.endLine()
	e.line = append(e.line, '[')
	e.line = append(e.line, mark...)
	e.line = append(e.line, path...)
	e.line = append(e.line, ']')
	e.endLine()
	return e.err
}

// WriteValue writes one value line of the current key, choosing regedit's
// notation: "string" for a REG_SZ whose bytes the string reproduces
// exactly, dword: for a 4-byte REG_DWORD, hex: for REG_BINARY and hex(N):
// for everything else, wrapped at 80 columns.
func (e *Encoder) WriteValue(name string, t hive.ValueType, data []byte) error {
	if e.err != nil {
		return e.err
	}
	e.start()
	e.name(name)
	switch {
	case t == hive.TypeString && representable(data):
		e.line = append(e.line, '"')
		e.line = appendEscaped(e.line, decodeString(data))
		e.line = append(e.line, '"')
	case t == hive.TypeDWord && len(data) == 4:
		v := uint32(data[0]) | uint32(data[1])<<8 | uint32(data[2])<<16 | uint32(data[3])<<24
		e.line = append(e.line, "dword:"...)
		e.line = appendHex8(e.line, v)
	default:
		if t == hive.TypeBinary {
			e.line = append(e.line, "hex:"...)
		} else {
			e.line = append(e.line, "hex("...)
			e.line = strconv.AppendUint(e.line, uint64(t), 16)
			e.line = append(e.line, "):"...)
		}
		e.hexList(data)
	}
	e.endLine()
	return e.err
}

// WriteDeleteValue writes "name"=-, which deletes the value on import.
func (e *Encoder) WriteDeleteValue(name string) error {
	if e.err != nil {
		return e.err
	}
	e.start()
	e.name(name)
	e.line = append(e.line, '-')
	e.endLine()
	return e.err
}

// Close ends the file with the blank line regedit writes after the last
// key and flushes; it does not close the underlying writer.
func (e *Encoder) Close() error {
	if e.err != nil {
		return e.err
	}
	e.start()
	e.endLine()
	if e.err == nil {
		e.err = e.w.Flush()
	}
	if e.err == nil {
		e.err = errors.New("regfile: encoder closed")
		return nil
	}
	return e.err
}

func (e *Encoder) name(name string) {
	if name == "" {
		e.line = append(e.line, '@')
	} else {
		e.line = append(e.line, '"')
		e.line = appendEscaped(e.line, name)
		e.line = append(e.line, '"')
	}
	e.line = append(e.line, '=')
}

// hexList appends the bytes as regedit does: "xx," each, and after a comma
// that passes column 76 with more bytes to come, "\" and a new line
// indented by two spaces.
func (e *Encoder) hexList(data []byte) {
	const digits = "0123456789abcdef"
	col := columns(e.line)
	for i, b := range data {
		e.line = append(e.line, digits[b>>4], digits[b&15])
		col += 2
		if i == len(data)-1 {
			break
		}
		e.line = append(e.line, ',')
		col++
		if col > hexLineLimit {
			e.line = append(e.line, '\\')
			e.endLine()
			e.line = append(e.line, "  "...)
			col = 2
		}
	}
}

// endLine writes the line built so far with a CRLF and clears it.
func (e *Encoder) endLine() {
	e.line = append(e.line, '\r', '\n')
	if e.enc == UTF16LE {
		e.wide = appendUTF16(e.wide[:0], string(e.line))
		e.raw(e.wide)
	} else {
		e.raw(e.line)
	}
	e.line = e.line[:0]
}

func (e *Encoder) raw(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}

// columns counts the UTF-16 code units of b, as regedit counts columns.
func columns(b []byte) int {
	n := 0
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// representable reports whether REG_SZ data is exactly the UTF-16LE
// encoding of a string plus one terminating NUL, with no character that a
// .reg line cannot carry (NUL, CR, LF) and no unpaired surrogate. Anything
// else is written as hex(1) so that import restores the same bytes.
func representable(data []byte) bool {
	if len(data) < 2 || len(data)%2 != 0 || data[len(data)-1] != 0 || data[len(data)-2] != 0 {
		return false
	}
	for i := 0; i < len(data)-2; i += 2 {
		c := uint16(data[i]) | uint16(data[i+1])<<8
		switch {
		case c == 0 || c == '\r' || c == '\n':
			return false
		case c >= 0xD800 && c < 0xDC00:
			if i+2 >= len(data)-2 {
				return false
			}
			d := uint16(data[i+2]) | uint16(data[i+3])<<8
			if d < 0xDC00 || d > 0xDFFF {
				return false
			}
			i += 2
		case c >= 0xDC00 && c <= 0xDFFF:
			return false
		}
	}
	return true
}

// decodeString decodes UTF-16LE data without its terminating NUL.
func decodeString(data []byte) string {
	units := make([]uint16, 0, len(data)/2)
	for i := 0; i+1 < len(data)-2; i += 2 {
		units = append(units, uint16(data[i])|uint16(data[i+1])<<8)
	}
	return string(utf16.Decode(units))
}

// appendEscaped appends s with regedit's escapes: \\ and \" (and \r, \n,
// which regedit cannot write but which may occur in value names).
func appendEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '"':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case 0:
			dst = append(dst, '\\', '0')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func appendHex8(dst []byte, v uint32) []byte {
	const digits = "0123456789abcdef"
	for shift := 28; shift >= 0; shift -= 4 {
		dst = append(dst, digits[(v>>uint(shift))&15])
	}
	return dst
}
