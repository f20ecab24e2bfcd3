package sample

import (
	"bytes"
	"fmt"
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

// serializeHive is writeHive without the file: the hive bytes.
func serializeHive(t *regTree, now time.Time) ([]byte, error) {
	h, err := buildHive(t, now)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	var buf bytes.Buffer
	if _, err := h.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// buildHive builds t with reseal's hive writer and checks the result.
// Every key and the base block are stamped now, so that a sample is the
// same bytes for the same seed.
func buildHive(t *regTree, now time.Time) (*hive.Hive, error) {
	h := hive.NewWithOptions(&hive.NewOptions{Clock: func() time.Time { return now }})
	root := h.Root()
	for _, k := range t.keys {
		key, err := root.CreateKey(k.path)
		if err != nil {
			h.Close()
			return nil, fmt.Errorf("create key %s: %w", k.path, err)
		}
		for _, val := range k.values {
			if err := key.SetValue(val.name, hive.ValueType(val.typ), val.data); err != nil {
				h.Close()
				return nil, fmt.Errorf("set %s\\%s: %w", k.path, val.name, err)
			}
		}
	}
	if problems := h.Check(); len(problems) > 0 {
		h.Close()
		return nil, fmt.Errorf("hive writer produced a hive that fails its check: %v", problems[0])
	}
	return h, nil
}
