package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/reseal/reseal/hive"
)

const regSetUsage = `reseal reg set HIVE KEY NAME [--type TYPE] [--data DATA]... [--dry-run] [--backup]

Set the value NAME of KEY (created with its parents if missing); NAME ""
is the key's default value. TYPE is REG_SZ (the default), REG_EXPAND_SZ,
REG_MULTI_SZ (one --data per string), REG_DWORD, REG_DWORD_BIG_ENDIAN,
REG_QWORD (decimal or 0x hex), REG_BINARY, REG_NONE or any other type
(REG_0x1234, or a number) whose data is hex bytes ("01,ff", "01 ff" or
"01ff"); REG_LINK takes a string. --dry-run reports the change and writes
nothing; --backup copies the hive to HIVE.bak before writing.`

const regDeleteUsage = `reseal reg delete HIVE KEY [--value NAME] [--dry-run] [--backup]

Delete KEY with all its subkeys and values, or with --value only the
value NAME of KEY ("" is the default value). A key or value that does not
exist is an error. --dry-run reports what would go and writes nothing;
--backup copies the hive to HIVE.bak before writing.`

func runRegSet(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("reg set")
	typeName := fs.String("type", "REG_SZ", "value type")
	var data stringList
	fs.Var(&data, "data", "value data (repeat for REG_MULTI_SZ)")
	wf := addWriteFlags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 3 {
		return usageError("want HIVE KEY NAME")
	}
	path, name := pos[0], pos[2]
	t, ok := parseValueType(*typeName)
	if !ok {
		return usageError("unknown --type %q", *typeName)
	}
	raw, err := encodeData(t, data)
	if err != nil {
		return usageError("--data for %s: %v", t, err)
	}
	h, err := openHive(ctx, path, false)
	if err != nil {
		return err
	}
	defer h.Close()
	key, err := hiveKeyPath(h, path, pos[1])
	if err != nil {
		return err
	}
	k, err := h.Root().OpenKey(key)
	switch {
	case errNotExist(err):
		if k, err = h.Root().CreateKey(key); err != nil {
			return fmt.Errorf("%s: create key %s: %w", path, displayPath(key), err)
		}
		fmt.Fprintf(sio.Out, "%s key %s\n", verb(*wf.dryRun, "create"), displayPath(key))
	case err != nil:
		return fmt.Errorf("%s: key %s: %w", path, displayPath(key), err)
	}
	newValue := hive.Value{Name: name, Type: t, Data: raw}
	old, err := k.Value(name)
	switch {
	case err == nil && old.Type == t && bytes.Equal(old.Data, raw):
		return finishWrite(sio, h, path, wf, false)
	case err == nil:
		fmt.Fprintf(sio.Out, "%s %s: %s %s (was %s %s)\n", verb(*wf.dryRun, "set"), valuePath(key, name), t, dataText(newValue), old.Type, dataText(old))
	case errNotExist(err):
		fmt.Fprintf(sio.Out, "%s %s: %s %s (new value)\n", verb(*wf.dryRun, "set"), valuePath(key, name), t, dataText(newValue))
	default:
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := k.SetValue(name, t, raw); err != nil {
		return fmt.Errorf("%s: set %s: %w", path, valuePath(key, name), err)
	}
	if err := checkContext(ctx); err != nil {
		return err
	}
	return finishWrite(sio, h, path, wf, true)
}

func runRegDelete(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("reg delete")
	var value stringList
	fs.Var(&value, "value", "delete only this value of KEY")
	wf := addWriteFlags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError("want HIVE KEY")
	}
	if len(value) > 1 {
		return usageError("--value given more than once")
	}
	path := pos[0]
	if cleanKeyPath(pos[1]) == "" && len(value) == 0 {
		return usageError("refusing to delete the root key of the hive")
	}
	h, k, key, err := openHiveKey(ctx, path, pos[1], false)
	if err != nil {
		return err
	}
	defer h.Close()
	if key == "" && len(value) == 0 {
		return usageError("refusing to delete the root key of the hive")
	}
	if len(value) == 1 {
		name := value[0]
		if err := k.DeleteValue(name); err != nil {
			err = fmt.Errorf("%s: delete: %w", path, err) // the error names the value and key
			if errNotExist(err) {
				err = refused(err)
			}
			return err
		}
		fmt.Fprintf(sio.Out, "%s value %s\n", verb(*wf.dryRun, "delete"), valuePath(key, name))
	} else {
		if err := h.Root().DeleteKey(key); err != nil {
			return fmt.Errorf("%s: delete key %s: %w", path, key, err)
		}
		fmt.Fprintf(sio.Out, "%s key %s\n", verb(*wf.dryRun, "delete"), key)
	}
	if err := checkContext(ctx); err != nil {
		return err
	}
	return finishWrite(sio, h, path, wf, true)
}

// valuePath names a value for messages: KEY\NAME, KEY\(Default).
func valuePath(key, name string) string {
	if name == "" {
		name = "(Default)"
	}
	if key == "" {
		return `\` + name
	}
	return key + `\` + name
}

// valueTypeNames are the names reg.exe and regedit use.
var valueTypeNames = map[string]hive.ValueType{
	"REG_NONE":                       hive.TypeNone,
	"REG_SZ":                         hive.TypeString,
	"REG_EXPAND_SZ":                  hive.TypeExpandString,
	"REG_BINARY":                     hive.TypeBinary,
	"REG_DWORD":                      hive.TypeDWord,
	"REG_DWORD_LITTLE_ENDIAN":        hive.TypeDWord,
	"REG_DWORD_BIG_ENDIAN":           hive.TypeDWordBigEndian,
	"REG_LINK":                       hive.TypeLink,
	"REG_MULTI_SZ":                   hive.TypeMultiString,
	"REG_RESOURCE_LIST":              hive.TypeResourceList,
	"REG_FULL_RESOURCE_DESCRIPTOR":   hive.TypeFullResourceDescriptor,
	"REG_RESOURCE_REQUIREMENTS_LIST": hive.TypeResourceRequirementsList,
	"REG_QWORD":                      hive.TypeQWord,
	"REG_QWORD_LITTLE_ENDIAN":        hive.TypeQWord,
}

// parseValueType reads REG_DWORD, dword, REG_0x1234 or a number.
func parseValueType(s string) (hive.ValueType, bool) {
	u := strings.ToUpper(strings.TrimSpace(s))
	if t, ok := valueTypeNames[u]; ok {
		return t, true
	}
	if t, ok := valueTypeNames["REG_"+u]; ok {
		return t, true
	}
	u = strings.TrimPrefix(u, "REG_")
	if n, err := strconv.ParseUint(strings.ToLower(u), 0, 32); err == nil {
		return hive.ValueType(n), true
	}
	return 0, false
}

// encodeData turns --data arguments into the bytes a value of type t stores.
func encodeData(t hive.ValueType, data []string) ([]byte, error) {
	one := func() (string, error) {
		switch len(data) {
		case 0:
			return "", fmt.Errorf("missing --data")
		case 1:
			return data[0], nil
		}
		return "", fmt.Errorf("--data given %d times; only REG_MULTI_SZ takes several", len(data))
	}
	switch t {
	case hive.TypeString, hive.TypeExpandString, hive.TypeLink:
		s := ""
		if len(data) > 0 {
			var err error
			if s, err = one(); err != nil {
				return nil, err
			}
		}
		b := utf16LE(s)
		if t != hive.TypeLink { // links are stored without a terminator
			b = append(b, 0, 0)
		}
		return b, nil
	case hive.TypeMultiString:
		var b []byte
		for _, s := range data {
			if s == "" {
				return nil, fmt.Errorf("REG_MULTI_SZ cannot hold an empty string (it would end the list)")
			}
			b = append(append(b, utf16LE(s)...), 0, 0)
		}
		return append(b, 0, 0), nil
	case hive.TypeDWord, hive.TypeDWordBigEndian, hive.TypeQWord:
		s, err := one()
		if err != nil {
			return nil, err
		}
		bits := 32
		if t == hive.TypeQWord {
			bits = 64
		}
		n, err := strconv.ParseUint(strings.TrimSpace(s), 0, bits)
		if err != nil {
			return nil, fmt.Errorf("%q is not a %d-bit unsigned number (decimal or 0x hex)", s, bits)
		}
		switch t {
		case hive.TypeDWord:
			return binary.LittleEndian.AppendUint32(nil, uint32(n)), nil
		case hive.TypeDWordBigEndian:
			return binary.BigEndian.AppendUint32(nil, uint32(n)), nil
		}
		return binary.LittleEndian.AppendUint64(nil, n), nil
	}
	// Binary, REG_NONE and any other type: hex bytes.
	digits := strings.NewReplacer(",", "", " ", "", ":", "", "\t", "").Replace(strings.Join(data, ""))
	digits = strings.TrimPrefix(strings.ToLower(digits), "0x")
	b, err := hex.DecodeString(digits)
	if err != nil {
		return nil, fmt.Errorf("not hex bytes: %q", strings.Join(data, " "))
	}
	return b, nil
}

func utf16LE(s string) []byte {
	units := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(units))
	for _, u := range units {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}
