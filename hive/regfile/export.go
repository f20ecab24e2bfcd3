package regfile

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/reseal/reseal/hive"
)

// ExportOptions tunes Export; the zero value writes UTF-16LE paths relative
// to the hive root ([\], [\Name]).
type ExportOptions struct {
	// Prefix is prepended to every key path, e.g. HKEY_LOCAL_MACHINE\SYSTEM.
	Prefix string
	// Encoding of the output: UTF16LE (with a byte order mark, as regedit
	// writes) or UTF8.
	Encoding Encoding
	// Progress, when set, is called after each key with the number of keys
	// written so far.
	Progress func(keys int)
}

// Export writes the key k and everything below it to w in regedit's
// "Windows Registry Editor Version 5.00" format, keys in stored order,
// each key's values in stored order.
func Export(ctx context.Context, w io.Writer, k *hive.Key, opts *ExportOptions) error {
	var o ExportOptions
	if opts != nil {
		o = *opts
	}
	x := exporter{ctx: ctx, enc: NewEncoder(w, o.Encoding), progress: o.Progress}
	if err := x.tree(k, KeyPath(o.Prefix, k.Path())); err != nil {
		return err
	}
	return x.enc.Close()
}

// KeyPath is the path a .reg file names a hive key by: the key's path
// below the root after prefix; without a prefix, after a backslash, as
// hivex writes it (the root itself is "\").
func KeyPath(prefix, path string) string {
	prefix = strings.TrimRight(prefix, `\`)
	switch {
	case prefix == "":
		return `\` + path
	case path == "":
		return prefix
	}
	return prefix + `\` + path
}

type exporter struct {
	ctx      context.Context
	enc      *Encoder
	progress func(int)
	keys     int
}

// tree writes k and every key below it. Paths are built from the walk's
// depth: paths[d] is the path of the key last seen at depth d. A key
// reached twice (keys sharing a subkey list) stops the export.
func (x *exporter) tree(k *hive.Key, path string) error {
	paths := []string{path}
	return k.Walk(x.ctx, func(k *hive.Key, depth int) error {
		if depth > 0 {
			parent := paths[depth-1]
			sep := `\`
			if strings.HasSuffix(parent, `\`) {
				sep = ""
			}
			paths = append(paths[:depth], parent+sep+k.Name())
		}
		return x.key(k, paths[depth])
	})
}

func (x *exporter) key(k *hive.Key, path string) error {
	if err := x.enc.WriteKey(path); err != nil {
		return err
	}
	values, err := k.Values()
	if err != nil {
		return fmt.Errorf("key %s: %w", path, err)
	}
	for _, v := range values {
		if err := x.enc.WriteValue(v.Name, v.Type, v.Data); err != nil {
			return fmt.Errorf("key %s value %q: %w", path, v.Name, err)
		}
	}
	x.keys++
	if x.progress != nil {
		x.progress(x.keys)
	}
	return nil
}
