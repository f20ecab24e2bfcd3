package wim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"testing"
	"unicode/utf16"
)

// bombMetadata builds a metadata resource whose root holds n copies of one
// file entry named name, after nsd security descriptors of sdLen bytes.
func bombMetadata(n int, name string, nsd int, sdLen int) []byte {
	root := &File{Attributes: AttrDirectory, SecurityID: -1}
	var sds [][]byte
	for range nsd {
		sds = append(sds, make([]byte, sdLen))
	}
	one := &File{Name: name, Attributes: AttrNormal, SecurityID: -1, Parent: root}
	root.Children = []*File{one}
	meta := marshalMetadata(root, sds)
	// The single child's entry is followed by the end-of-list marker:
	// repeat the entry n times in its place.
	entry := make([]byte, entryTotalLen(one))
	end := len(meta) - 8
	copy(entry, meta[end-len(entry):end])
	out := append([]byte(nil), meta[:end-len(entry)]...)
	out = append(out, bytes.Repeat(entry, n)...)
	return append(out, make([]byte, 8)...)
}

func TestMetadataBudget(t *testing.T) {
	// Within budget: parsed.
	if img, err := parseMetadataWithin(bombMetadata(1000, "f", 2, 20), 1, 4<<20); err != nil || len(img.Root.Children) != 1000 {
		t.Fatalf("a small image: %v", err)
	}
	// Entries beyond the budget: refused with ErrLimit, before they are all made.
	_, err := parseMetadataWithin(bombMetadata(200_000, "f", 0, 0), 1, 4<<20)
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("200 000 entries in a 4 MiB budget: %v, want ErrLimit", err)
	}
	// The security header: many zero-length descriptors claimed.
	sec := make([]byte, 8+8*1_000_000+104+8)
	binary.LittleEndian.PutUint32(sec[0:], uint32(8+8*1_000_000))
	binary.LittleEndian.PutUint32(sec[4:], 1_000_000)
	_, err = parseMetadata(sec, 1)
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("a million zero-length descriptors: %v, want ErrLimit", err)
	}
	// Descriptors that are real but too many for the budget.
	_, err = parseMetadataWithin(bombMetadata(1, "f", 100_000, 20), 1, 4<<20)
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("100 000 descriptors in a 4 MiB budget: %v, want ErrLimit", err)
	}
}

// FuzzMetadataBudget checks the memory budget of the metadata parser
// against what it really allocates: a metadata resource is built from the
// input (a prefix, a middle repeated up to 65 535 times, the rest: how a
// bomb is shaped) and parsed with a 2 MiB budget. Whatever the shape, the
// parser must not allocate more than twice its budget (the rest is
// garbage it leaves: decoded names, grown slices).
func FuzzMetadataBudget(f *testing.F) {
	for _, seed := range [][]byte{
		bombMetadata(1, "identicalnm", 0, 0),
		bombMetadata(1, "a much longer name than usual for one entry", 1, 20),
		bombMetadata(2, "x", 3, 40),
	} {
		n := len(seed)
		f.Add(seed, uint16(n-8-128), uint16(n-8), uint16(5000))
	}
	const limit = 2 << 20
	f.Fuzz(func(t *testing.T, data []byte, from, to, times uint16) {
		if int(to) > len(data) || from > to {
			return
		}
		mid := data[from:to]
		if len(mid)*int(times) > 16<<20 {
			return
		}
		buf := append(append(append([]byte(nil), data[:from]...), bytes.Repeat(mid, int(times))...), data[to:]...)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := parseMetadataWithin(buf, 1, limit)
		runtime.ReadMemStats(&after)
		if err != nil && !errors.Is(err, ErrFormat) && !errors.Is(err, ErrLimit) {
			t.Fatalf("error that is neither ErrFormat nor ErrLimit: %v", err)
		}
		if got := int64(after.TotalAlloc - before.TotalAlloc); got > 2*(limit+int64(len(buf)))+1<<20 {
			t.Fatalf("parsing %d bytes with a budget of %d allocated %d bytes", len(buf), limit, got)
		}
	})
}

// decodeUTF16 (one allocation, for the budget) reads names as utf16.Decode does.
func TestDecodeUTF16Same(t *testing.T) {
	old := func(b []byte) string {
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = binary.LittleEndian.Uint16(b[2*i:])
		}
		return string(utf16.Decode(u))
	}
	cases := [][]uint16{{}, {'a'}, {0xd800}, {0xd800, 'a'}, {0xdc00, 0xd800}, {0xd83d, 0xde00}, {0xd83d, 0xde00, 0xdfff}, {'x', 0xd83d}, {0xe9, 0x4e2d}}
	for _, c := range cases {
		b := make([]byte, 2*len(c))
		for i, v := range c {
			binary.LittleEndian.PutUint16(b[2*i:], v)
		}
		if old(b) != decodeUTF16(b) {
			t.Errorf("%x: %q vs %q", c, old(b), decodeUTF16(b))
		}
	}
}
