package hive

import "fmt"

// Typed views of cells. Each constructor checks the signature and that
// every fixed field and the name fit in the cell.

type nkCell struct {
	off uint32
	b   []byte
}

const nkFixed = 76

func (h *Hive) nk(off uint32) (nkCell, error) {
	b, err := h.cell(off)
	if err != nil {
		return nkCell{}, err
	}
	if len(b) < nkFixed || string(b[:2]) != "nk" {
		return nkCell{}, formatErr(fileOff(off), "cell of %d bytes is not a key node (signature %q)", len(b), sig(b))
	}
	if n := int(le.Uint16(b[72:])); nkFixed+n > len(b) {
		return nkCell{}, formatErr(fileOff(off), "key name of %d bytes overruns its %d-byte cell", n, len(b))
	}
	return nkCell{off, b}, nil
}

func sig(b []byte) string { return string(b[:min(2, len(b))]) }

func (n nkCell) flags() uint16         { return le.Uint16(n.b[2:]) }
func (n nkCell) lastWrite() uint64     { return le.Uint64(n.b[4:]) }
func (n nkCell) parent() uint32        { return le.Uint32(n.b[16:]) }
func (n nkCell) subkeyCount() uint32   { return le.Uint32(n.b[20:]) }
func (n nkCell) subkeyList() uint32    { return le.Uint32(n.b[28:]) }
func (n nkCell) valueCount() uint32    { return le.Uint32(n.b[36:]) }
func (n nkCell) valueList() uint32     { return le.Uint32(n.b[40:]) }
func (n nkCell) security() uint32      { return le.Uint32(n.b[44:]) }
func (n nkCell) class() uint32         { return le.Uint32(n.b[48:]) }
func (n nkCell) maxSubkeyName() uint32 { return le.Uint32(n.b[52:]) & 0xFFFF }
func (n nkCell) maxSubkeyClass() uint32 {
	return le.Uint32(n.b[56:])
}
func (n nkCell) maxValueName() uint32 { return le.Uint32(n.b[60:]) }
func (n nkCell) maxValueData() uint32 { return le.Uint32(n.b[64:]) }
func (n nkCell) classLen() uint16     { return le.Uint16(n.b[74:]) }
func (n nkCell) nameBytes() []byte    { return n.b[nkFixed : nkFixed+int(le.Uint16(n.b[72:]))] }

// nameUnits16 is the name's length in bytes as UTF-16, the unit of the
// largest-name fields.
func (n nkCell) nameUnits16() uint32 {
	if n.flags()&keyCompName != 0 {
		return 2 * uint32(len(n.nameBytes()))
	}
	return uint32(len(n.nameBytes()))
}

func (n nkCell) name() string { return decodeName(n.nameBytes(), n.flags()&keyCompName != 0) }

type vkCell struct {
	off uint32
	b   []byte
}

const vkFixed = 20

func (h *Hive) vk(off uint32) (vkCell, error) {
	b, err := h.cell(off)
	if err != nil {
		return vkCell{}, err
	}
	if len(b) < vkFixed || string(b[:2]) != "vk" {
		return vkCell{}, formatErr(fileOff(off), "cell of %d bytes is not a key value (signature %q)", len(b), sig(b))
	}
	if n := int(le.Uint16(b[2:])); vkFixed+n > len(b) {
		return vkCell{}, formatErr(fileOff(off), "value name of %d bytes overruns its %d-byte cell", n, len(b))
	}
	return vkCell{off, b}, nil
}

func (v vkCell) nameBytes() []byte { return v.b[vkFixed : vkFixed+int(le.Uint16(v.b[2:]))] }
func (v vkCell) name() string {
	return decodeName(v.nameBytes(), le.Uint16(v.b[16:])&valueCompName != 0)
}
func (v vkCell) rawSize() uint32 { return le.Uint32(v.b[4:]) }
func (v vkCell) dataOff() uint32 { return le.Uint32(v.b[8:]) }
func (v vkCell) typ() ValueType  { return ValueType(le.Uint32(v.b[12:])) }
func (v vkCell) inline() bool    { return v.rawSize()&0x80000000 != 0 }
func (v vkCell) size() uint32    { return v.rawSize() &^ 0x80000000 }

// valueData returns the data of a value (a copy when it is assembled from
// big data segments, otherwise a slice of the hive: callers copy).
func (h *Hive) valueData(v vkCell) ([]byte, error) {
	size := v.size()
	if v.inline() {
		if size > 4 {
			return nil, formatErr(fileOff(v.off), "resident value data of %d bytes (at most 4 fit)", size)
		}
		return v.b[8 : 8+size], nil
	}
	if size == 0 {
		return nil, nil
	}
	b, err := h.cell(v.dataOff())
	if err != nil {
		return nil, fmt.Errorf("data of value %s: %w", quoted(v.name()), err)
	}
	if h.isBigData(v, b) {
		return h.bigData(v.dataOff(), b, size)
	}
	if int(size) > len(b) {
		return nil, formatErr(fileOff(v.dataOff()), "value %s has %d bytes of data but its cell holds %d", quoted(v.name()), size, len(b))
	}
	return b[:size], nil
}

func (h *Hive) minor() uint32 { return baseBlock{h.base}.minor() }

// bigData assembles a db record's segments.
func (h *Hive) bigData(off uint32, db []byte, size uint32) ([]byte, error) {
	count := uint32(le.Uint16(db[2:]))
	need := (size + bigDataSegment - 1) / bigDataSegment
	if count < need {
		return nil, formatErr(fileOff(off), "big data of %d bytes needs %d segments, record lists %d", size, need, count)
	}
	list, err := h.cell(le.Uint32(db[4:]))
	if err != nil {
		return nil, fmt.Errorf("big data segment list: %w", err)
	}
	if uint32(len(list)) < 4*count {
		return nil, formatErr(fileOff(le.Uint32(db[4:])), "big data segment list of %d bytes cannot hold %d segments", len(list), count)
	}
	// A value cannot hold more than the hive, and no segment may be used
	// twice: otherwise a small hostile hive could claim gigabytes.
	if int64(size) > int64(len(h.data)) {
		return nil, formatErr(fileOff(off), "big data of %d bytes is larger than the hive", size)
	}
	seen := make(map[uint32]bool, need)
	out := make([]byte, 0, size)
	for i := uint32(0); i < need; i++ {
		segOff := le.Uint32(list[4*i:])
		if seen[segOff] {
			return nil, formatErr(fileOff(le.Uint32(db[4:])), "big data segment 0x%x listed twice", segOff)
		}
		seen[segOff] = true
		seg, err := h.cell(segOff)
		if err != nil {
			return nil, fmt.Errorf("big data segment %d: %w", i, err)
		}
		n := min(size-uint32(len(out)), bigDataSegment)
		if uint32(len(seg)) < n {
			return nil, formatErr(fileOff(le.Uint32(list[4*i:])), "big data segment %d holds %d bytes, want %d", i, len(seg), n)
		}
		out = append(out, seg[:n]...)
	}
	return out, nil
}

// subkeyOffsets lists the nk offsets of a key's subkeys in stored order.
func (h *Hive) subkeyOffsets(n nkCell) ([]uint32, error) {
	if n.subkeyCount() == 0 {
		return nil, nil
	}
	// The count is the file's word, only a hint (bounded: a hostile count
	// must not make every call allocate megabytes).
	out := make([]uint32, 0, min(n.subkeyCount(), 1024))
	collect := func(nkOff uint32, _ string, _ uint32) error {
		out = append(out, nkOff)
		return nil
	}
	if err := h.walkList(n.subkeyList(), true, collect); err != nil {
		return nil, fmt.Errorf("subkeys of %s: %w", quoted(n.name()), err)
	}
	return out, nil
}

// walkList calls visit for every element of the li/lf/lh/ri subkey list at
// off, in stored order (an index root's leaves one after another), with
// the element's nk offset, the signature of the leaf holding it and the
// leaf's tag for it (the lf hint or lh hash; 0 in an li leaf).
func (h *Hive) walkList(off uint32, allowRoot bool, visit func(nkOff uint32, leaf string, tag uint32) error) error {
	b, err := h.cell(off)
	if err != nil {
		return err
	}
	if len(b) < 4 {
		return formatErr(fileOff(off), "subkey list cell of %d bytes", len(b))
	}
	// kind is one of the constants, not a string made from b for each list.
	var kind string
	switch sig := string(b[:2]); sig {
	case "lf":
		kind = "lf"
	case "lh":
		kind = "lh"
	case "li":
		kind = "li"
	case "ri":
		kind = "ri"
	}
	count := int(le.Uint16(b[2:]))
	step := 8
	switch kind {
	case "lf", "lh":
	case "li":
		step = 4
	case "ri":
		if !allowRoot {
			return formatErr(fileOff(off), "index root inside an index root")
		}
		step = 4
	default:
		return formatErr(fileOff(off), "subkey list signature %q, want li, lf, lh or ri", sig(b))
	}
	if 4+count*step > len(b) {
		return formatErr(fileOff(off), "subkey list of %d elements overruns its %d-byte cell", count, len(b))
	}
	// A leaf listed twice by an index root could multiply the list beyond
	// any bound; each leaf is read once. (An index root cannot hold
	// another, so leaves are only ever listed by this one.)
	var leaves map[uint32]bool
	if kind == "ri" {
		leaves = make(map[uint32]bool, count)
	}
	for i := 0; i < count; i++ {
		e := le.Uint32(b[4+i*step:])
		var err error
		switch {
		case kind == "ri":
			if leaves[e] {
				return formatErr(fileOff(e), "subkey list 0x%x is listed twice in an index root", e)
			}
			leaves[e] = true
			err = h.walkList(e, false, visit)
		case step == 8:
			err = visit(e, kind, le.Uint32(b[8+i*step:]))
		default:
			err = visit(e, kind, 0)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// valueOffsets lists the vk offsets of a key's values in stored order.
func (h *Hive) valueOffsets(n nkCell) ([]uint32, error) {
	count := n.valueCount()
	if count == 0 {
		return nil, nil
	}
	b, err := h.cell(n.valueList())
	if err != nil {
		return nil, fmt.Errorf("value list of %s: %w", quoted(n.name()), err)
	}
	if uint64(len(b)) < 4*uint64(count) {
		return nil, formatErr(fileOff(n.valueList()), "value list of %d bytes cannot hold %d values", len(b), count)
	}
	out := make([]uint32, count)
	for i := range out {
		out[i] = le.Uint32(b[4*i:])
	}
	return out, nil
}

// skCell is a security cell.
type skCell struct {
	off uint32
	b   []byte
}

func (h *Hive) sk(off uint32) (skCell, error) {
	b, err := h.cell(off)
	if err != nil {
		return skCell{}, err
	}
	if len(b) < 20 || string(b[:2]) != "sk" {
		return skCell{}, formatErr(fileOff(off), "cell of %d bytes is not a key security record (signature %q)", len(b), sig(b))
	}
	if n := le.Uint32(b[16:]); uint64(n)+20 > uint64(len(b)) {
		return skCell{}, formatErr(fileOff(off), "security descriptor of %d bytes overruns its %d-byte cell", n, len(b))
	}
	return skCell{off, b}, nil
}

func (s skCell) flink() uint32      { return le.Uint32(s.b[4:]) }
func (s skCell) blink() uint32      { return le.Uint32(s.b[8:]) }
func (s skCell) refs() uint32       { return le.Uint32(s.b[12:]) }
func (s skCell) descriptor() []byte { return s.b[20 : 20+le.Uint32(s.b[16:])] }
