// Package hivetest builds hostile hives for tests.
package hivetest

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/reseal/reseal/hive"
)

// SharedLists returns a small hive whose root holds A00 and B00, each
// A(i) holds A(i+1) and B(i+1), and every B(i) shares A(i)'s subkey list:
// 2^levels paths through 2*levels keys, as a walk that does not refuse a
// key reached twice follows them.
func SharedLists(levels int) ([]byte, error) {
	h := hive.New()
	path := ""
	for i := 0; i < levels; i++ {
		for _, n := range []string{"A", "B"} {
			if _, err := h.Root().CreateKey(fmt.Sprintf(`%s%s%02d`, path, n, i)); err != nil {
				return nil, err
			}
		}
		path += fmt.Sprintf(`A%02d\`, i)
	}
	if _, err := h.Root().CreateKey(path + "leaf"); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := h.WriteTo(&buf); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	for i := 0; i < levels-1; i++ {
		a, b := findKey(data, fmt.Sprintf("A%02d", i)), findKey(data, fmt.Sprintf("B%02d", i))
		if a < 0 || b < 0 {
			return nil, fmt.Errorf("level %d: key cells not found", i)
		}
		copy(data[b+0x14:b+0x18], data[a+0x14:a+0x18]) // subkey count
		copy(data[b+0x1C:b+0x20], data[a+0x1C:a+0x20]) // subkey list
	}
	return data, nil
}

// findKey finds the nk record (at its "nk" signature) of the key with an
// ASCII name.
func findKey(data []byte, name string) int {
	for i := 4096; i+0x4C+len(name) <= len(data); i++ {
		if data[i] != 'n' || data[i+1] != 'k' {
			continue
		}
		if int(binary.LittleEndian.Uint16(data[i+0x48:])) == len(name) && string(data[i+0x4C:i+0x4C+len(name)]) == name {
			return i
		}
	}
	return -1
}
