package hive

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"
)

// ValueType is the type of a registry value (REG_SZ, REG_DWORD, ...).
type ValueType uint32

// The value types Windows defines.
const (
	TypeNone                     ValueType = 0
	TypeString                   ValueType = 1
	TypeExpandString             ValueType = 2
	TypeBinary                   ValueType = 3
	TypeDWord                    ValueType = 4
	TypeDWordBigEndian           ValueType = 5
	TypeLink                     ValueType = 6
	TypeMultiString              ValueType = 7
	TypeResourceList             ValueType = 8
	TypeFullResourceDescriptor   ValueType = 9
	TypeResourceRequirementsList ValueType = 10
	TypeQWord                    ValueType = 11
)

var typeNames = [...]string{
	"REG_NONE", "REG_SZ", "REG_EXPAND_SZ", "REG_BINARY", "REG_DWORD",
	"REG_DWORD_BIG_ENDIAN", "REG_LINK", "REG_MULTI_SZ", "REG_RESOURCE_LIST",
	"REG_FULL_RESOURCE_DESCRIPTOR", "REG_RESOURCE_REQUIREMENTS_LIST", "REG_QWORD",
}

// String returns the Windows name of the type ("REG_SZ"), or "REG_0x1234"
// for a type Windows does not define.
func (t ValueType) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("REG_0x%x", uint32(t))
}

// ParseValueType is the inverse of ValueType.String; it also accepts the
// aliases REG_DWORD_LITTLE_ENDIAN and REG_QWORD_LITTLE_ENDIAN.
func ParseValueType(s string) (ValueType, bool) {
	for i, n := range typeNames {
		if n == s {
			return ValueType(i), true
		}
	}
	switch s {
	case "REG_DWORD_LITTLE_ENDIAN":
		return TypeDWord, true
	case "REG_QWORD_LITTLE_ENDIAN":
		return TypeQWord, true
	}
	var n uint32
	if _, err := fmt.Sscanf(s, "REG_0x%x", &n); err == nil && fmt.Sprintf("REG_0x%x", n) == s {
		return ValueType(n), true
	}
	return 0, false
}

// Value is one registry value as stored.
type Value struct {
	Name string // "" is the default value
	Type ValueType
	Data []byte // raw bytes as stored
}

// ErrType is wrapped by the typed accessors when the value has another type.
var ErrType = errors.New("hive: value has another type")

// String decodes a REG_SZ, REG_EXPAND_SZ or REG_LINK value: UTF-16LE with
// trailing NULs cut (an odd trailing byte is ignored).
func (v Value) String() (string, error) {
	switch v.Type {
	case TypeString, TypeExpandString, TypeLink:
	default:
		return "", fmt.Errorf("value %s is %v, not a string: %w", quoted(v.Name), v.Type, ErrType)
	}
	u := decodeUTF16(v.Data)
	for len(u) > 0 && u[len(u)-1] == 0 {
		u = u[:len(u)-1]
	}
	return string(utf16.Decode(u)), nil
}

// Strings decodes a REG_MULTI_SZ value: NUL-separated UTF-16LE strings; the
// terminating empty string(s) are not returned.
func (v Value) Strings() ([]string, error) {
	if v.Type != TypeMultiString {
		return nil, fmt.Errorf("value %s is %v, not REG_MULTI_SZ: %w", quoted(v.Name), v.Type, ErrType)
	}
	u := decodeUTF16(v.Data)
	for len(u) > 0 && u[len(u)-1] == 0 {
		u = u[:len(u)-1]
	}
	if len(u) == 0 {
		return []string{}, nil
	}
	var out []string
	start := 0
	for i, c := range u {
		if c == 0 {
			out = append(out, string(utf16.Decode(u[start:i])))
			start = i + 1
		}
	}
	out = append(out, string(utf16.Decode(u[start:])))
	return out, nil
}

// Uint64 decodes a REG_DWORD, REG_DWORD_BIG_ENDIAN or REG_QWORD value.
func (v Value) Uint64() (uint64, error) {
	switch v.Type {
	case TypeDWord:
		if len(v.Data) < 4 {
			return 0, fmt.Errorf("REG_DWORD value %s has %d bytes, want 4", quoted(v.Name), len(v.Data))
		}
		return uint64(binary.LittleEndian.Uint32(v.Data)), nil
	case TypeDWordBigEndian:
		if len(v.Data) < 4 {
			return 0, fmt.Errorf("REG_DWORD_BIG_ENDIAN value %s has %d bytes, want 4", quoted(v.Name), len(v.Data))
		}
		return uint64(binary.BigEndian.Uint32(v.Data)), nil
	case TypeQWord:
		if len(v.Data) < 8 {
			return 0, fmt.Errorf("REG_QWORD value %s has %d bytes, want 8", quoted(v.Name), len(v.Data))
		}
		return binary.LittleEndian.Uint64(v.Data), nil
	}
	return 0, fmt.Errorf("value %s is %v, not an integer: %w", quoted(v.Name), v.Type, ErrType)
}

func decodeUTF16(b []byte) []uint16 {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return u
}

// EncodeString returns s as REG_SZ data: UTF-16LE with a terminating NUL.
func EncodeString(s string) []byte {
	return encodeUTF16(append(utf16.Encode([]rune(s)), 0))
}

// EncodeMultiString returns ss as REG_MULTI_SZ data: each string
// NUL-terminated, then an empty string.
func EncodeMultiString(ss []string) []byte {
	var u []uint16
	for _, s := range ss {
		u = append(u, utf16.Encode([]rune(s))...)
		u = append(u, 0)
	}
	u = append(u, 0)
	return encodeUTF16(u)
}

func encodeUTF16(u []uint16) []byte {
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}
