package hive

import (
	"fmt"
)

// Check verifies the whole hive: every cell reachable from the root is
// allocated, well formed and used once (security cells excepted, which
// keys share); subkey lists are sorted as Windows sorts them, with right
// hashes/hints and counts; maximum-length fields cover their keys; the
// security cells form a consistent list whose reference counts equal the
// number of keys using them. It returns nothing for a sound hive.
func (h *Hive) Check() []Problem {
	if h.closed {
		return []Problem{{-1, errClosed.Error()}}
	}
	c := checker{h: h, owner: map[uint32]string{}, skRefs: map[uint32]uint32{}}
	c.checkBins()
	root := baseBlock{h.base}.root()
	c.key(root, noCell, "", 0)
	c.security()
	return c.problems
}

type checker struct {
	h        *Hive
	problems []Problem
	owner    map[uint32]string // reachable cell -> what it is, to find cells used twice
	skRefs   map[uint32]uint32
}

const maxProblems = 1000

func (c *checker) add(off uint32, format string, args ...any) {
	if len(c.problems) < maxProblems {
		c.problems = append(c.problems, Problem{fileOff(off), fmt.Sprintf(format, args...)})
	}
}

func (c *checker) addErr(err error) {
	if len(c.problems) < maxProblems {
		c.problems = append(c.problems, Problem{-1, err.Error()})
	}
}

// use records that the cell at off is reached as what, and reports it when
// it is not an allocated cell or was reached before.
func (c *checker) use(off uint32, what string) bool {
	if _, err := c.h.cell(off); err != nil {
		c.add(off, "%s: %v", what, err)
		return false
	}
	if prev, ok := c.owner[off]; ok {
		c.add(off, "%s uses the same cell as %s", what, prev)
		return false
	}
	c.owner[off] = what
	return true
}

// checkBins re-walks the bins: cells must tile each bin exactly.
func (c *checker) checkBins() {
	h := c.h
	off := 0
	for off < len(h.data) {
		if string(h.data[off:off+4]) != "hbin" || int(le.Uint32(h.data[off+4:])) != off {
			c.add(uint32(off), "bad hive bin header")
			return
		}
		size := int(le.Uint32(h.data[off+8:]))
		if size < binAlign || size%binAlign != 0 || off+size > len(h.data) {
			c.add(uint32(off), "bad hive bin size %d", size)
			return
		}
		p := off + binHeaderSize
		for p < off+size {
			raw := int32(le.Uint32(h.data[p:]))
			sz := int(raw)
			if raw < 0 {
				sz = -sz
			}
			if sz < cellAlign || sz%cellAlign != 0 || p+sz > off+size {
				c.add(uint32(p), "cell size %d does not fit its hive bin", raw)
				return
			}
			if !h.isStart(uint32(p)) {
				c.add(uint32(p), "cell start not recorded")
			}
			for q := p + cellAlign; q < p+sz; q += cellAlign {
				if h.isStart(uint32(q)) {
					c.add(uint32(q), "cell start inside the cell at 0x%x (overlapping cells)", fileOff(uint32(p)))
				}
			}
			p += sz
		}
		off += size
	}
}

func (c *checker) key(off, parent uint32, path string, depth int) {
	h := c.h
	if depth > maxDepth {
		c.add(off, "key %s nested deeper than %d levels", quoted(path), maxDepth)
		return
	}
	if !c.use(off, fmt.Sprintf("key %s", quoted(path))) {
		return
	}
	n, err := h.nk(off)
	if err != nil {
		c.addErr(fmt.Errorf("key %s: %w", quoted(path), err))
		return
	}
	if parent != noCell && n.parent() != parent {
		c.add(off, "key %s: parent field 0x%x, but it is listed under 0x%x", quoted(path), n.parent(), parent)
	}
	if parent != noCell && len(n.nameBytes()) == 0 {
		c.add(off, "key %s: empty name", quoted(path))
	}
	if parent == noCell && n.flags()&keyHiveEntry == 0 {
		c.add(off, "root key lacks the hive entry flag")
	}
	// Security.
	if _, err := h.sk(n.security()); err != nil {
		c.addErr(fmt.Errorf("key %s security: %w", quoted(path), err))
	} else {
		c.skRefs[n.security()]++
	}
	// Class name.
	if n.classLen() > 0 {
		if c.use(n.class(), fmt.Sprintf("class name of %s", quoted(path))) {
			if b, _ := h.cell(n.class()); len(b) < int(n.classLen()) {
				c.add(n.class(), "class name of %s: %d bytes overrun the %d-byte cell", quoted(path), n.classLen(), len(b))
			}
		}
	}
	// Values.
	c.values(n, path)
	// Subkeys.
	subs := c.subkeyList(n, path)
	var maxName, maxClass uint32
	for _, s := range subs {
		k, err := h.nk(s)
		if err != nil {
			continue
		}
		maxName = max(maxName, uint32(2*nameUnits(k.name())))
		maxClass = max(maxClass, uint32(k.classLen()))
	}
	n, _ = h.nk(off)
	if n.maxSubkeyName() < maxName {
		c.add(off, "key %s: largest subkey name field %d is below the longest subkey name (%d bytes)", quoted(path), n.maxSubkeyName(), maxName)
	}
	if n.maxSubkeyClass() < maxClass {
		c.add(off, "key %s: largest subkey class field %d is below the longest class name (%d bytes)", quoted(path), n.maxSubkeyClass(), maxClass)
	}
	for _, s := range subs {
		k, err := h.nk(s)
		if err != nil {
			c.addErr(fmt.Errorf("subkey of %s: %w", quoted(path), err))
			continue
		}
		c.key(s, off, joinPath(path, k.name()), depth+1)
	}
}

func (c *checker) values(n nkCell, path string) {
	h := c.h
	count := n.valueCount()
	if count == 0 {
		return
	}
	if !c.use(n.valueList(), fmt.Sprintf("value list of %s", quoted(path))) {
		return
	}
	offs, err := h.valueOffsets(n)
	if err != nil {
		c.addErr(fmt.Errorf("key %s: %w", quoted(path), err))
		return
	}
	var maxName, maxData uint32
	seen := map[string]bool{}
	for _, o := range offs {
		if !c.use(o, fmt.Sprintf("a value of %s", quoted(path))) {
			continue
		}
		v, err := h.vk(o)
		if err != nil {
			c.addErr(fmt.Errorf("key %s: %w", quoted(path), err))
			continue
		}
		name := v.name()
		if seen[foldKey(name)] {
			c.add(o, "key %s: value name %s appears twice", quoted(path), quoted(name))
		}
		seen[foldKey(name)] = true
		maxName = max(maxName, uint32(2*nameUnits(name)))
		maxData = max(maxData, v.size())
		c.valueData(v, path, name)
	}
	if n.maxValueName() < maxName {
		c.add(n.off, "key %s: largest value name field %d is below the longest value name (%d bytes)", quoted(path), n.maxValueName(), maxName)
	}
	if n.maxValueData() < maxData {
		c.add(n.off, "key %s: largest value data field %d is below the largest value (%d bytes)", quoted(path), n.maxValueData(), maxData)
	}
}

func (c *checker) valueData(v vkCell, path, name string) {
	h := c.h
	what := fmt.Sprintf("data of value %s of key %s", quoted(name), quoted(path))
	if v.inline() {
		if v.size() > 4 {
			c.add(v.off, "%s: resident data of %d bytes", what, v.size())
		}
		return
	}
	if v.size() == 0 {
		return
	}
	off := v.dataOff()
	if !c.use(off, what) {
		return
	}
	b, _ := h.cell(off)
	if h.isBigData(v, b) {
		listOff := le.Uint32(b[4:])
		if !c.use(listOff, "segment list of "+what) {
			return
		}
		count := int(le.Uint16(b[2:]))
		need := int((v.size() + bigDataSegment - 1) / bigDataSegment)
		if count != need {
			c.add(off, "%s: %d segments for %d bytes, want %d", what, count, v.size(), need)
		}
		list, _ := h.cell(listOff)
		if len(list) < 4*count {
			c.add(listOff, "%s: segment list overruns its cell", what)
			return
		}
		for i := 0; i < count; i++ {
			c.use(le.Uint32(list[4*i:]), fmt.Sprintf("segment %d of %s", i, what))
		}
	}
	if _, err := h.valueData(v); err != nil {
		c.addErr(fmt.Errorf("%s: %w", what, err))
	}
}

// subkeyList checks a key's subkey list and returns the subkeys.
func (c *checker) subkeyList(n nkCell, path string) []uint32 {
	h := c.h
	count := n.subkeyCount()
	if count == 0 {
		return nil
	}
	listOff := n.subkeyList()
	if !c.use(listOff, fmt.Sprintf("subkey list of %s", quoted(path))) {
		return nil
	}
	b, _ := h.cell(listOff)
	var leaves []uint32
	if len(b) >= 4 && string(b[:2]) == "ri" {
		k := int(le.Uint16(b[2:]))
		if 4+4*k > len(b) {
			c.add(listOff, "index root of %s overruns its cell", quoted(path))
			return nil
		}
		for i := 0; i < k; i++ {
			l := le.Uint32(b[4+4*i:])
			if c.use(l, fmt.Sprintf("subkey leaf of %s", quoted(path))) {
				leaves = append(leaves, l)
			}
		}
	} else {
		leaves = []uint32{listOff}
	}
	var subs []uint32
	var prev []uint16
	for _, l := range leaves {
		lb, _ := h.cell(l)
		if len(lb) < 4 {
			c.add(l, "subkey list of %s: cell too small", quoted(path))
			continue
		}
		kind := string(lb[:2])
		step := 8
		switch kind {
		case "lf", "lh":
		case "li":
			step = 4
		case "ri":
			c.add(l, "subkey list of %s: index root inside an index root", quoted(path))
			continue
		default:
			c.add(l, "subkey list of %q: signature %q", path, kind)
			continue
		}
		k := int(le.Uint16(lb[2:]))
		if k == 0 {
			c.add(l, "subkey list of %s: empty leaf", quoted(path))
		}
		if 4+step*k > len(lb) {
			c.add(l, "subkey list of %s: %d elements overrun the cell", quoted(path), k)
			continue
		}
		for i := 0; i < k; i++ {
			s := le.Uint32(lb[4+step*i:])
			sn, err := h.nk(s)
			if err != nil {
				c.addErr(fmt.Errorf("subkey list of %s element %d: %w", quoted(path), i, err))
				continue
			}
			name := sn.name()
			switch kind {
			case "lh":
				if got, want := le.Uint32(lb[8+step*i:]), nameHash(name); got != want {
					c.add(l, "subkey list of %s: hash of %s is 0x%08x, want 0x%08x", quoted(path), quoted(name), got, want)
				}
			case "lf":
				if got, want := le.Uint32(lb[8+step*i:]), lfHint(name); got != want && sn.flags()&keyCompName != 0 {
					c.add(l, "subkey list of %s: name hint of %s is 0x%08x, want 0x%08x", quoted(path), quoted(name), got, want)
				}
			}
			up := upperUnits(name)
			if prev != nil && compareUnits(prev, up) >= 0 {
				c.add(l, "subkey list of %s: %s is not sorted after the key before it", quoted(path), quoted(name))
			}
			prev = up
			subs = append(subs, s)
		}
	}
	if uint32(len(subs)) != count {
		c.add(n.off, "key %s: subkey count %d, but its list holds %d", quoted(path), count, len(subs))
	}
	return subs
}

// security checks the list of security cells and their reference counts.
func (c *checker) security() {
	h := c.h
	if len(c.skRefs) == 0 {
		return
	}
	var start uint32
	for off := range c.skRefs {
		if start == 0 || off < start {
			start = off
		}
	}
	inList := map[uint32]bool{}
	off := start
	for i := 0; ; i++ {
		s, err := h.sk(off)
		if err != nil {
			c.addErr(fmt.Errorf("security list: %w", err))
			return
		}
		if inList[off] {
			c.add(off, "security list loops without returning to its start")
			return
		}
		inList[off] = true
		next, err := h.sk(s.flink())
		if err != nil {
			c.addErr(fmt.Errorf("security list forward link: %w", err))
			return
		}
		if next.blink() != off {
			c.add(next.off, "security cell's backward link 0x%x does not point back to 0x%x", next.blink(), off)
		}
		if refs := c.skRefs[off]; s.refs() != refs {
			c.add(off, "security cell reference count %d, but %d keys use it", s.refs(), refs)
		}
		if _, used := c.skRefs[off]; !used {
			c.add(off, "security cell in the list is used by no key")
		} else if _, dup := c.owner[off]; dup {
			c.add(off, "security cell is also used as %s", c.owner[off])
		}
		off = s.flink()
		if off == start {
			break
		}
	}
	for off := range c.skRefs {
		if !inList[off] {
			c.add(off, "security cell used by keys is missing from the security list")
		}
	}
}
