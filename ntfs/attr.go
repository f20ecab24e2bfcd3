package ntfs

import (
	"container/list"
	"encoding/binary"
	"sort"
	"sync"
	"unicode/utf16"
)

// Attribute types.
const (
	attrStandardInfo = 0x10
	attrList         = 0x20
	attrFileName     = 0x30
	attrSecurity     = 0x50
	attrVolumeName   = 0x60
	attrVolumeInfo   = 0x70
	attrData         = 0x80
	attrIndexRoot    = 0x90
	attrReparse      = 0xc0
	attrEnd          = 0xffffffff
)

// Attribute flags.
const (
	flagCompressed = 0x0001
	flagEncrypted  = 0x4000
	flagSparse     = 0x8000
)

// Record header flags.
const (
	recInUse = 0x0001
	recDir   = 0x0002
)

// maxResident bounds a resident value (it lives inside one record).
const maxExtents = 4096 // extents of one attribute across records

// attr is one attribute (or one extent of a non-resident attribute).
type attr struct {
	typ       uint32
	name      string
	flags     uint16
	id        uint16
	resident  bool
	value     []byte // resident value (a copy)
	startVCN  int64
	lastVCN   int64
	runs      []byte // the raw mapping pairs (a copy)
	cuShift   uint8  // compression unit, as a power of two of clusters
	allocSize int64
	dataSize  int64
	initSize  int64
}

// recordHeader holds what the scan needs from a FILE record's header.
type recordHeader struct {
	seq   uint16
	links uint16
	flags uint16
	base  uint64
}

func parseHeader(b []byte) recordHeader {
	le := binary.LittleEndian
	return recordHeader{seq: le.Uint16(b[16:]), links: le.Uint16(b[18:]), flags: le.Uint16(b[22:]), base: le.Uint64(b[32:])}
}

// parseAttrs lists the attributes of one record.
func parseAttrs(b []byte, rec int64) ([]attr, error) {
	le := binary.LittleEndian
	if len(b) < 48 {
		return nil, corrupt(rec, "record too short")
	}
	off := int(le.Uint16(b[20:]))
	used := int(le.Uint32(b[24:]))
	if used > len(b) || used < 24 {
		used = len(b)
	}
	var out []attr
	for i := 0; ; i++ {
		if off+8 > used || off < 24 {
			return nil, corrupt(rec, "attribute at %d runs past the record's used size %d", off, used)
		}
		typ := le.Uint32(b[off:])
		if typ == attrEnd {
			return out, nil
		}
		length := int(le.Uint32(b[off+4:]))
		if length < 24 || off+length > used || length%8 != 0 {
			return nil, corrupt(rec, "attribute %#x at %d has length %d (record used size %d)", typ, off, length, used)
		}
		a := b[off : off+length]
		at := attr{typ: typ, resident: a[8] == 0, flags: le.Uint16(a[12:]), id: le.Uint16(a[14:])}
		nameLen, nameOff := int(a[9]), int(le.Uint16(a[10:]))
		if nameLen > 0 {
			if nameOff+2*nameLen > length {
				return nil, corrupt(rec, "attribute %#x name runs past the attribute", typ)
			}
			at.name = utf16le(a[nameOff : nameOff+2*nameLen])
		}
		if at.resident {
			vlen, voff := int(le.Uint32(a[16:])), int(le.Uint16(a[20:]))
			if voff+vlen > length || voff < 0 {
				return nil, corrupt(rec, "resident attribute %#x value (%d bytes at %d) runs past the attribute", typ, vlen, voff)
			}
			at.value = append([]byte(nil), a[voff:voff+vlen]...)
			at.dataSize, at.initSize, at.allocSize = int64(vlen), int64(vlen), int64(vlen)
		} else {
			if length < 64 {
				return nil, corrupt(rec, "non-resident attribute %#x too short", typ)
			}
			at.startVCN = int64(le.Uint64(a[16:]))
			at.lastVCN = int64(le.Uint64(a[24:]))
			runOff := int(le.Uint16(a[32:]))
			at.cuShift = uint8(le.Uint16(a[34:]))
			at.allocSize = int64(le.Uint64(a[40:]))
			at.dataSize = int64(le.Uint64(a[48:]))
			at.initSize = int64(le.Uint64(a[56:]))
			if runOff > length || runOff < 64 {
				return nil, corrupt(rec, "attribute %#x mapping pairs at %d outside the attribute", typ, runOff)
			}
			if at.startVCN < 0 || at.lastVCN < at.startVCN-1 || at.dataSize < 0 || at.initSize < 0 || at.allocSize < 0 || at.cuShift > 16 {
				return nil, corrupt(rec, "attribute %#x has VCNs %d..%d, sizes %d/%d/%d", typ, at.startVCN, at.lastVCN, at.allocSize, at.dataSize, at.initSize)
			}
			at.runs = append([]byte(nil), a[runOff:]...)
		}
		out = append(out, at)
		off += length
	}
}

func utf16le(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// fileAttrs returns all attributes of base record n, following its
// attribute list into extension records.
func (v *Volume) fileAttrs(n int64) ([]attr, error) {
	b, err := v.record(n)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, corrupt(n, "not in use")
	}
	attrs, err := parseAttrs(b, n)
	if err != nil {
		return nil, err
	}
	var listAttr *attr
	for i := range attrs {
		if attrs[i].typ == attrList {
			listAttr = &attrs[i]
		}
	}
	if listAttr == nil {
		return attrs, nil
	}
	var list []byte
	if listAttr.resident {
		list = listAttr.value
	} else {
		if listAttr.dataSize > 16<<20 {
			return nil, corrupt(n, "attribute list of %d bytes", listAttr.dataSize)
		}
		s, err := v.newStream(n, []attr{*listAttr})
		if err != nil {
			return nil, err
		}
		list = make([]byte, s.size)
		if _, err := s.ReadAt(list, 0); err != nil && s.size > 0 {
			return nil, err
		}
	}
	// Records named by the list (other than the base) contribute their
	// attributes; each record is read once.
	le := binary.LittleEndian
	seen := map[int64]bool{n: true}
	out := attrs
	for off := 0; off+26 <= len(list); {
		l := int(le.Uint16(list[off+4:]))
		if l < 26 || off+l > len(list) {
			return nil, corrupt(n, "attribute list entry at %d has length %d", off, l)
		}
		ref := int64(le.Uint64(list[off+16:]) & 0xffffffffffff)
		off += l
		if seen[ref] {
			continue
		}
		if len(seen) > maxExtents {
			return nil, corrupt(n, "attribute list names more than %d records", maxExtents)
		}
		seen[ref] = true
		eb, err := v.record(ref)
		if err != nil {
			return nil, err
		}
		if eb == nil {
			return nil, corrupt(n, "attribute list names record %d, which is not in use", ref)
		}
		if h := parseHeader(eb); int64(h.base&0xffffffffffff) != n {
			return nil, corrupt(n, "attribute list names record %d, which belongs to record %d", ref, h.base&0xffffffffffff)
		}
		ea, err := parseAttrs(eb, ref)
		if err != nil {
			return nil, err
		}
		out = append(out, ea...)
	}
	return out, nil
}

// pick returns the extents of the attribute of type typ and name, sorted by
// starting VCN.
func pick(attrs []attr, typ uint32, name string) []attr {
	var out []attr
	for _, a := range attrs {
		if a.typ == typ && a.name == name {
			out = append(out, a)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].startVCN < out[j].startVCN })
	return out
}

// recordCache is a bounded LRU of MFT records.
type recordCache struct {
	mu    sync.Mutex
	max   int
	lru   *list.List
	items map[int64]*list.Element
}

type recEntry struct {
	n int64
	b []byte
}

func newRecordCache(max int) *recordCache {
	return &recordCache{max: max, lru: list.New(), items: map[int64]*list.Element{}}
}

func (c *recordCache) get(n int64) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[n]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*recEntry).b, true
	}
	return nil, false
}

func (c *recordCache) put(n int64, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[n]; ok {
		return
	}
	c.items[n] = c.lru.PushFront(&recEntry{n, b})
	for c.lru.Len() > c.max {
		e := c.lru.Back()
		c.lru.Remove(e)
		delete(c.items, e.Value.(*recEntry).n)
	}
}
