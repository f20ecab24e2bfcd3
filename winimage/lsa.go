package winimage

import (
	"encoding/binary"
	"fmt"
	"unicode/utf16"
)

// LSA policy values such as SECURITY\Policy\PolPrDmN hold a self-relative
// UNICODE_STRING: Length and MaximumLength (uint16, bytes), then the
// buffer's offset from the start of the value (a pointer-sized field:
// 8 bytes at offset 8 on 64-bit Windows, 4 bytes at offset 4 on 32-bit),
// then the UTF-16LE characters.

// DecodeLSAString returns the text of a self-relative UNICODE_STRING value.
func DecodeLSAString(b []byte) (string, error) {
	if len(b) < 8 {
		return "", fmt.Errorf("LSA string: %d bytes, too short", len(b))
	}
	length := int(binary.LittleEndian.Uint16(b))
	for _, off := range lsaOffsets(b) {
		if off >= 8 && off <= len(b) && length <= len(b)-off && length%2 == 0 {
			units := make([]uint16, length/2)
			for i := range units {
				units[i] = binary.LittleEndian.Uint16(b[off+2*i:])
			}
			return string(utf16.Decode(units)), nil
		}
	}
	return "", fmt.Errorf("LSA string: length %d does not fit its %d bytes", length, len(b))
}

// lsaOffsets lists where the buffer may start, for the 64-bit layout and
// then the 32-bit one.
func lsaOffsets(b []byte) []int {
	var offs []int
	if len(b) >= 16 {
		if o := binary.LittleEndian.Uint64(b[8:]); o <= uint64(len(b)) {
			offs = append(offs, int(o))
		}
	}
	if o := binary.LittleEndian.Uint32(b[4:]); uint64(o) <= uint64(len(b)) {
		offs = append(offs, int(o))
	}
	return offs
}

// EncodeLSAString renders s as a self-relative UNICODE_STRING with a
// terminating NUL, in the 64-bit layout, or the 32-bit one when like (the
// value being replaced) uses it.
func EncodeLSAString(s string, like []byte) []byte {
	units := utf16.Encode([]rune(s))
	header := 16
	if len(like) >= 8 && len(like) < 16 || (len(like) >= 16 && binary.LittleEndian.Uint64(like[8:]) != 16 && binary.LittleEndian.Uint32(like[4:]) == 8) {
		header = 8
	}
	b := make([]byte, header+2*len(units)+2)
	binary.LittleEndian.PutUint16(b[0:], uint16(2*len(units)))
	binary.LittleEndian.PutUint16(b[2:], uint16(2*len(units)+2))
	if header == 16 {
		binary.LittleEndian.PutUint64(b[8:], 16)
	} else {
		binary.LittleEndian.PutUint32(b[4:], 8)
	}
	for i, u := range units {
		binary.LittleEndian.PutUint16(b[header+2*i:], u)
	}
	return b
}
