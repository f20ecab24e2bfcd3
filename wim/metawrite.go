package wim

import (
	"encoding/binary"
	"sort"
	"strings"
	"unicode"
	"unicode/utf16"
)

// dentryLen is the on-disk size of f's directory entry, without its stream entries.
func dentryLen(f *File) int64 {
	n := int64(dentryFixedSize)
	if name := utf16Len(f.Name); name > 0 {
		n += name + 2
	}
	if short := utf16Len(f.ShortName); short > 0 {
		n += short + 2
	}
	return align8(n)
}

func utf16Len(s string) int64 { return int64(2 * len(utf16.Encode([]rune(s)))) }

func streamEntryLen(name string) int64 {
	n := int64(streamFixedSize)
	if l := utf16Len(name); l > 0 {
		n += l + 2
	}
	return align8(n)
}

// extraStreams returns the stream entries f needs after its directory entry
// and the hash that goes in the entry itself. A file with only an unnamed
// data stream (or a reparse point with only its reparse data) keeps the hash
// in the entry. Otherwise, as DISM does, the entry's hash is zero and the
// streams follow as entries: for a reparse point the reparse data first,
// then the unnamed data stream (unnamed entries, told apart by order), then
// the named streams.
func extraStreams(f *File) (Hash, []Stream) {
	if len(f.NamedStreams) == 0 {
		if f.IsReparsePoint() {
			if f.Data.Hash.IsZero() {
				return f.Reparse.Hash, nil
			}
			return Hash{}, []Stream{{Hash: f.Reparse.Hash}, {Hash: f.Data.Hash}}
		}
		return f.Data.Hash, nil
	}
	var out []Stream
	if f.IsReparsePoint() {
		out = append(out, Stream{Hash: f.Reparse.Hash})
	}
	if !f.IsDir() || !f.Data.Hash.IsZero() {
		out = append(out, Stream{Hash: f.Data.Hash})
	}
	return Hash{}, append(out, f.NamedStreams...)
}

func entryTotalLen(f *File) int64 {
	n := dentryLen(f)
	_, extras := extraStreams(f)
	for _, s := range extras {
		n += streamEntryLen(s.Name)
	}
	return n
}

// sortChildren orders entries the way Windows looks them up: by name,
// ignoring case, then by exact name.
func sortChildren(fs []*File) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := upperName(fs[i].Name), upperName(fs[j].Name)
		if a != b {
			return a < b
		}
		return fs[i].Name < fs[j].Name
	})
}

func upperName(s string) string {
	return strings.Map(unicode.ToUpper, s)
}

// hasChildList reports whether a directory entry gets a list of children:
// every plain directory (an empty one gets just the end marker), and a
// reparse-point directory only if something is below it (a junction or
// directory symlink normally has nothing).
func hasChildList(f *File) bool {
	return f.IsDir() && (!f.IsReparsePoint() || len(f.Children) > 0)
}

// marshalMetadata builds a metadata resource: the security data, the root
// entry and its end marker, then each directory's children as one list
// closed by an 8-byte zero end marker.
func marshalMetadata(root *File, sds [][]byte) []byte {
	secLen := int64(8 + 8*len(sds))
	for _, sd := range sds {
		secLen += int64(len(sd))
	}
	secLen = align8(secLen)

	// First pass: lay out the lists breadth first and note where each goes.
	subdir := map[*File]int64{}
	pos := secLen + entryTotalLen(root) + 8
	queue := []*File{root}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		sortChildren(d.Children)
		subdir[d] = pos
		for _, c := range d.Children {
			pos += entryTotalLen(c)
			if hasChildList(c) {
				queue = append(queue, c)
			}
		}
		pos += 8
	}
	buf := make([]byte, pos)
	binary.LittleEndian.PutUint32(buf[0:], uint32(secLen))
	binary.LittleEndian.PutUint32(buf[4:], uint32(len(sds)))
	off := int64(8 + 8*len(sds))
	for i, sd := range sds {
		binary.LittleEndian.PutUint64(buf[8+8*i:], uint64(len(sd)))
		copy(buf[off:], sd)
		off += int64(len(sd))
	}
	putEntry(buf[secLen:], root, subdir[root])
	queue = []*File{root}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		p := subdir[d]
		for _, c := range d.Children {
			putEntry(buf[p:], c, subdir[c])
			p += entryTotalLen(c)
			if hasChildList(c) {
				queue = append(queue, c)
			}
		}
	}
	return buf
}

// putEntry writes f's directory entry and stream entries at the start of b.
func putEntry(b []byte, f *File, subdir int64) {
	length := dentryLen(f)
	le := binary.LittleEndian
	le.PutUint64(b[0:], uint64(length))
	le.PutUint32(b[8:], f.Attributes)
	le.PutUint32(b[12:], uint32(f.SecurityID))
	le.PutUint64(b[16:], uint64(subdir))
	le.PutUint64(b[40:], f.CreationTime)
	le.PutUint64(b[48:], f.LastAccessTime)
	le.PutUint64(b[56:], f.LastWriteTime)
	main, extras := extraStreams(f)
	copy(b[64:84], main[:])
	if f.IsReparsePoint() {
		le.PutUint32(b[88:], f.ReparseTag)
		le.PutUint16(b[94:], f.ReparseFlags)
	} else {
		le.PutUint64(b[88:], f.HardLinkGroup)
	}
	le.PutUint16(b[96:], uint16(len(extras)))
	short := encodeUTF16(f.ShortName)
	name := encodeUTF16(f.Name)
	le.PutUint16(b[98:], uint16(len(short)))
	le.PutUint16(b[100:], uint16(len(name)))
	p := dentryFixedSize
	copy(b[p:], name)
	if len(name) > 0 {
		p += len(name) + 2
	}
	copy(b[p:], short)
	p64 := length
	for _, s := range extras {
		sl := streamEntryLen(s.Name)
		e := b[p64 : p64+sl]
		le.PutUint64(e[0:], uint64(sl))
		copy(e[16:36], s.Hash[:])
		n := encodeUTF16(s.Name)
		le.PutUint16(e[36:], uint16(len(n)))
		copy(e[streamFixedSize:], n)
		p64 += sl
	}
}
