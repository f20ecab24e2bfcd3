package hive

import (
	"encoding/binary"
	"testing"
	"unicode/utf16"
)

// TestNameFastPaths checks the ASCII shortcuts of foldKey, nameHash and
// nameUnits against the general UTF-16 computation.
func TestNameFastPaths(t *testing.T) {
	names := []string{"", "a", "Select", "ControlSet001", "z{|}~\x7f", "@`[]^_", "\x00\x01", "ÄÖÜ", "ß", "日本", "😀x", "a\xffb"}
	var all []byte
	for c := 0; c < 0x80; c++ {
		all = append(all, byte(c))
	}
	names = append(names, string(all))
	for _, s := range names {
		u := utf16.Encode([]rune(s))
		b := make([]byte, 2*len(u))
		var hash uint32
		for i, c := range u {
			c = upcaseUnit(c)
			binary.LittleEndian.PutUint16(b[2*i:], c)
			hash = 37*hash + uint32(c)
		}
		if got := foldKey(s); got != string(b) {
			t.Errorf("foldKey(%q) = %x, want %x", s, got, b)
		}
		if got := nameHash(s); got != hash {
			t.Errorf("nameHash(%q) = %d, want %d", s, got, hash)
		}
		if got := nameUnits(s); got != len(u) {
			t.Errorf("nameUnits(%q) = %d, want %d", s, got, len(u))
		}
	}
}
