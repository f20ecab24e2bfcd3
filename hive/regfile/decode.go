package regfile

import (
	"bufio"
	"errors"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// Encoding is the character encoding of a .reg file.
type Encoding int

const (
	// UTF16LE with a byte order mark is what regedit writes.
	UTF16LE Encoding = iota
	// UTF8 without a byte order mark (one is accepted on reading).
	UTF8
	// UTF16BE with a byte order mark is accepted on reading only.
	UTF16BE
)

func (e Encoding) String() string {
	switch e {
	case UTF16LE:
		return "UTF-16LE"
	case UTF8:
		return "UTF-8"
	case UTF16BE:
		return "UTF-16BE"
	}
	return "unknown"
}

// textReader detects the encoding of r from its first bytes and returns a
// reader that yields UTF-8 (or, for 8-bit files, the bytes as they are).
// UTF-16 without a byte order mark is recognised when the first character
// is ASCII, as every valid header is.
func textReader(r io.Reader) (*bufio.Reader, Encoding, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(3)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, UTF8, err
	}
	switch {
	case len(head) >= 2 && head[0] == 0xFF && head[1] == 0xFE:
		br.Discard(2)
		return bufio.NewReaderSize(&utf16Reader{r: br}, 64<<10), UTF16LE, nil
	case len(head) >= 2 && head[0] == 0xFE && head[1] == 0xFF:
		br.Discard(2)
		return bufio.NewReaderSize(&utf16Reader{r: br, bigEndian: true}, 64<<10), UTF16BE, nil
	case len(head) >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF:
		br.Discard(3)
		return br, UTF8, nil
	case len(head) >= 2 && head[0] != 0 && head[0] < 0x80 && head[1] == 0:
		return bufio.NewReaderSize(&utf16Reader{r: br}, 64<<10), UTF16LE, nil
	}
	return br, UTF8, nil
}

// errOddUTF16 reports a UTF-16 file whose length is odd.
var errOddUTF16 = errors.New("UTF-16 text ends in the middle of a character")

// utf16Reader converts a UTF-16 byte stream to UTF-8. Unpaired surrogates
// become U+FFFD, as they have no UTF-8 form.
type utf16Reader struct {
	r         io.Reader
	bigEndian bool
	in        [32 << 10]byte
	inLen     int    // undecoded bytes at the start of in
	out       []byte // decoded bytes not yet returned
	outBuf    []byte
	err       error
}

func (u *utf16Reader) Read(p []byte) (int, error) {
	for len(u.out) == 0 {
		if u.err != nil {
			if u.inLen > 0 && errors.Is(u.err, io.EOF) {
				// A lone high surrogate, or an odd byte, at the end.
				if u.inLen%2 == 1 {
					u.inLen = 0
					u.err = errOddUTF16
					return 0, u.err
				}
				u.inLen = 0
				u.out = utf8.AppendRune(u.outBuf[:0], utf8.RuneError)
				break
			}
			return 0, u.err
		}
		n, err := u.r.Read(u.in[u.inLen:])
		u.inLen += n
		u.err = err
		u.decode(err != nil)
	}
	n := copy(p, u.out)
	u.out = u.out[n:]
	return n, nil
}

// decode converts the complete code units in u.in to UTF-8 in u.out and
// keeps any incomplete tail (an odd byte, or a high surrogate whose partner
// has not been read yet) for the next call.
func (u *utf16Reader) decode(final bool) {
	out := u.outBuf[:0]
	in := u.in[:u.inLen]
	i := 0
	unit := func(j int) uint16 {
		if u.bigEndian {
			return uint16(in[j])<<8 | uint16(in[j+1])
		}
		return uint16(in[j]) | uint16(in[j+1])<<8
	}
	for i+1 < len(in) {
		c := unit(i)
		switch {
		case c < 0x80:
			out = append(out, byte(c))
			i += 2
		case utf16.IsSurrogate(rune(c)) && c < 0xDC00:
			if i+3 >= len(in) {
				if !final {
					goto done
				}
				out = utf8.AppendRune(out, utf8.RuneError)
				i += 2
				continue
			}
			d := unit(i + 2)
			if r := utf16.DecodeRune(rune(c), rune(d)); r != utf8.RuneError {
				out = utf8.AppendRune(out, r)
				i += 4
			} else {
				out = utf8.AppendRune(out, utf8.RuneError)
				i += 2
			}
		case utf16.IsSurrogate(rune(c)):
			out = utf8.AppendRune(out, utf8.RuneError)
			i += 2
		default:
			out = utf8.AppendRune(out, rune(c))
			i += 2
		}
	}
done:
	u.inLen = copy(u.in[:], in[i:])
	u.outBuf = out
	u.out = out
}

// windows1252 maps the bytes 0x80..0x9F of code page 1252 (what REGEDIT4
// files written on western systems use) to Unicode; other bytes map to the
// code point of the same value, as in Latin-1.
var windows1252 = [32]rune{
	0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
	0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
}

func ansiRune(b byte) rune {
	if b >= 0x80 && b < 0xA0 {
		return windows1252[b-0x80]
	}
	return rune(b)
}

// ansiToUTF8 converts 8-bit text in code page 1252 to UTF-8.
func ansiToUTF8(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/4)
	for _, c := range b {
		out = utf8.AppendRune(out, ansiRune(c))
	}
	return out
}

// ansiToUTF16 converts 8-bit text in code page 1252 to UTF-16LE bytes, as
// regedit does with hex(2) and hex(7) data of a REGEDIT4 file.
func ansiToUTF16(b []byte) []byte {
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		r := ansiRune(c)
		out = append(out, byte(r), byte(r>>8))
	}
	return out
}

// appendUTF16 appends s as UTF-16LE.
func appendUTF16(dst []byte, s string) []byte {
	for _, r := range s {
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			dst = append(dst, byte(r1), byte(r1>>8), byte(r2), byte(r2>>8))
			continue
		}
		dst = append(dst, byte(r), byte(r>>8))
	}
	return dst
}
