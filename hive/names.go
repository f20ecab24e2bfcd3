package hive

import (
	"encoding/binary"
	"unicode"
	"unicode/utf16"
)

// Names are compared as Windows compares them: UTF-16 code unit by code
// unit after upper-casing each unit on its own (surrogates unchanged).

func upcaseUnit(c uint16) uint16 {
	if c < 0x80 {
		if 'a' <= c && c <= 'z' {
			return c - 32
		}
		return c
	}
	if c >= 0xD800 && c <= 0xDFFF {
		return c
	}
	u := unicode.ToUpper(rune(c))
	if u > 0xFFFF || (u >= 0xD800 && u <= 0xDFFF) {
		return c
	}
	return uint16(u)
}

// upperUnits returns the upper-cased UTF-16 code units of s.
func upperUnits(s string) []uint16 {
	u := utf16.Encode([]rune(s))
	for i, c := range u {
		u[i] = upcaseUnit(c)
	}
	return u
}

// isASCII reports whether s is all ASCII: most names are, and their
// UTF-16 units and upper case need no rune decoding.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// foldKey is a string usable as a map key for case-insensitive lookups:
// the upper-cased UTF-16LE code units of s.
func foldKey(s string) string {
	if isASCII(s) {
		b := make([]byte, 2*len(s))
		for i := 0; i < len(s); i++ {
			b[2*i] = byte(upcaseUnit(uint16(s[i])))
		}
		return string(b)
	}
	u := upperUnits(s)
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return string(b)
}

// compareUnits orders two upper-cased names as Windows sorts subkey lists.
func compareUnits(a, b []uint16) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

// nameHash is the lh list hash of a key name: H = 37*H + C over the
// upper-cased UTF-16 code units.
func nameHash(s string) uint32 {
	var h uint32
	if isASCII(s) {
		for i := 0; i < len(s); i++ {
			h = 37*h + uint32(upcaseUnit(uint16(s[i])))
		}
		return h
	}
	for _, c := range upperUnits(s) {
		h = 37*h + uint32(c)
	}
	return h
}

// lfHint is the lf list name hint: the first four characters of the name,
// one byte each, zero padded.
func lfHint(s string) uint32 {
	var b [4]byte
	i := 0
	for _, c := range utf16.Encode([]rune(s)) {
		if i == 4 {
			break
		}
		b[i] = byte(c)
		i++
	}
	return binary.LittleEndian.Uint32(b[:])
}

// decodeName decodes a stored key or value name: Latin-1 when compressed,
// UTF-16LE otherwise.
func decodeName(b []byte, compressed bool) string {
	if compressed {
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r)
	}
	return string(utf16.Decode(decodeUTF16(b)))
}

// encodeName encodes a name as Windows stores it: Latin-1 ("compressed")
// when every character fits in a byte, UTF-16LE otherwise.
func encodeName(s string) (b []byte, compressed bool) {
	rs := []rune(s)
	latin1 := true
	for _, r := range rs {
		if r > 0xFF {
			latin1 = false
			break
		}
	}
	if latin1 {
		b = make([]byte, len(rs))
		for i, r := range rs {
			b[i] = byte(r)
		}
		return b, true
	}
	return encodeUTF16(utf16.Encode(rs)), false
}

// nameUnits is the length of a name in UTF-16 code units.
func nameUnits(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
