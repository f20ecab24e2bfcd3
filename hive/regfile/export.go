package regfile

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/reseal/reseal/hive"
)

// maxDepth bounds the recursion of Export; Windows itself refuses keys
// nested deeper than 512 levels.
const maxDepth = 512

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
	if err := x.key(k, KeyPath(o.Prefix, k.Path()), 0); err != nil {
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

func (x *exporter) key(k *hive.Key, path string, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("key %s: nested deeper than %d levels", path, maxDepth)
	}
	if x.keys%256 == 0 {
		if err := x.ctx.Err(); err != nil {
			return err
		}
	}
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
	subs, err := k.SubKeys()
	if err != nil {
		return fmt.Errorf("key %s: %w", path, err)
	}
	sep := `\`
	if strings.HasSuffix(path, `\`) {
		sep = ""
	}
	for _, s := range subs {
		if err := x.key(s, path+sep+s.Name(), depth+1); err != nil {
			return err
		}
	}
	return nil
}
