package hive

import (
	"fmt"
	"math/bits"
)

// freeLists remembers free cells by size so that allocation reuses them.
// Entries are checked lazily: a cell that was allocated or merged since it
// was pushed is skipped when popped.
type freeLists struct {
	small [smallClasses][]uint32 // exact sizes 8..4088, indexed by size/8
	large []uint32               // cells of 4096 bytes and more, first fit
	// nonEmpty has a bit set for each small class whose list is not empty,
	// so that an allocation finds the next class holding a cell without
	// looking at hundreds of empty lists (a hive full of cells: most are).
	nonEmpty [smallClasses / 64]uint64
}

const smallClasses = 512

func (f *freeLists) push(off, size uint32) {
	if c := size / cellAlign; c < smallClasses {
		f.small[c] = append(f.small[c], off)
		f.nonEmpty[c/64] |= 1 << (c % 64)
		return
	}
	f.large = append(f.large, off)
}

// nextClass returns the first small class from c on whose list is not
// empty, or smallClasses.
func (f *freeLists) nextClass(c uint32) uint32 {
	for c < smallClasses {
		if w := f.nonEmpty[c/64] >> (c % 64); w != 0 {
			return c + uint32(bits.TrailingZeros64(w))
		}
		c = (c/64 + 1) * 64
	}
	return smallClasses
}

// isFree reports whether off is still a free cell of exactly size bytes.
func (h *Hive) isFree(off, size uint32) bool {
	return h.isStart(off) && int(off)+4 <= len(h.data) && int32(le.Uint32(h.data[off:])) == int32(size)
}

// findFree pops a free cell of at least need bytes, or returns false.
func (h *Hive) findFree(need uint32) (uint32, bool) {
	for c := h.free.nextClass(need / cellAlign); c < smallClasses; c = h.free.nextClass(c + 1) {
		list := h.free.small[c]
		for len(list) > 0 {
			off := list[len(list)-1]
			list = list[:len(list)-1]
			if h.isFree(off, c*cellAlign) {
				h.free.small[c] = list
				if len(list) == 0 {
					h.free.nonEmpty[c/64] &^= 1 << (c % 64)
				}
				return off, true
			}
		}
		h.free.small[c] = list
		h.free.nonEmpty[c/64] &^= 1 << (c % 64)
	}
	kept := h.free.large[:0]
	found, ok := uint32(0), false
	for i, off := range h.free.large {
		if !h.isStart(off) {
			continue
		}
		raw := int32(le.Uint32(h.data[off:]))
		if raw < smallClasses*cellAlign {
			continue // allocated, or shrunk into a small class (pushed there)
		}
		if !ok && uint32(raw) >= need {
			found, ok = off, true
			kept = append(kept, h.free.large[i+1:]...)
			break
		}
		kept = append(kept, off)
	}
	h.free.large = kept
	return found, ok
}

// alloc allocates a zeroed cell with room for n bytes of data and returns
// its offset.
func (h *Hive) alloc(n int) (uint32, error) {
	if n < 0 || n > maxHiveBins/2 {
		return 0, fmt.Errorf("hive: cell of %d bytes is too large", n)
	}
	need := uint32(align(n+4, cellAlign))
	off, ok := h.findFree(need)
	if !ok {
		var err error
		if off, err = h.grow(need); err != nil {
			return 0, err
		}
	}
	size := uint32(le.Uint32(h.data[off:]))
	if size-need >= cellAlign {
		rest := off + need
		le.PutUint32(h.data[rest:], size-need)
		h.setStart(rest)
		h.free.push(rest, size-need)
		size = need
	}
	le.PutUint32(h.data[off:], uint32(-int32(size)))
	clear(h.data[off+4 : off+size])
	return off, nil
}

// grow appends a hive bin big enough for a cell of need bytes and returns
// the free cell that fills it.
func (h *Hive) grow(need uint32) (uint32, error) {
	size := align(int(need)+binHeaderSize, binAlign)
	start := len(h.data)
	if int64(start)+int64(size) > maxHiveBins {
		return 0, fmt.Errorf("hive: would grow beyond %d bytes", int64(maxHiveBins))
	}
	h.data = append(h.data, make([]byte, size)...)
	b := h.data[start:]
	copy(b, "hbin")
	le.PutUint32(b[4:], uint32(start))
	le.PutUint32(b[8:], uint32(size))
	h.bins = append(h.bins, uint32(start))
	for len(h.starts)*64*cellAlign < len(h.data) {
		h.starts = append(h.starts, 0)
	}
	cell := uint32(start + binHeaderSize)
	le.PutUint32(h.data[cell:], uint32(size-binHeaderSize))
	h.setStart(cell)
	return cell, nil
}

// freeCell releases an allocated cell, zeroes its content (deleted data
// does not linger in the file) and merges it with free neighbours in the
// same bin.
func (h *Hive) freeCell(off uint32) error {
	if _, err := h.cell(off); err != nil {
		return err
	}
	size := uint32(-int32(le.Uint32(h.data[off:])))
	clear(h.data[off+4 : off+size])
	binStart, binEnd := h.binOf(off)
	// Merge with the following cell.
	if next := off + size; next < binEnd && h.isStart(next) {
		if raw := int32(le.Uint32(h.data[next:])); raw > 0 {
			size += uint32(raw)
			h.clearStart(next)
			clear(h.data[next : next+4])
		}
	}
	// Merge with the preceding cell.
	if prev, ok := h.prevStart(off, binStart+binHeaderSize); ok {
		if raw := int32(le.Uint32(h.data[prev:])); raw > 0 && prev+uint32(raw) == off {
			h.clearStart(off)
			clear(h.data[off : off+4])
			off = prev
			size += uint32(raw)
		}
	}
	le.PutUint32(h.data[off:], size)
	h.free.push(off, size)
	return nil
}

// prevStart finds the cell start just before off, not before lo.
func (h *Hive) prevStart(off, lo uint32) (uint32, bool) {
	if off <= lo {
		return 0, false
	}
	i := off/cellAlign - 1
	loUnit := lo / cellAlign
	for {
		w := h.starts[i/64] & (uint64(1)<<(i%64+1) - 1) // bits <= i in this word
		if i%64 == 63 {
			w = h.starts[i/64]
		}
		if w != 0 {
			top := uint32(63 - leadingZeros64(w))
			unit := i/64*64 + top
			if unit < loUnit {
				return 0, false
			}
			return unit * cellAlign, true
		}
		if i/64 == 0 || i/64*64 <= loUnit {
			return 0, false
		}
		i = i/64*64 - 1
	}
}

func leadingZeros64(x uint64) int { return bits.LeadingZeros64(x) }
