package hive

import (
	"errors"
	"fmt"
	"unicode/utf16"
)

// Limits Windows puts on names and data.
const (
	maxKeyNameUnits   = 255
	maxValueNameUnits = 16383
	maxValueData      = 1 << 30
)

// writable checks that k's hive accepts edits and returns k's node. A
// hive in which a cell is reached twice (sibling keys sharing a subkey or
// value list) accepts none: an edit of one key's list would change the
// other's too.
func (k *Key) writable() (nkCell, error) {
	n, err := k.node()
	if err != nil {
		return nkCell{}, err
	}
	if err := k.h.CheckShared(); err != nil {
		return nkCell{}, fmt.Errorf("refusing to edit: %w", err)
	}
	return n, nil
}

// CheckShared reports, wrapping ErrSharedCell, a cell reached twice from
// the root (as reg check does); it walks the tree once per open hive.
func (h *Hive) CheckShared() error {
	if !h.checkedSharing {
		// The whole tree: one bit per 8-byte unit is far cheaper than a
		// map of every cell (a SYSTEM hive has hundreds of thousands).
		h.sharing = h.validateSubtree(baseBlock{h.base}.root(), 0, newCellBits(len(h.data)))
		h.checkedSharing = true
	}
	return h.sharing
}

func (h *Hive) touch(nkOff uint32) {
	if n, err := h.nk(nkOff); err == nil {
		le.PutUint64(n.b[4:], timeToFiletime(h.now()))
	}
}

func checkKeyName(name string) error {
	if n := nameUnits(name); n == 0 || n > maxKeyNameUnits {
		return fmt.Errorf("hive: key name %s must have 1 to %d characters", quoted(name), maxKeyNameUnits)
	}
	for _, r := range name {
		if r == '\\' || r == 0 {
			return fmt.Errorf("hive: key name %s contains a backslash or NUL", quoted(name))
		}
	}
	return nil
}

// CreateKey opens the key at path below k, creating it and any missing
// intermediate keys. New keys share their parent's security descriptor.
func (k *Key) CreateKey(path string) (*Key, error) {
	n, err := k.writable()
	if err != nil {
		return nil, err
	}
	parts, err := splitPath(path)
	if err != nil {
		return nil, err
	}
	h := k.h
	cur := n.off
	for _, p := range parts {
		c, err := h.nk(cur)
		if err != nil {
			return nil, err
		}
		idx, err := h.subkeyIndex(c)
		if err != nil {
			return nil, err
		}
		if off, ok := idx[foldKey(p)]; ok {
			cur = off
			continue
		}
		if err := checkKeyName(p); err != nil {
			return nil, err
		}
		if cur, err = h.newKey(cur, p); err != nil {
			return nil, fmt.Errorf("create key %s: %w", quoted(joinPath(k.Path(), path)), err)
		}
	}
	return h.key(cur), nil
}

// newKey creates a subkey named name under the key at parentOff.
func (h *Hive) newKey(parentOff uint32, name string) (uint32, error) {
	p, err := h.nk(parentOff)
	if err != nil {
		return 0, err
	}
	sec := p.security()
	if _, err := h.sk(sec); err != nil {
		return 0, fmt.Errorf("security of parent key: %w", err)
	}
	raw, compressed := encodeName(name)
	off, err := h.alloc(nkFixed + len(raw))
	if err != nil {
		return 0, err
	}
	var flags uint16
	if compressed {
		flags = keyCompName
	}
	h.initKeyNode(off, flags, parentOff, sec, raw)
	s, _ := h.sk(sec)
	le.PutUint32(s.b[12:], s.refs()+1)
	if err := h.insertSubkey(parentOff, off, name); err != nil {
		return 0, err
	}
	p, _ = h.nk(parentOff)
	if units := uint32(2 * nameUnits(name)); units > p.maxSubkeyName() {
		le.PutUint32(p.b[52:], le.Uint32(p.b[52:])&0xFFFF0000|units)
	}
	h.touch(parentOff)
	if ix := h.index[parentOff]; ix != nil && ix.subkeys != nil {
		ix.subkeys[foldKey(name)] = off
	}
	return off, nil
}

// initKeyNode fills the nk cell at off, allocated for nkFixed+len(rawName)
// bytes: a key with no subkeys, values or class name, stamped now.
func (h *Hive) initKeyNode(off uint32, flags uint16, parent, security uint32, rawName []byte) {
	b := h.data[off+4:]
	copy(b, "nk")
	le.PutUint16(b[2:], flags)
	le.PutUint64(b[4:], timeToFiletime(h.now()))
	le.PutUint32(b[16:], parent)
	le.PutUint32(b[28:], noCell)
	le.PutUint32(b[32:], noCell)
	le.PutUint32(b[40:], noCell)
	le.PutUint32(b[44:], security)
	le.PutUint32(b[48:], noCell)
	le.PutUint16(b[72:], uint16(len(rawName)))
	copy(b[nkFixed:], rawName)
}

// DeleteKey deletes the key at path below k with all its subkeys and
// values. The cells are freed (and zeroed); security descriptors no longer
// referenced are removed.
func (k *Key) DeleteKey(path string) error {
	if _, err := k.writable(); err != nil {
		return err
	}
	if path == "" {
		return fmt.Errorf("hive: DeleteKey needs a subkey path (a key cannot delete itself through its own handle)")
	}
	target, err := k.OpenKey(path)
	if err != nil {
		return err
	}
	h := k.h
	n, err := h.nk(target.off)
	if err != nil {
		return err
	}
	parent := n.parent()
	nameLen, classLen := n.nameUnits16(), uint32(n.classLen())
	if target.off == (baseBlock{h.base}).root() {
		return fmt.Errorf("hive: the root key cannot be deleted")
	}
	// The whole subtree is verified before anything changes, so that a
	// damaged subtree makes DeleteKey fail without leaving a half-freed one.
	if err := h.validateSubtree(target.off, 0, cellMap{}); err != nil {
		return fmt.Errorf("delete key %s: %w", quoted(target.Path()), err)
	}
	if err := h.removeSubkey(parent, target.off); err != nil {
		return fmt.Errorf("delete key %s: %w", quoted(target.Path()), err)
	}
	if ix := h.index[parent]; ix != nil && ix.subkeys != nil {
		delete(ix.subkeys, foldKey(n.name()))
	}
	visited := map[uint32]bool{}
	if err := h.freeTree(target.off, 0, visited); err != nil {
		return fmt.Errorf("delete key %s: %w", quoted(path), err)
	}
	if p, err := h.nk(parent); err == nil && (nameLen >= p.maxSubkeyName() || classLen >= p.maxSubkeyClass()) {
		if err := h.recomputeSubkeyMax(parent); err != nil {
			return err
		}
	}
	h.touch(parent)
	return nil
}

// freeTree frees a key node and everything below it.
func (h *Hive) freeTree(off uint32, depth int, visited map[uint32]bool) error {
	if depth > maxDepth || visited[off] {
		return formatErr(fileOff(off), "key nesting loops or exceeds %d levels", maxDepth)
	}
	visited[off] = true
	n, err := h.nk(off)
	if err != nil {
		return err
	}
	subs, err := h.subkeyOffsets(n)
	if err != nil {
		return err
	}
	for _, s := range subs {
		if err := h.freeTree(s, depth+1, visited); err != nil {
			return err
		}
	}
	n, _ = h.nk(off)
	if n.subkeyCount() > 0 && n.subkeyList() != noCell {
		if err := h.freeSubkeyList(n.subkeyList()); err != nil {
			return err
		}
	}
	vals, err := h.valueOffsets(n)
	if err != nil {
		return err
	}
	for _, v := range vals {
		if err := h.freeValue(v); err != nil {
			return err
		}
	}
	if n.valueCount() > 0 {
		if err := h.freeCell(n.valueList()); err != nil {
			return err
		}
	}
	if n.classLen() > 0 && n.class() != noCell {
		if err := h.freeCell(n.class()); err != nil {
			return err
		}
	}
	if err := h.releaseSecurity(n.security()); err != nil {
		return err
	}
	h.epoch++
	h.deletedAt[off] = h.epoch
	delete(h.index, off)
	return h.freeCell(off)
}

// releaseSecurity drops one reference to a security cell, removing it from
// the list of security cells when none remain.
func (h *Hive) releaseSecurity(off uint32) error {
	s, err := h.sk(off)
	if err != nil {
		return err
	}
	refs := s.refs()
	if refs > 1 {
		le.PutUint32(s.b[12:], refs-1)
		return nil
	}
	prev, next := s.blink(), s.flink()
	if prev != off {
		p, err := h.sk(prev)
		if err != nil {
			return err
		}
		le.PutUint32(p.b[4:], next)
	}
	if next != off {
		nx, err := h.sk(next)
		if err != nil {
			return err
		}
		le.PutUint32(nx.b[8:], prev)
	}
	return h.freeCell(off)
}

func (h *Hive) recomputeSubkeyMax(off uint32) error {
	n, err := h.nk(off)
	if err != nil {
		return err
	}
	subs, err := h.subkeyOffsets(n)
	if err != nil {
		return err
	}
	var name, class uint32
	for _, s := range subs {
		c, err := h.nk(s)
		if err != nil {
			return err
		}
		name = max(name, c.nameUnits16())
		class = max(class, uint32(c.classLen()))
	}
	le.PutUint32(n.b[52:], le.Uint32(n.b[52:])&0xFFFF0000|name)
	le.PutUint32(n.b[56:], class)
	return nil
}

// SetValue creates or replaces the named value (case-insensitive; an
// existing value keeps its stored name).
func (k *Key) SetValue(name string, t ValueType, data []byte) error {
	n, err := k.writable()
	if err != nil {
		return err
	}
	if units := nameUnits(name); units > maxValueNameUnits {
		return fmt.Errorf("hive: value name of %d characters is longer than %d", units, maxValueNameUnits)
	}
	if len(data) > maxValueData {
		return fmt.Errorf("hive: value data of %d bytes is too large", len(data))
	}
	h := k.h
	idx, err := h.valueIndex(n)
	if err != nil {
		return err
	}
	if off, ok := idx[foldKey(name)]; ok {
		v, err := h.vk(off)
		if err != nil {
			return err
		}
		if err := h.freeData(v); err != nil {
			return err
		}
		size, dataOff, err := h.storeData(data)
		if err != nil {
			return err
		}
		v, _ = h.vk(off)
		le.PutUint32(v.b[4:], size)
		le.PutUint32(v.b[8:], dataOff)
		le.PutUint32(v.b[12:], uint32(t))
	} else {
		raw, compressed := encodeName(name)
		size, dataOff, err := h.storeData(data)
		if err != nil {
			return err
		}
		off, err := h.alloc(vkFixed + len(raw))
		if err != nil {
			return err
		}
		b := h.data[off+4:]
		copy(b, "vk")
		le.PutUint16(b[2:], uint16(len(raw)))
		le.PutUint32(b[4:], size)
		le.PutUint32(b[8:], dataOff)
		le.PutUint32(b[12:], uint32(t))
		if compressed {
			le.PutUint16(b[16:], valueCompName)
		}
		copy(b[vkFixed:], raw)
		if err := h.appendValue(k.off, off); err != nil {
			return err
		}
		idx[foldKey(name)] = off
	}
	n, _ = h.nk(k.off)
	if units := uint32(2 * nameUnits(name)); units > n.maxValueName() {
		le.PutUint32(n.b[60:], units)
	}
	if uint32(len(data)) > n.maxValueData() {
		le.PutUint32(n.b[64:], uint32(len(data)))
	}
	h.touch(k.off)
	return nil
}

// appendValue appends a vk offset to a key's value list, in place when the
// list cell has room.
func (h *Hive) appendValue(nkOff, vkOff uint32) error {
	n, err := h.nk(nkOff)
	if err != nil {
		return err
	}
	count := n.valueCount()
	if count > 0 {
		b, err := h.cell(n.valueList())
		if err != nil {
			return err
		}
		if uint64(len(b)) >= 4*uint64(count+1) {
			le.PutUint32(b[4*count:], vkOff)
			le.PutUint32(n.b[36:], count+1)
			return nil
		}
	}
	old, err := h.valueOffsets(n)
	if err != nil {
		return err
	}
	list, err := h.alloc(4 * (int(count) + 1 + int(count)/2))
	if err != nil {
		return err
	}
	b := h.data[list+4:]
	for i, o := range old {
		le.PutUint32(b[4*i:], o)
	}
	le.PutUint32(b[4*count:], vkOff)
	n, _ = h.nk(nkOff)
	if count > 0 {
		if err := h.freeCell(n.valueList()); err != nil {
			return err
		}
	}
	le.PutUint32(n.b[36:], count+1)
	le.PutUint32(n.b[40:], list)
	return nil
}

// storeData stores value data and returns the vk size field and data
// offset: resident in the offset field up to 4 bytes, a db record of
// segments beyond 16,344 bytes on hives of version 1.4 and later, one cell
// otherwise.
func (h *Hive) storeData(data []byte) (size, off uint32, err error) {
	n := uint32(len(data))
	if n <= 4 {
		var b [4]byte
		copy(b[:], data)
		return n | 0x80000000, le.Uint32(b[:]), nil
	}
	if n <= bigDataSegment || h.minor() < 4 {
		off, err := h.alloc(len(data))
		if err != nil {
			return 0, 0, err
		}
		copy(h.data[off+4:], data)
		return n, off, nil
	}
	count := (len(data) + bigDataSegment - 1) / bigDataSegment
	segs := make([]uint32, count)
	for i := range segs {
		part := data[i*bigDataSegment : min(len(data), (i+1)*bigDataSegment)]
		// Every segment gets a full-size cell, as Windows allocates them
		// (and as hivex expects when it sizes the last one).
		if segs[i], err = h.alloc(bigDataSegment); err != nil {
			return 0, 0, err
		}
		copy(h.data[segs[i]+4:], part)
	}
	list, err := h.alloc(4 * count)
	if err != nil {
		return 0, 0, err
	}
	for i, s := range segs {
		le.PutUint32(h.data[list+4+uint32(4*i):], s)
	}
	db, err := h.alloc(8)
	if err != nil {
		return 0, 0, err
	}
	b := h.data[db+4:]
	copy(b, "db")
	le.PutUint16(b[2:], uint16(count))
	le.PutUint32(b[4:], list)
	return n, db, nil
}

// freeData frees the cells holding a value's data.
func (h *Hive) freeData(v vkCell) error {
	if v.inline() || v.size() == 0 {
		return nil
	}
	off := v.dataOff()
	b, err := h.cell(off)
	if err != nil {
		return err
	}
	if h.isBigData(v, b) {
		listOff, segs, err := h.bigDataCells(b)
		if err != nil {
			return err
		}
		for _, s := range segs {
			if err := h.freeCell(s); err != nil {
				return err
			}
		}
		if err := h.freeCell(listOff); err != nil {
			return err
		}
	}
	return h.freeCell(off)
}

// isBigData says whether b, the data cell of v, is a db record: values
// above 16,344 bytes on hives of version 1.4 and later.
func (h *Hive) isBigData(v vkCell, b []byte) bool {
	return v.size() > bigDataSegment && h.minor() >= 4 && len(b) >= 8 && string(b[:2]) == "db"
}

// bigDataCells returns the segment list and the segments of the db record
// db.
func (h *Hive) bigDataCells(db []byte) (listOff uint32, segs []uint32, err error) {
	count := int(le.Uint16(db[2:]))
	listOff = le.Uint32(db[4:])
	list, err := h.cell(listOff)
	if err != nil {
		return 0, nil, err
	}
	if len(list) < 4*count {
		return 0, nil, formatErr(fileOff(listOff), "big data segment list overruns its cell")
	}
	segs = make([]uint32, count)
	for i := range segs {
		segs[i] = le.Uint32(list[4*i:])
	}
	return listOff, segs, nil
}

func (h *Hive) freeValue(off uint32) error {
	v, err := h.vk(off)
	if err != nil {
		return err
	}
	if err := h.freeData(v); err != nil {
		return err
	}
	return h.freeCell(off)
}

// DeleteValue deletes the named value (case-insensitive).
func (k *Key) DeleteValue(name string) error {
	n, err := k.writable()
	if err != nil {
		return err
	}
	h := k.h
	idx, err := h.valueIndex(n)
	if err != nil {
		return err
	}
	off, ok := idx[foldKey(name)]
	if !ok {
		return &notExistError{key: *k, value: name, isValue: true}
	}
	offs, err := h.valueOffsets(n)
	if err != nil {
		return err
	}
	pos := -1
	for i, o := range offs {
		if o == off {
			pos = i
		}
	}
	if pos < 0 {
		return errors.New("hive: value index out of step with the value list")
	}
	list := n.valueList()
	b, _ := h.cell(list)
	count := uint32(len(offs))
	copy(b[4*pos:], b[4*(pos+1):4*count])
	le.PutUint32(b[4*(count-1):], 0)
	le.PutUint32(n.b[36:], count-1)
	if count == 1 {
		if err := h.freeCell(list); err != nil {
			return err
		}
		n, _ = h.nk(k.off)
		le.PutUint32(n.b[40:], noCell)
	}
	v, err := h.vk(off)
	if err != nil {
		return err
	}
	wasMax := uint32(2*nameUnits(v.name())) >= n.maxValueName() || v.size() >= n.maxValueData()
	if err := h.freeValue(off); err != nil {
		return err
	}
	delete(idx, foldKey(name))
	if len(idx) != int(count)-1 {
		// A duplicate name hidden behind the deleted value (possible only
		// in hand-made hives) must become visible: rebuild the index.
		h.index[k.off].values = nil
	}
	if wasMax {
		return h.recomputeValueMax(k.off)
	}
	h.touch(k.off)
	return nil
}

func (h *Hive) recomputeValueMax(off uint32) error {
	n, err := h.nk(off)
	if err != nil {
		return err
	}
	offs, err := h.valueOffsets(n)
	if err != nil {
		return err
	}
	var name, data uint32
	for _, o := range offs {
		v, err := h.vk(o)
		if err != nil {
			return err
		}
		name = max(name, uint32(2*len(utf16.Encode([]rune(v.name())))))
		data = max(data, v.size())
	}
	n, _ = h.nk(off)
	le.PutUint32(n.b[60:], name)
	le.PutUint32(n.b[64:], data)
	h.touch(off)
	return nil
}

// cellSet records cells reached; add reports whether off is new. Only
// offsets of allocated cells (checked by Hive.cell) are added.
type cellSet interface{ add(off uint32) bool }

// cellMap suits a small subtree.
type cellMap map[uint32]bool

func (m cellMap) add(off uint32) bool {
	if m[off] {
		return false
	}
	m[off] = true
	return true
}

// cellBits has one bit per 8-byte unit of the hive bins data: for a walk of
// the whole tree.
type cellBits []uint64

func newCellBits(dataLen int) cellBits { return make(cellBits, dataLen/cellAlign/64+1) }

func (b cellBits) add(off uint32) bool {
	i, bit := off/cellAlign/64, uint64(1)<<(off/cellAlign%64)
	if b[i]&bit != 0 {
		return false
	}
	b[i] |= bit
	return true
}

// validateSubtree checks that every cell freeTree would free below off is
// an allocated cell reached only once.
func (h *Hive) validateSubtree(off uint32, depth int, seen cellSet) error {
	mark := func(c uint32) error {
		if _, err := h.cell(c); err != nil {
			return err
		}
		if !seen.add(c) {
			return fmt.Errorf("%w: cell 0x%x (file offset 0x%x)", ErrSharedCell, c, fileOff(c))
		}
		return nil
	}
	if depth > maxDepth {
		return formatErr(fileOff(off), "key nesting exceeds %d levels", maxDepth)
	}
	if err := mark(off); err != nil {
		return err
	}
	n, err := h.nk(off)
	if err != nil {
		return err
	}
	if _, err := h.sk(n.security()); err != nil {
		return err
	}
	if n.classLen() > 0 && n.class() != noCell {
		if err := mark(n.class()); err != nil {
			return err
		}
	}
	if n.valueCount() > 0 {
		if err := mark(n.valueList()); err != nil {
			return err
		}
		vals, err := h.valueOffsets(n)
		if err != nil {
			return err
		}
		for _, vo := range vals {
			if err := mark(vo); err != nil {
				return err
			}
			v, err := h.vk(vo)
			if err != nil {
				return err
			}
			if v.inline() || v.size() == 0 {
				continue
			}
			if err := mark(v.dataOff()); err != nil {
				return err
			}
			if b, _ := h.cell(v.dataOff()); h.isBigData(v, b) {
				listOff, segs, err := h.bigDataCells(b)
				if err != nil {
					return err
				}
				for _, c := range append([]uint32{listOff}, segs...) {
					if err := mark(c); err != nil {
						return err
					}
				}
			}
		}
	}
	if n.subkeyCount() == 0 {
		return nil
	}
	if err := mark(n.subkeyList()); err != nil {
		return err
	}
	if b, _ := h.cell(n.subkeyList()); len(b) >= 4 && string(b[:2]) == "ri" {
		count := int(le.Uint16(b[2:]))
		if 4+4*count > len(b) {
			return formatErr(fileOff(n.subkeyList()), "index root overruns its cell")
		}
		for i := 0; i < count; i++ {
			if err := mark(le.Uint32(b[4+4*i:])); err != nil {
				return err
			}
		}
	}
	subs, err := h.subkeyOffsets(n)
	if err != nil {
		return err
	}
	for _, s := range subs {
		if err := h.validateSubtree(s, depth+1, seen); err != nil {
			return err
		}
	}
	return nil
}
