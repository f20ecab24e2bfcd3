package hive

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf16"
)

// Key is a handle to a key of an open hive. It stays valid across edits of
// other keys; once its key is deleted, its methods return errors.
type Key struct {
	h    *Hive
	off  uint32
	born uint64 // the hive's deletion epoch when the handle was made
}

// maxDepth bounds key nesting (Windows allows 512 levels), so that a
// hostile hive with a cycle cannot make a walk run forever.
const maxDepth = 512

func (h *Hive) key(off uint32) *Key { return &Key{h: h, off: off, born: h.epoch} }

// node checks the handle and returns the key's nk cell.
func (k *Key) node() (nkCell, error) {
	if k == nil || k.h == nil {
		return nkCell{}, fmt.Errorf("hive: nil key")
	}
	if k.h.closed {
		return nkCell{}, errClosed
	}
	if e, ok := k.h.deletedAt[k.off]; ok && e > k.born {
		return nkCell{}, fmt.Errorf("key was deleted: %w", ErrNotExist)
	}
	return k.h.nk(k.off)
}

// Name returns the key's name ("" for a handle that no longer works).
func (k *Key) Name() string {
	n, err := k.node()
	if err != nil {
		return ""
	}
	return n.name()
}

// Path returns the backslash-separated path from the root; "" for the root.
func (k *Key) Path() string {
	n, err := k.node()
	if err != nil {
		return ""
	}
	root := baseBlock{k.h.base}.root()
	var parts []string
	for i := 0; n.off != root && i < maxDepth; i++ {
		parts = append(parts, n.name())
		p, err := k.h.nk(n.parent())
		if err != nil {
			break
		}
		n = p
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, `\`)
}

// LastWrite returns the key's last-write time.
func (k *Key) LastWrite() time.Time {
	n, err := k.node()
	if err != nil {
		return time.Time{}
	}
	return filetimeToTime(n.lastWrite())
}

// ClassName returns the key's class name ("" when it has none).
func (k *Key) ClassName() (string, error) {
	n, err := k.node()
	if err != nil {
		return "", err
	}
	if n.classLen() == 0 || n.class() == noCell {
		return "", nil
	}
	b, err := k.h.cell(n.class())
	if err != nil {
		return "", fmt.Errorf("class name of %s: %w", quoted(n.name()), err)
	}
	if int(n.classLen()) > len(b) {
		return "", formatErr(fileOff(n.class()), "class name of %d bytes overruns its %d-byte cell", n.classLen(), len(b))
	}
	return string(utf16.Decode(decodeUTF16(b[:n.classLen()]))), nil
}

// SecurityDescriptor returns a copy of the key's self-relative security
// descriptor.
func (k *Key) SecurityDescriptor() ([]byte, error) {
	n, err := k.node()
	if err != nil {
		return nil, err
	}
	s, err := k.h.sk(n.security())
	if err != nil {
		return nil, fmt.Errorf("security of %s: %w", quoted(n.name()), err)
	}
	return append([]byte(nil), s.descriptor()...), nil
}

// keyIndex caches the case-folded names of one key's subkeys and values,
// built on first lookup and kept in step by every edit.
type keyIndex struct {
	subkeys map[string]uint32
	values  map[string]uint32
}

func (h *Hive) subkeyIndex(n nkCell) (map[string]uint32, error) {
	ix := h.index[n.off]
	if ix != nil && ix.subkeys != nil {
		return ix.subkeys, nil
	}
	offs, err := h.subkeyOffsets(n)
	if err != nil {
		return nil, err
	}
	m := make(map[string]uint32, len(offs))
	for _, o := range offs {
		c, err := h.nk(o)
		if err != nil {
			return nil, fmt.Errorf("subkey of %s: %w", quoted(n.name()), err)
		}
		m[foldKey(c.name())] = o
	}
	if ix == nil {
		ix = &keyIndex{}
		h.index[n.off] = ix
	}
	ix.subkeys = m
	return m, nil
}

func (h *Hive) valueIndex(n nkCell) (map[string]uint32, error) {
	ix := h.index[n.off]
	if ix != nil && ix.values != nil {
		return ix.values, nil
	}
	offs, err := h.valueOffsets(n)
	if err != nil {
		return nil, err
	}
	m := make(map[string]uint32, len(offs))
	for _, o := range offs {
		v, err := h.vk(o)
		if err != nil {
			return nil, fmt.Errorf("value of %s: %w", quoted(n.name()), err)
		}
		if _, dup := m[foldKey(v.name())]; !dup {
			m[foldKey(v.name())] = o
		}
	}
	if ix == nil {
		ix = &keyIndex{}
		h.index[n.off] = ix
	}
	ix.values = m
	return m, nil
}

// splitPath splits a backslash path into its non-empty components.
func splitPath(path string) ([]string, error) {
	if path == "" {
		return nil, nil
	}
	parts := strings.Split(path, `\`)
	for _, p := range parts {
		if p == "" {
			return nil, fmt.Errorf("hive: bad key path %s: empty component", quoted(path))
		}
	}
	return parts, nil
}

// OpenKey opens the key at a backslash-separated path relative to k,
// comparing names case-insensitively as Windows does. "" returns k.
func (k *Key) OpenKey(path string) (*Key, error) {
	n, err := k.node()
	if err != nil {
		return nil, err
	}
	parts, err := splitPath(path)
	if err != nil {
		return nil, err
	}
	for _, p := range parts {
		idx, err := k.h.subkeyIndex(n)
		if err != nil {
			return nil, err
		}
		off, ok := idx[foldKey(p)]
		if !ok {
			return nil, &notExistError{key: *k, path: path}
		}
		if n, err = k.h.nk(off); err != nil {
			return nil, err
		}
	}
	return k.h.key(n.off), nil
}

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	return a + `\` + b
}

// collect returns one element per cell offset that offsets lists for k's
// node, made by each in stored order; what names the cells in errors.
func collect[T any](k *Key, what string, offsets func(*Hive, nkCell) ([]uint32, error), each func(off uint32) (T, error)) ([]T, error) {
	n, err := k.node()
	if err != nil {
		return nil, err
	}
	offs, err := offsets(k.h, n)
	if err != nil {
		return nil, err
	}
	out := make([]T, len(offs))
	for i, o := range offs {
		if out[i], err = each(o); err != nil {
			return nil, fmt.Errorf("%s %d of %s: %w", what, i, quoted(n.name()), err)
		}
	}
	return out, nil
}

// SubKeys returns the key's subkeys in stored (sorted) order.
func (k *Key) SubKeys() ([]*Key, error) {
	return collect(k, "subkey", (*Hive).subkeyOffsets, func(off uint32) (*Key, error) {
		if _, err := k.h.nk(off); err != nil {
			return nil, err
		}
		return k.h.key(off), nil
	})
}

// SubKeyNames returns the names of the key's subkeys in stored order.
func (k *Key) SubKeyNames() ([]string, error) {
	return collect(k, "subkey", (*Hive).subkeyOffsets, func(off uint32) (string, error) {
		c, err := k.h.nk(off)
		if err != nil {
			return "", err
		}
		return c.name(), nil
	})
}

// Values returns the key's values in stored order.
func (k *Key) Values() ([]Value, error) {
	return collect(k, "value", (*Hive).valueOffsets, k.h.readValue)
}

func (h *Hive) readValue(off uint32) (Value, error) {
	v, err := h.vk(off)
	if err != nil {
		return Value{}, err
	}
	d, err := h.valueData(v)
	if err != nil {
		return Value{}, err
	}
	return Value{Name: v.name(), Type: v.typ(), Data: append([]byte{}, d...)}, nil
}

// ValueNames returns the names of the key's values in stored order.
func (k *Key) ValueNames() ([]string, error) {
	return collect(k, "value", (*Hive).valueOffsets, func(off uint32) (string, error) {
		v, err := k.h.vk(off)
		if err != nil {
			return "", err
		}
		return v.name(), nil
	})
}

// Value returns the named value (case-insensitive; "" is the default value).
func (k *Key) Value(name string) (Value, error) {
	n, err := k.node()
	if err != nil {
		return Value{}, err
	}
	idx, err := k.h.valueIndex(n)
	if err != nil {
		return Value{}, err
	}
	off, ok := idx[foldKey(name)]
	if !ok {
		return Value{}, &notExistError{key: *k, value: name, isValue: true}
	}
	return k.h.readValue(off)
}

// notExistError is a key or value that does not exist (it wraps
// ErrNotExist). Its message, naming the key by its path, is built only
// when asked for: callers that probe for a value (an import checking
// whether a value already holds the data) miss thousands of times, and
// building the path each time cost more than the lookup.
type notExistError struct {
	key     Key    // the key looked in
	path    string // the key path below it (OpenKey)
	value   string // the value name (Value, DeleteValue)
	isValue bool
}

func (e *notExistError) Error() string {
	// The path is that of the key when the message is made; a key deleted
	// since has none.
	if e.isValue {
		return fmt.Sprintf("value %s of key %s: %v", quoted(e.value), quoted(e.key.Path()), ErrNotExist)
	}
	return fmt.Sprintf("key %s: %v", quoted(joinPath(e.key.Path(), e.path)), ErrNotExist)
}

func (e *notExistError) Unwrap() error { return ErrNotExist }
