package hive

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// quoted shows a key path or a name in messages as users write it: in
// double quotes with its backslashes single (%q would print
// "No\\Such\\Key"). Only what cannot be shown as it is (control and other
// unprintable characters, invalid UTF-8) is escaped, as %q escapes it.
func quoted(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && size == 1:
			q := strconv.Quote(s[:1])
			b.WriteString(q[1 : len(q)-1])
		case unicode.IsPrint(r):
			b.WriteString(s[:size])
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
		s = s[size:]
	}
	b.WriteByte('"')
	return b.String()
}
