package sample

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/reseal/reseal/hive"
)

// writeHive builds a hive from t with reseal's hive writer, checks it, and
// writes it to path (a new file of a new volume) with every timestamp set
// to now.
func writeHive(t *regTree, path string, now time.Time) error {
	b, err := serializeHive(t, now)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// buildHive serializes t with reseal's hive writer after checking it.
func buildHive(t *regTree, w io.Writer) error {
	h := hive.New()
	defer h.Close()
	root := h.Root()
	for _, k := range t.keys {
		key, err := root.CreateKey(k.path)
		if err != nil {
			return fmt.Errorf("create key %s: %w", k.path, err)
		}
		for _, val := range k.values {
			if err := key.SetValue(val.name, hive.ValueType(val.typ), val.data); err != nil {
				return fmt.Errorf("set %s\\%s: %w", k.path, val.name, err)
			}
		}
	}
	if problems := h.Check(); len(problems) > 0 {
		return fmt.Errorf("hive writer produced a hive that fails its check: %v", problems[0])
	}
	_, err := h.WriteTo(w)
	return err
}

// stampHive sets the base block's and every key's last-write time to now
// and fixes the base block checksum. The hive writer stamps keys with the
// wall clock; a sample must be the same bytes for the same seed.
//
// regf layout (msuhanov/regf): a 4096-byte base block (timestamp at 0x0C,
// XOR checksum of its first 508 bytes at 0x1FC), then hive bins ("hbin",
// size at 0x08) holding cells: a 32-bit size (negative when allocated)
// then the cell; a key cell starts "nk", flags, then its timestamp.
func stampHive(b []byte, now time.Time) error {
	const base = 4096
	if len(b) < base || string(b[:4]) != "regf" {
		return errors.New("not a regf hive")
	}
	ft := filetime(now)
	le := binary.LittleEndian
	le.PutUint64(b[0x0c:], ft)
	for off := base; off+32 <= len(b); {
		if string(b[off:off+4]) != "hbin" {
			return fmt.Errorf("no hive bin at offset %#x", off)
		}
		size := int(le.Uint32(b[off+8:]))
		if size < 4096 || off+size > len(b) {
			return fmt.Errorf("hive bin at %#x has size %#x", off, size)
		}
		if off == base {
			le.PutUint64(b[off+0x14:], ft)
		}
		for c := off + 32; c+4 <= off+size; {
			n := int(int32(le.Uint32(b[c:])))
			if n < 0 {
				n = -n
				if n >= 16 && c+n <= off+size && string(b[c+4:c+6]) == "nk" {
					le.PutUint64(b[c+8:], ft)
				}
			}
			if n < 8 {
				return fmt.Errorf("cell at %#x has size %d", c, n)
			}
			c += n
		}
		off += size
	}
	var sum uint32
	for i := 0; i < 0x1fc; i += 4 {
		sum ^= le.Uint32(b[i:])
	}
	switch sum {
	case 0:
		sum = 1
	case 0xffffffff:
		sum = 0xfffffffe
	}
	le.PutUint32(b[0x1fc:], sum)
	return nil
}
