package sample

import (
	"encoding/binary"
	"strings"
	"unicode/utf16"
)

// Registry value types, as stored in a hive (the numbers are Windows').
// They are kept here as plain numbers so that the volume's content can be
// described, and altered by blockers, before any hive is written.
const (
	regNone     uint32 = 0
	regSZ       uint32 = 1
	regExpandSZ uint32 = 2
	regBinary   uint32 = 3
	regDWord    uint32 = 4
	regMultiSZ  uint32 = 7
	regQWord    uint32 = 11
)

// regValue is one value as it will be stored.
type regValue struct {
	name string
	typ  uint32
	data []byte
}

// regKey is one key of a regTree with its values in insertion order.
type regKey struct {
	path   string // backslash path from the hive root, never starting with "\"
	values []regValue
}

// regTree describes a hive's content in memory: keys in creation order, so
// that the hive written from it is the same for the same sequence of calls.
// Paths compare case-insensitively, as the registry's do.
type regTree struct {
	keys  []*regKey
	index map[string]*regKey // lower-case path -> key
}

func newRegTree() *regTree {
	return &regTree{index: map[string]*regKey{}}
}

// key returns the key at path, creating it and its parents when absent.
func (t *regTree) key(path string) *regKey {
	path = strings.Trim(path, `\`)
	if k, ok := t.index[strings.ToLower(path)]; ok {
		return k
	}
	if i := strings.LastIndexByte(path, '\\'); i >= 0 {
		t.key(path[:i])
	}
	k := &regKey{path: path}
	t.keys = append(t.keys, k)
	t.index[strings.ToLower(path)] = k
	return k
}

// lookup returns the key at path, or nil.
func (t *regTree) lookup(path string) *regKey {
	return t.index[strings.ToLower(strings.Trim(path, `\`))]
}

// deleteKey removes the key at path and everything below it.
func (t *regTree) deleteKey(path string) {
	prefix := strings.ToLower(strings.Trim(path, `\`))
	kept := t.keys[:0]
	for _, k := range t.keys {
		lp := strings.ToLower(k.path)
		if lp == prefix || strings.HasPrefix(lp, prefix+`\`) {
			delete(t.index, lp)
			continue
		}
		kept = append(kept, k)
	}
	t.keys = kept
}

// set stores a value, replacing one of the same name (case-insensitive).
func (t *regTree) set(path, name string, typ uint32, data []byte) {
	k := t.key(path)
	for i := range k.values {
		if strings.EqualFold(k.values[i].name, name) {
			k.values[i] = regValue{name: name, typ: typ, data: data}
			return
		}
	}
	k.values = append(k.values, regValue{name: name, typ: typ, data: data})
}

func (t *regTree) sz(path, name, s string)               { t.set(path, name, regSZ, utf16z(s)) }
func (t *regTree) expand(path, name, s string)           { t.set(path, name, regExpandSZ, utf16z(s)) }
func (t *regTree) multi(path, name string, ss ...string) { t.set(path, name, regMultiSZ, multiSZ(ss)) }
func (t *regTree) bin(path, name string, b []byte)       { t.set(path, name, regBinary, b) }
func (t *regTree) dword(path, name string, v uint32) {
	t.set(path, name, regDWord, binary.LittleEndian.AppendUint32(nil, v))
}
func (t *regTree) qword(path, name string, v uint64) {
	t.set(path, name, regQWord, binary.LittleEndian.AppendUint64(nil, v))
}

// value returns the value name of the key at path.
func (t *regTree) value(path, name string) (regValue, bool) {
	k := t.lookup(path)
	if k == nil {
		return regValue{}, false
	}
	for _, v := range k.values {
		if strings.EqualFold(v.name, name) {
			return v, true
		}
	}
	return regValue{}, false
}

// deleteValue removes a value; absent values are ignored.
func (t *regTree) deleteValue(path, name string) {
	k := t.lookup(path)
	if k == nil {
		return
	}
	for i, v := range k.values {
		if strings.EqualFold(v.name, name) {
			k.values = append(k.values[:i], k.values[i+1:]...)
			return
		}
	}
}

// utf16z encodes s as UTF-16LE with the terminating NUL Windows stores.
func utf16z(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(u)+2)
	for _, c := range u {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return append(b, 0, 0)
}

// utf16le encodes s as UTF-16LE without a terminator (SAM and LSA strings).
func utf16le(s string) []byte {
	b := utf16z(s)
	return b[:len(b)-2]
}

// multiSZ encodes a REG_MULTI_SZ: each string NUL-terminated, then one
// more NUL.
func multiSZ(ss []string) []byte {
	var b []byte
	for _, s := range ss {
		b = append(b, utf16z(s)...)
	}
	return append(b, 0, 0)
}

// clone returns a deep copy of t.
func (t *regTree) clone() *regTree {
	c := newRegTree()
	for _, k := range t.keys {
		nk := &regKey{path: k.path, values: make([]regValue, len(k.values))}
		for i, v := range k.values {
			nk.values[i] = regValue{name: v.name, typ: v.typ, data: append([]byte(nil), v.data...)}
		}
		c.keys = append(c.keys, nk)
		c.index[strings.ToLower(k.path)] = nk
	}
	return c
}
