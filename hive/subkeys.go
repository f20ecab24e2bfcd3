package hive

import (
	"fmt"
	"sort"
)

// listEntry is one element of a subkey leaf: the nk offset and the lh hash
// or lf hint (whichever the leaf kind being written needs).
type listEntry struct {
	off uint32
	tag uint32
}

// leafKind is the kind of leaf this hive's version writes: lh from 1.5
// on, lf before.
func (h *Hive) leafKind() string {
	if h.minor() >= 5 {
		return "lh"
	}
	return "lf"
}

func (h *Hive) tagFor(name string) uint32 {
	if h.leafKind() == "lh" {
		return nameHash(name)
	}
	return lfHint(name)
}

// listEntries reads a key's subkey entries, keeping the stored tags when the
// stored leaf kind is the one written, computing them otherwise.
func (h *Hive) listEntries(n nkCell) ([]listEntry, error) {
	if n.subkeyCount() == 0 {
		return nil, nil
	}
	var out []listEntry
	kind := h.leafKind()
	keep := func(nkOff uint32, leaf string, tag uint32) error {
		if leaf != kind {
			c, err := h.nk(nkOff)
			if err != nil {
				return err
			}
			tag = h.tagFor(c.name())
		}
		out = append(out, listEntry{nkOff, tag})
		return nil
	}
	if err := h.walkList(n.subkeyList(), true, keep); err != nil {
		return nil, fmt.Errorf("subkeys of %s: %w", quoted(n.name()), err)
	}
	return out, nil
}

// freeSubkeyList frees a subkey list and, for an index root, its leaves.
func (h *Hive) freeSubkeyList(off uint32) error {
	b, err := h.cell(off)
	if err != nil {
		return err
	}
	if len(b) >= 4 && string(b[:2]) == "ri" {
		count := int(le.Uint16(b[2:]))
		if 4+4*count > len(b) {
			return formatErr(fileOff(off), "index root overruns its cell")
		}
		leaves := make([]uint32, count)
		for i := range leaves {
			leaves[i] = le.Uint32(b[4+4*i:])
		}
		for _, l := range leaves {
			if err := h.freeCell(l); err != nil {
				return err
			}
		}
	}
	return h.freeCell(off)
}

// writeLeaf allocates a leaf holding entries, with some room to grow.
func (h *Hive) writeLeaf(entries []listEntry, room int) (uint32, error) {
	off, err := h.alloc(4 + 8*(len(entries)+room))
	if err != nil {
		return 0, err
	}
	h.fillLeaf(off, entries)
	return off, nil
}

func (h *Hive) fillLeaf(off uint32, entries []listEntry) {
	b := h.data[off+4:]
	copy(b, h.leafKind())
	le.PutUint16(b[2:], uint16(len(entries)))
	for i, e := range entries {
		le.PutUint32(b[4+8*i:], e.off)
		le.PutUint32(b[8+8*i:], e.tag)
	}
}

// setSubkeyList replaces the subkey list of the key at nkOff with entries,
// as one leaf, or an index root over leaves when there are many.
func (h *Hive) setSubkeyList(nkOff uint32, entries []listEntry) error {
	n, err := h.nk(nkOff)
	if err != nil {
		return err
	}
	// A list offset left behind with a zero count is not trusted (and not
	// freed): it may point anywhere.
	if n.subkeyCount() > 0 {
		if err := h.freeSubkeyList(n.subkeyList()); err != nil {
			return err
		}
	}
	list := uint32(noCell)
	switch {
	case len(entries) == 0:
	case len(entries) <= leafMax:
		if list, err = h.writeLeaf(entries, len(entries)/4+1); err != nil {
			return err
		}
	default:
		leaves := (len(entries) + leafMax - 1) / leafMax
		per := (len(entries) + leaves - 1) / leaves
		offs := make([]uint32, 0, leaves)
		for i := 0; i < len(entries); i += per {
			part := entries[i:min(i+per, len(entries))]
			l, err := h.writeLeaf(part, leafMax-len(part))
			if err != nil {
				return err
			}
			offs = append(offs, l)
		}
		if list, err = h.alloc(4 + 4*len(offs)); err != nil {
			return err
		}
		b := h.data[list+4:]
		copy(b, "ri")
		le.PutUint16(b[2:], uint16(len(offs)))
		for i, o := range offs {
			le.PutUint32(b[4+4*i:], o)
		}
	}
	n, _ = h.nk(nkOff)
	le.PutUint32(n.b[20:], uint32(len(entries)))
	le.PutUint32(n.b[28:], list)
	return nil
}

// insertSubkey adds child (named name) to the sorted subkey list of the key
// at parentOff, in place when the leaf it belongs in has room.
func (h *Hive) insertSubkey(parentOff, child uint32, name string) error {
	p, err := h.nk(parentOff)
	if err != nil {
		return err
	}
	entries, err := h.listEntries(p)
	if err != nil {
		return err
	}
	want := upperUnits(name)
	var searchErr error
	pos := sort.Search(len(entries), func(i int) bool {
		c, err := h.nk(entries[i].off)
		if err != nil {
			searchErr = err
			return true
		}
		return compareUnits(upperUnits(c.name()), want) > 0
	})
	if searchErr != nil {
		return searchErr
	}
	e := listEntry{child, h.tagFor(name)}
	if h.insertInPlace(p, pos, e) {
		le.PutUint32(p.b[20:], p.subkeyCount()+1)
		return nil
	}
	entries = append(entries, listEntry{})
	copy(entries[pos+1:], entries[pos:])
	entries[pos] = e
	return h.setSubkeyList(parentOff, entries)
}

// insertInPlace inserts e at position pos of the key's list when the leaf
// that holds that position is of the kind written and has room.
func (h *Hive) insertInPlace(p nkCell, pos int, e listEntry) bool {
	if p.subkeyCount() == 0 || p.subkeyList() == noCell {
		return false
	}
	b, err := h.cell(p.subkeyList())
	if err != nil || len(b) < 4 {
		return false
	}
	leafOff := p.subkeyList()
	if string(b[:2]) == "ri" {
		count := int(le.Uint16(b[2:]))
		base := 0
		found := false
		for i := 0; i < count && 4+4*i+4 <= len(b); i++ {
			l := le.Uint32(b[4+4*i:])
			lb, err := h.cell(l)
			if err != nil || len(lb) < 4 {
				return false
			}
			c := int(le.Uint16(lb[2:]))
			// A position at a boundary goes to the earlier leaf's end.
			if pos <= base+c {
				leafOff, pos, found = l, pos-base, true
				break
			}
			base += c
		}
		if !found {
			return false
		}
	}
	lb, _ := h.cell(leafOff)
	if string(lb[:2]) != h.leafKind() {
		return false
	}
	count := int(le.Uint16(lb[2:]))
	if count >= leafMax || 4+8*(count+1) > len(lb) || pos > count {
		return false
	}
	copy(lb[4+8*(pos+1):4+8*(count+1)], lb[4+8*pos:4+8*count])
	le.PutUint32(lb[4+8*pos:], e.off)
	le.PutUint32(lb[8+8*pos:], e.tag)
	le.PutUint16(lb[2:], uint16(count+1))
	return true
}

// removeSubkey removes child from the subkey list of the key at parentOff.
func (h *Hive) removeSubkey(parentOff, child uint32) error {
	p, err := h.nk(parentOff)
	if err != nil {
		return err
	}
	entries, err := h.listEntries(p)
	if err != nil {
		return err
	}
	pos := -1
	for i, e := range entries {
		if e.off == child {
			pos = i
			break
		}
	}
	if pos < 0 {
		return formatErr(fileOff(parentOff), "key 0x%x is not in its parent's subkey list", child)
	}
	if h.removeInPlace(p, child) {
		le.PutUint32(p.b[20:], p.subkeyCount()-1)
		return nil
	}
	entries = append(entries[:pos], entries[pos+1:]...)
	return h.setSubkeyList(parentOff, entries)
}

// removeInPlace removes child from the leaf holding it when that leaf keeps
// at least one element (an emptied leaf makes the list rebuilt).
func (h *Hive) removeInPlace(p nkCell, child uint32) bool {
	b, err := h.cell(p.subkeyList())
	if err != nil || len(b) < 4 {
		return false
	}
	leaves := []uint32{p.subkeyList()}
	if string(b[:2]) == "ri" {
		leaves = leaves[:0]
		count := int(le.Uint16(b[2:]))
		for i := 0; i < count && 8+4*i <= len(b); i++ {
			leaves = append(leaves, le.Uint32(b[4+4*i:]))
		}
	}
	for _, l := range leaves {
		lb, err := h.cell(l)
		if err != nil || len(lb) < 4 {
			return false
		}
		step := 8
		switch string(lb[:2]) {
		case "li":
			step = 4
		case "lf", "lh":
		default:
			return false
		}
		count := int(le.Uint16(lb[2:]))
		for i := 0; i < count && 4+step*(i+1) <= len(lb); i++ {
			if le.Uint32(lb[4+step*i:]) != child {
				continue
			}
			if count == 1 {
				return false
			}
			copy(lb[4+step*i:], lb[4+step*(i+1):4+step*count])
			clear(lb[4+step*(count-1) : 4+step*count])
			le.PutUint16(lb[2:], uint16(count-1))
			return true
		}
	}
	return false
}
