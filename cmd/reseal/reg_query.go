package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/reseal/reseal/hive"
)

const regQueryUsage = `reseal reg query HIVE [KEY] [-r] [--json]

Show the values of KEY (default: the root key) and its subkeys, in the
style of reg.exe: one line per value with its name ((Default) for the
default value), type and data; REG_MULTI_SZ strings joined by \0, numbers
in hex, other data as hex bytes. -r descends into every subkey. --json
gives each key's path, last-write time, subkey names and values (type,
data decoded where the type allows, and the raw bytes in hex).
HIVE may also be a disk image (raw, VHD, VHDX, qcow2; DISK or DISK:PART)
followed by the hive's path inside its Windows volume, read without
mounting (a dirty hive is recovered from its logs in memory):
reseal reg query disk.qcow2 Windows/System32/config/SYSTEM 'HKLM\SYSTEM\Select'.`

func runRegQuery(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("reg query")
	recursive := fs.Bool("r", false, "descend into every subkey")
	asJSON := fs.Bool("json", false, "print as JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	path, key, err := hiveKeyArgs(pos)
	if err != nil {
		return err
	}
	h, k, _, err := openHiveKey(ctx, path, key, true)
	if err != nil {
		return err
	}
	defer h.Close()
	var keys []queryKey
	err = walkKeys(ctx, k, *recursive, func(k *hive.Key) error {
		qk, err := describeKey(k)
		if err != nil {
			return fmt.Errorf("%s: key %s: %w", path, displayPath(k.Path()), err)
		}
		if *asJSON {
			keys = append(keys, qk)
			return nil
		}
		printKey(sio.Out, qk, *recursive)
		return nil
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(sio.Out, map[string]any{"hive": path, "keys": keys})
	}
	return nil
}

type queryValue struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Data any    `json:"data"`
	Hex  string `json:"hex"`
}

type queryKey struct {
	Path      string       `json:"path"`
	LastWrite time.Time    `json:"last_write"`
	SubKeys   []string     `json:"subkeys"`
	Values    []queryValue `json:"values"`
	raw       []hive.Value
}

func describeKey(k *hive.Key) (queryKey, error) {
	qk := queryKey{Path: k.Path(), LastWrite: k.LastWrite().UTC(), SubKeys: []string{}, Values: []queryValue{}}
	names, err := k.SubKeyNames()
	if err != nil {
		return qk, err
	}
	qk.SubKeys = append(qk.SubKeys, names...)
	values, err := k.Values()
	if err != nil {
		return qk, err
	}
	qk.raw = values
	for _, v := range values {
		qk.Values = append(qk.Values, queryValue{Name: v.Name, Type: v.Type.String(), Data: decodeData(v), Hex: hex.EncodeToString(v.Data)})
	}
	return qk, nil
}

// decodeData interprets a value by its type when its bytes allow it, and
// falls back to hex otherwise.
func decodeData(v hive.Value) any {
	switch v.Type {
	case hive.TypeString, hive.TypeExpandString, hive.TypeLink:
		if s, err := v.String(); err == nil {
			return s
		}
	case hive.TypeMultiString:
		if ss, err := v.Strings(); err == nil {
			if ss == nil {
				ss = []string{}
			}
			return ss
		}
	case hive.TypeDWord, hive.TypeDWordBigEndian, hive.TypeQWord:
		if n, err := v.Uint64(); err == nil {
			return n
		}
	}
	return hex.EncodeToString(v.Data)
}

// dataText renders a value's data as reg.exe shows it.
func dataText(v hive.Value) string {
	switch d := decodeData(v).(type) {
	case string:
		if isStringType(v.Type) {
			return d
		}
		return strings.ToUpper(d)
	case []string:
		return strings.Join(d, `\0`)
	case uint64:
		return fmt.Sprintf("0x%x", d)
	}
	return ""
}

func isStringType(t hive.ValueType) bool {
	return t == hive.TypeString || t == hive.TypeExpandString || t == hive.TypeLink
}

func printKey(w io.Writer, qk queryKey, recursive bool) {
	fmt.Fprintln(w, displayPath(qk.Path))
	for _, v := range qk.raw {
		name := v.Name
		if name == "" {
			name = "(Default)"
		}
		fmt.Fprintf(w, "    %s    %s    %s\n", name, v.Type, dataText(v))
	}
	fmt.Fprintln(w)
	if !recursive {
		for _, s := range qk.SubKeys {
			if qk.Path == "" {
				fmt.Fprintln(w, s)
			} else {
				fmt.Fprintln(w, qk.Path+`\`+s)
			}
		}
	}
}

// walkKeys calls fn for k and, when recursive, for every key below it,
// parents first, subkeys in stored order. A key reached twice (keys
// sharing a subkey list) stops the walk: such a hive has exponentially many
// paths.
func walkKeys(ctx context.Context, k *hive.Key, recursive bool, fn func(*hive.Key) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !recursive {
		return fn(k)
	}
	return k.Walk(ctx, func(k *hive.Key, _ int) error { return fn(k) })
}
