package regfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/reseal/reseal/hive"
)

// ImportOptions tunes Import; the zero value expects paths relative to the
// hive root ([\Name] or [Name]).
type ImportOptions struct {
	// Prefix is stripped from every key path, e.g. HKEY_LOCAL_MACHINE\SYSTEM;
	// a key outside it is an error. HKLM, HKCU, HKCR, HKU and HKCC stand
	// for the long root names on either side.
	Prefix string
	// Parse tunes the parser.
	Parse *ParseOptions
	// OnChange, when set, is told of each change as it is made (so a dry
	// run can list what an import would do).
	OnChange func(Change)
}

// Change is one effective change an import made.
type Change struct {
	Kind Kind   // CreateKey, DeleteKey, SetValue or DeleteValue
	Line int    // the line of the .reg file that asked for it
	Path string // key path in the hive, "" for the root
	Name string // value name (SetValue, DeleteValue)
	Type hive.ValueType
	Data []byte
}

// ImportStats counts what an import changed.
type ImportStats struct {
	KeysCreated     int // including intermediate keys
	KeysDeleted     int
	ValuesSet       int // created or changed
	ValuesUnchanged int // already held the same type and bytes
	ValuesDeleted   int
	Ops             int // operations read from the file
}

// Import reads a .reg file from r and applies it to the hive whose root is
// root: [KEY] creates the key with its parents, values are set (a value
// that already holds the same type and bytes is left alone), [-KEY] deletes
// a key recursively and "name"=- a value; deleting what does not exist is
// not an error, as in regedit. The hive is changed in memory only; the
// caller commits it. On error the hive holds the changes made up to the
// failing line, and the error names that line.
func Import(ctx context.Context, root *hive.Key, r io.Reader, opts *ImportOptions) (ImportStats, error) {
	var o ImportOptions
	if opts != nil {
		o = *opts
	}
	var stats ImportStats
	p, err := NewParser(r, o.Parse)
	if err != nil {
		return stats, err
	}
	im := importer{root: root, prefix: o.Prefix, onChange: o.OnChange, stats: &stats}
	for {
		op, err := p.Next()
		if err == io.EOF {
			return stats, nil
		}
		if err != nil {
			return stats, err
		}
		stats.Ops++
		if stats.Ops%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return stats, err
			}
		}
		if err := im.apply(op); err != nil {
			return stats, fmt.Errorf("line %d: %w", op.Line, err)
		}
	}
}

// Apply applies already parsed operations to the hive whose root is root,
// as Import does.
func Apply(ctx context.Context, root *hive.Key, ops []Op, opts *ImportOptions) (ImportStats, error) {
	var o ImportOptions
	if opts != nil {
		o = *opts
	}
	var stats ImportStats
	im := importer{root: root, prefix: o.Prefix, onChange: o.OnChange, stats: &stats}
	for i, op := range ops {
		if i%1024 == 1023 {
			if err := ctx.Err(); err != nil {
				return stats, err
			}
		}
		stats.Ops++
		if err := im.apply(op); err != nil {
			return stats, fmt.Errorf("line %d: %w", op.Line, err)
		}
	}
	return stats, nil
}

type importer struct {
	root     *hive.Key
	prefix   string
	onChange func(Change)
	stats    *ImportStats
	cur      *hive.Key // the key of the current [KEY] section
	curPath  string
	curFor   string // the op.Key cur was opened for
}

func (im *importer) apply(op Op) error {
	switch op.Kind {
	case CreateKey:
		path, err := RelativePath(op.Key, im.prefix)
		if err != nil {
			return err
		}
		k, err := im.createKey(op, path)
		if err != nil {
			return err
		}
		im.cur, im.curPath, im.curFor = k, path, op.Key
	case DeleteKey:
		path, err := RelativePath(op.Key, im.prefix)
		if err != nil {
			return err
		}
		if path == "" {
			return fmt.Errorf("[-%s]: refusing to delete the hive's root key", op.Key)
		}
		im.cur = nil
		err = im.root.DeleteKey(path)
		if errors.Is(err, hive.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("delete key %s: %w", path, err)
		}
		im.stats.KeysDeleted++
		im.change(Change{Kind: DeleteKey, Line: op.Line, Path: path})
	case SetValue, DeleteValue:
		if im.cur == nil || im.curFor != op.Key {
			// Ops built by hand may name their key without a CreateKey.
			if err := im.apply(Op{Kind: CreateKey, Line: op.Line, Key: op.Key}); err != nil {
				return err
			}
		}
		if op.Kind == DeleteValue {
			err := im.cur.DeleteValue(op.Name)
			if errors.Is(err, hive.ErrNotExist) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("key %s: delete value %q: %w", im.curPath, op.Name, err)
			}
			im.stats.ValuesDeleted++
			im.change(Change{Kind: DeleteValue, Line: op.Line, Path: im.curPath, Name: op.Name})
			return nil
		}
		old, err := im.cur.Value(op.Name)
		if err == nil && old.Type == op.Type && bytes.Equal(old.Data, op.Data) {
			im.stats.ValuesUnchanged++
			return nil
		}
		if err := im.cur.SetValue(op.Name, op.Type, op.Data); err != nil {
			return fmt.Errorf("key %s: set value %q: %w", im.curPath, op.Name, err)
		}
		im.stats.ValuesSet++
		im.change(Change{Kind: SetValue, Line: op.Line, Path: im.curPath, Name: op.Name, Type: op.Type, Data: op.Data})
	default:
		return fmt.Errorf("unknown operation %d", op.Kind)
	}
	return nil
}

// createKey opens path, creating it and any missing parents, and reports
// each key it creates.
func (im *importer) createKey(op Op, path string) (*hive.Key, error) {
	if path == "" {
		return im.root, nil
	}
	k, err := im.root.OpenKey(path)
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, hive.ErrNotExist) {
		return nil, fmt.Errorf("open key %s: %w", path, err)
	}
	// Find the deepest existing ancestor, then create downwards.
	parts := strings.Split(path, `\`)
	parent, i := im.root, 0
	for ; i < len(parts)-1; i++ {
		next, err := parent.OpenKey(parts[i])
		if errors.Is(err, hive.ErrNotExist) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("open key %s: %w", strings.Join(parts[:i+1], `\`), err)
		}
		parent = next
	}
	for ; i < len(parts); i++ {
		next, err := parent.CreateKey(parts[i])
		if err != nil {
			return nil, fmt.Errorf("create key %s: %w", strings.Join(parts[:i+1], `\`), err)
		}
		parent = next
		im.stats.KeysCreated++
		im.change(Change{Kind: CreateKey, Line: op.Line, Path: strings.Join(parts[:i+1], `\`)})
	}
	return parent, nil
}

func (im *importer) change(c Change) {
	if im.onChange != nil {
		im.onChange(c)
	}
}

// rootAbbreviations maps the short root names reg.exe accepts to the
// names regedit writes.
var rootAbbreviations = map[string]string{
	"HKLM": "HKEY_LOCAL_MACHINE",
	"HKCU": "HKEY_CURRENT_USER",
	"HKCR": "HKEY_CLASSES_ROOT",
	"HKU":  "HKEY_USERS",
	"HKCC": "HKEY_CURRENT_CONFIG",
}

func expandRoot(path string) string {
	first, rest, found := strings.Cut(path, `\`)
	if long, ok := rootAbbreviations[strings.ToUpper(first)]; ok {
		if found {
			return long + `\` + rest
		}
		return long
	}
	return path
}

// RelativePath turns a key path of a .reg file into a path below the hive
// root by removing prefix (compared case-insensitively, on a backslash
// boundary). Without a prefix the path must be relative to the root
// (hivex's [\Name], or [Name]); a path that starts with a registry root
// such as HKEY_LOCAL_MACHINE is then refused, since it would otherwise
// become a key of that name. The root itself is "".
func RelativePath(keyPath, prefix string) (string, error) {
	path := strings.TrimRight(keyPath, `\`)
	prefix = strings.TrimRight(prefix, `\`)
	if prefix == "" {
		if strings.HasPrefix(path, `\`) {
			path = path[1:]
		} else if first, _, _ := strings.Cut(path, `\`); isRootName(first) {
			return "", fmt.Errorf("key [%s] starts with the registry root %s: give the prefix that maps to this hive (e.g. --prefix %s)", keyPath, first, suggestPrefix(path))
		}
	} else {
		path, prefix = expandRoot(path), expandRoot(prefix)
		switch {
		case strings.EqualFold(path, prefix):
			path = ""
		case len(path) > len(prefix) && path[len(prefix)] == '\\' && strings.EqualFold(path[:len(prefix)], prefix):
			path = path[len(prefix)+1:]
		default:
			return "", fmt.Errorf("key [%s] is outside the prefix %s", keyPath, prefix)
		}
	}
	if path != "" {
		for _, part := range strings.Split(path, `\`) {
			if part == "" {
				return "", fmt.Errorf("key [%s] has an empty name between backslashes", keyPath)
			}
		}
	}
	return path, nil
}

func isRootName(s string) bool {
	u := strings.ToUpper(s)
	_, abbreviation := rootAbbreviations[u]
	return abbreviation || strings.HasPrefix(u, "HKEY_")
}

func suggestPrefix(path string) string {
	parts := strings.SplitN(path, `\`, 3)
	if len(parts) >= 2 {
		return `'` + parts[0] + `\` + parts[1] + `'`
	}
	return `'` + path + `'`
}
