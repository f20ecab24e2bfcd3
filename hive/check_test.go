package hive

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// sampleHive is a small new hive with enough structure to corrupt.
func sampleHive(t *testing.T) *Hive {
	t.Helper()
	h := New()
	for i := 0; i < 20; i++ {
		k, err := h.Root().CreateKey(fmt.Sprintf(`Parent\Child%02d`, i))
		if err != nil {
			t.Fatal(err)
		}
		if err := k.SetDWord("N", uint32(i)); err != nil {
			t.Fatal(err)
		}
		if err := k.SetString("Name", strings.Repeat("x", i*10)); err != nil {
			t.Fatal(err)
		}
	}
	if ps := h.Check(); len(ps) > 0 {
		t.Fatalf("fresh hive fails Check: %v", ps)
	}
	return h
}

func parentList(t *testing.T, h *Hive) []byte {
	t.Helper()
	k, err := h.Root().OpenKey("Parent")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := h.nk(k.off)
	b, err := h.cell(n.subkeyList())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCheckFindsDefects corrupts sound hives one way at a time; Check must
// name each defect.
func TestCheckFindsDefects(t *testing.T) {
	cases := []struct {
		name    string
		corrupt func(t *testing.T, h *Hive)
		want    string
	}{
		{"wrong lh hash", func(t *testing.T, h *Hive) {
			b := parentList(t, h)
			le.PutUint32(b[8:], le.Uint32(b[8:])+1)
		}, "hash of"},
		{"unsorted list", func(t *testing.T, h *Hive) {
			b := parentList(t, h)
			var tmp [8]byte
			copy(tmp[:], b[4:12])
			copy(b[4:12], b[12:20])
			copy(b[12:20], tmp[:])
		}, "not sorted"},
		{"subkey count", func(t *testing.T, h *Hive) {
			k, _ := h.Root().OpenKey("Parent")
			n, _ := h.nk(k.off)
			le.PutUint16(h.data[n.subkeyList()+4+2:], 19)
		}, "subkey count"},
		{"security refcount", func(t *testing.T, h *Hive) {
			n, _ := h.nk(h.Root().off)
			s, _ := h.sk(n.security())
			le.PutUint32(s.b[12:], s.refs()+5)
		}, "reference count"},
		{"shared value list", func(t *testing.T, h *Hive) {
			a, _ := h.Root().OpenKey(`Parent\Child01`)
			b, _ := h.Root().OpenKey(`Parent\Child02`)
			na, _ := h.nk(a.off)
			nb, _ := h.nk(b.off)
			le.PutUint32(nb.b[40:], na.valueList())
		}, "uses the same cell"},
		{"max name field", func(t *testing.T, h *Hive) {
			k, _ := h.Root().OpenKey("Parent")
			n, _ := h.nk(k.off)
			le.PutUint32(n.b[52:], 2)
		}, "largest subkey name"},
		{"dangling value", func(t *testing.T, h *Hive) {
			k, _ := h.Root().OpenKey(`Parent\Child03`)
			n, _ := h.nk(k.off)
			b, _ := h.cell(n.valueList())
			le.PutUint32(b, le.Uint32(b)+8)
		}, "not the start of a cell"},
		{"wrong parent", func(t *testing.T, h *Hive) {
			k, _ := h.Root().OpenKey(`Parent\Child04`)
			n, _ := h.nk(k.off)
			le.PutUint32(n.b[16:], n.off)
		}, "parent field"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := sampleHive(t)
			c.corrupt(t, h)
			ps := h.Check()
			for _, p := range ps {
				if strings.Contains(p.Message, c.want) {
					return
				}
			}
			t.Fatalf("Check did not report %q; got %v", c.want, ps)
		})
	}
}

// TestEditsKeepStructure exercises the writer's bookkeeping directly.
func TestEditsKeepStructure(t *testing.T) {
	h := New()
	root := h.Root()
	a, err := root.CreateKey(`A\B`)
	if err != nil {
		t.Fatal(err)
	}
	if a.Path() != `A\B` || a.Name() != "B" || root.Path() != "" || root.Name() != "ROOT" {
		t.Fatalf("paths: %q %q %q", a.Path(), a.Name(), root.Path())
	}
	again, err := root.CreateKey(`a\b`)
	if err != nil || again.off != a.off {
		t.Fatalf("CreateKey of an existing key (other case) made another key: %v", err)
	}
	// Security is shared with the parent and counted.
	n, _ := h.nk(root.off)
	s, _ := h.sk(n.security())
	if s.refs() != 3 {
		t.Fatalf("security refs = %d, want 3 (root, A, B)", s.refs())
	}
	// Values: case-insensitive, stored name kept, typed accessors.
	fixed := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	h.now = func() time.Time { return fixed }
	if err := a.SetString("Hello", "world"); err != nil {
		t.Fatal(err)
	}
	if !a.LastWrite().Equal(fixed) {
		t.Fatalf("last write %v after an edit at %v", a.LastWrite(), fixed)
	}
	h.now = time.Now
	if err := a.SetString("HELLO", "again"); err != nil {
		t.Fatal(err)
	}
	names, _ := a.ValueNames()
	if len(names) != 1 || names[0] != "Hello" {
		t.Fatalf("value names %q", names)
	}
	if s, _ := mustValue(t, a, "hello").String(); s != "again" {
		t.Fatalf("value %q", s)
	}
	if err := a.SetMultiString("M", []string{"x", "", "y"}); err != nil {
		t.Fatal(err)
	}
	if ss, _ := mustValue(t, a, "m").Strings(); fmt.Sprint(ss) != "[x  y]" {
		t.Fatalf("multi %q", ss)
	}
	if err := a.SetQWord("Q", 1<<40); err != nil {
		t.Fatal(err)
	}
	if q, _ := mustValue(t, a, "Q").Uint64(); q != 1<<40 {
		t.Fatalf("qword %d", q)
	}
	big := make([]byte, 100000)
	for i := range big {
		big[i] = byte(i * 7)
	}
	if err := a.SetBinary("", big); err != nil {
		t.Fatal(err)
	}
	if v := mustValue(t, a, ""); string(v.Data) != string(big) || v.Type != TypeBinary {
		t.Fatalf("big default value differs")
	}
	// A deleted key's handle stops working, even once its cell is reused.
	b2, _ := root.OpenKey(`A\B`)
	if err := root.DeleteKey("A"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		if _, err := root.CreateKey(fmt.Sprintf("Z%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b2.Values(); err == nil {
		t.Fatal("handle of a deleted key still works")
	}
	if err := a.SetDWord("x", 1); err == nil {
		t.Fatal("set on a deleted key succeeded")
	}
	if err := root.DeleteKey("A"); !isNotExist(err) {
		t.Fatalf("deleting a missing key: %v", err)
	}
	if err := root.DeleteValue("nope"); !isNotExist(err) {
		t.Fatalf("deleting a missing value: %v", err)
	}
	n, _ = h.nk(root.off)
	s, _ = h.sk(n.security())
	if s.refs() != 51 {
		t.Fatalf("security refs = %d after delete and 50 creations, want 51", s.refs())
	}
	if ps := h.Check(); len(ps) > 0 {
		t.Fatalf("Check: %v", ps)
	}
	// Everything freed coalesces back: deleting all keys leaves the used
	// bins with few, large free cells.
	for i := 0; i < 50; i++ {
		if err := root.DeleteKey(fmt.Sprintf("z%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	free := 0
	for off := uint32(binHeaderSize); int(off) < len(h.data); {
		raw := int32(le.Uint32(h.data[off:]))
		if raw > 0 {
			free++
			off += uint32(raw)
		} else {
			off += uint32(-raw)
		}
		if off%binAlign == 0 && int(off) < len(h.data) {
			off += binHeaderSize
		}
	}
	if bins := len(h.bins); free > bins {
		t.Fatalf("%d free cells in %d bins: freed cells were not merged", free, bins)
	}
}

func isNotExist(err error) bool { return err != nil && errors.Is(err, ErrNotExist) }

func TestValueTypeNames(t *testing.T) {
	for _, c := range []struct {
		t    ValueType
		want string
	}{{TypeString, "REG_SZ"}, {TypeQWord, "REG_QWORD"}, {TypeDWordBigEndian, "REG_DWORD_BIG_ENDIAN"}, {0x1234, "REG_0x1234"}} {
		if got := c.t.String(); got != c.want {
			t.Errorf("%d: %q, want %q", c.t, got, c.want)
		}
		if back, ok := ParseValueType(c.want); !ok || back != c.t {
			t.Errorf("ParseValueType(%q) = %v %v", c.want, back, ok)
		}
	}
	be := Value{Type: TypeDWordBigEndian, Data: []byte{0, 0, 1, 2}}
	if v, err := be.Uint64(); err != nil || v != 0x102 {
		t.Errorf("big-endian dword %x %v", v, err)
	}
	if _, err := (Value{Type: TypeBinary}).String(); err == nil {
		t.Error("String of binary value succeeded")
	}
}

// TestDeleteDamagedSubtreeChangesNothing: a subtree with a bad reference
// cannot be deleted, and the failed attempt leaves the hive as it was.
func TestDeleteDamagedSubtreeChangesNothing(t *testing.T) {
	h := sampleHive(t)
	k, _ := h.Root().OpenKey(`Parent\Child05`)
	n, _ := h.nk(k.off)
	le.PutUint32(n.b[40:], n.valueList()+8) // value list now points inside a cell
	before := append([]byte(nil), h.data...)
	if err := h.Root().DeleteKey("Parent"); err == nil || !errors.Is(err, ErrFormat) {
		t.Fatalf("DeleteKey of a damaged subtree: %v", err)
	}
	if !bytes.Equal(before, h.data) {
		t.Fatal("a failed DeleteKey changed the hive")
	}
}
