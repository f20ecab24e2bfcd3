package hive

import "encoding/binary"

// SetString sets a REG_SZ value.
func (k *Key) SetString(name, s string) error { return k.SetValue(name, TypeString, EncodeString(s)) }

// SetExpandString sets a REG_EXPAND_SZ value.
func (k *Key) SetExpandString(name, s string) error {
	return k.SetValue(name, TypeExpandString, EncodeString(s))
}

// SetMultiString sets a REG_MULTI_SZ value.
func (k *Key) SetMultiString(name string, ss []string) error {
	return k.SetValue(name, TypeMultiString, EncodeMultiString(ss))
}

// SetDWord sets a REG_DWORD value.
func (k *Key) SetDWord(name string, v uint32) error {
	return k.SetValue(name, TypeDWord, binary.LittleEndian.AppendUint32(nil, v))
}

// SetQWord sets a REG_QWORD value.
func (k *Key) SetQWord(name string, v uint64) error {
	return k.SetValue(name, TypeQWord, binary.LittleEndian.AppendUint64(nil, v))
}

// SetBinary sets a REG_BINARY value.
func (k *Key) SetBinary(name string, b []byte) error { return k.SetValue(name, TypeBinary, b) }
