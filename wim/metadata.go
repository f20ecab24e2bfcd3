package wim

import (
	"encoding/binary"
	"time"
	"unicode/utf16"
)

// Sizes of the fixed parts of the metadata records.
const (
	dentryFixedSize = 102
	streamFixedSize = 38
	maxTreeDepth    = 512
)

// Stream is one data stream of a file: the unnamed data stream, the reparse
// data, or a named (alternate) data stream.
type Stream struct {
	Name string
	Hash Hash  // zero for an empty stream
	Size int64 // uncompressed size, from the blob table (0 for an empty stream)
}

// File is one directory entry of an image.
type File struct {
	Name           string
	ShortName      string // DOS 8.3 name, if any
	Attributes     uint32
	SecurityID     int32 // index into Image.SecurityDescriptors, or -1
	CreationTime   uint64
	LastAccessTime uint64
	LastWriteTime  uint64
	ReparseTag     uint32
	ReparseFlags   uint16 // bit 0: the target was not fixed up at capture
	HardLinkGroup  uint64 // entries with the same non-zero group are one file
	Data           Stream // the unnamed data stream
	Reparse        Stream // the reparse data (without its 8-byte header) of a reparse point
	NamedStreams   []Stream
	Children       []*File
	Parent         *File // nil for the root

	offset int64 // where the entry starts in the metadata resource
}

// IsDir reports whether f is a directory (a directory junction or
// symbolic link to a directory is also one, with AttrReparsePoint).
func (f *File) IsDir() bool { return f.Attributes&AttrDirectory != 0 }

// IsReparsePoint reports whether f is a reparse point (symbolic link, junction, ...).
func (f *File) IsReparsePoint() bool { return f.Attributes&AttrReparsePoint != 0 }

// Path is f's path from the image root, with '/' separators.
func (f *File) Path() string {
	if f.Parent == nil {
		return "/"
	}
	var parts []string
	for g := f; g.Parent != nil; g = g.Parent {
		parts = append(parts, g.Name)
	}
	n := 0
	for _, p := range parts {
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	for i := len(parts) - 1; i >= 0; i-- {
		b = append(b, '/')
		b = append(b, parts[i]...)
	}
	return string(b)
}

// Walk calls fn for f and everything below it, parents before children.
func (f *File) Walk(fn func(*File) error) error {
	if err := fn(f); err != nil {
		return err
	}
	for _, c := range f.Children {
		if err := c.Walk(fn); err != nil {
			return err
		}
	}
	return nil
}

// Image is the parsed metadata resource of one image.
type Image struct {
	Index               int
	SecurityDescriptors [][]byte
	Root                *File
}

const filetimeUnixEpoch = 116444736000000000

// FiletimeToTime converts a Windows FILETIME (100 ns since 1601) to a time.Time.
func FiletimeToTime(ft uint64) time.Time {
	d := int64(ft - filetimeUnixEpoch)
	if ft < filetimeUnixEpoch {
		d = -int64(filetimeUnixEpoch - ft)
	}
	return time.Unix(0, 0).Add(time.Duration(d/10_000_000) * time.Second).Add(time.Duration(d%10_000_000) * 100)
}

// TimeToFiletime converts t to a Windows FILETIME.
func TimeToFiletime(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	ft := t.Unix()*10_000_000 + int64(t.Nanosecond())/100 + filetimeUnixEpoch
	if ft < 0 {
		return 0
	}
	return uint64(ft)
}

func align8(n int64) int64 { return (n + 7) &^ 7 }

// parseMetadata parses a metadata resource: the security data, then the
// directory tree. Cycles, shared entries and out-of-range offsets are refused.
func parseMetadata(buf []byte, index int) (*Image, error) {
	img := &Image{Index: index}
	size := int64(len(buf))
	if size < 8 {
		return nil, formatErr("image %d: metadata resource too short (%d bytes)", index, size)
	}
	total := int64(binary.LittleEndian.Uint32(buf[0:4]))
	count := int64(binary.LittleEndian.Uint32(buf[4:8]))
	if total < 8 {
		total = 8
	}
	if total > size || 8+count*8 > total {
		return nil, formatErr("image %d: security data (%d bytes, %d descriptors) does not fit in the metadata resource (%d bytes)", index, total, count, size)
	}
	off := 8 + count*8
	img.SecurityDescriptors = make([][]byte, 0, count)
	for i := int64(0); i < count; i++ {
		n := int64(binary.LittleEndian.Uint64(buf[8+i*8:]))
		if n < 0 || n > total-off {
			return nil, formatErr("image %d: security descriptor %d (%d bytes) runs past the security data", index, i, n)
		}
		img.SecurityDescriptors = append(img.SecurityDescriptors, buf[off:off+n:off+n])
		off += n
	}
	p := &metaParser{buf: buf, index: index, seen: map[int64]bool{}, numSecurity: int32(count)}
	rootOff := align8(total)
	root, _, err := p.dentry(rootOff)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, formatErr("image %d: no root directory at offset %d", index, rootOff)
	}
	if !root.IsDir() {
		return nil, formatErr("image %d: root entry is not a directory", index)
	}
	root.Name, root.ShortName = "", ""
	if err := p.children(root, 0); err != nil {
		return nil, err
	}
	img.Root = root
	return img, nil
}

type metaParser struct {
	buf         []byte
	index       int
	seen        map[int64]bool
	numSecurity int32
	subdirs     map[*File]int64
}

func (p *metaParser) children(dir *File, depth int) error {
	sub := p.subdirs[dir]
	if sub == 0 {
		return nil
	}
	if depth > maxTreeDepth {
		return formatErr("image %d: directory tree deeper than %d at %s", p.index, maxTreeDepth, dir.Path())
	}
	off := sub
	for {
		f, next, err := p.dentry(off)
		if err != nil {
			return err
		}
		if f == nil {
			return nil
		}
		f.Parent = dir
		dir.Children = append(dir.Children, f)
		if f.IsDir() {
			if err := p.children(f, depth+1); err != nil {
				return err
			}
		}
		off = next
	}
}

// dentry parses the entry at off; it returns nil at an end-of-directory
// marker, and the offset of the next sibling.
func (p *metaParser) dentry(off int64) (*File, int64, error) {
	buf := p.buf
	size := int64(len(buf))
	if off < 0 || off > size-8 {
		return nil, 0, formatErr("image %d: directory entry offset %d outside the metadata resource (%d bytes)", p.index, off, size)
	}
	length := int64(binary.LittleEndian.Uint64(buf[off:]))
	if length == 0 {
		return nil, off + 8, nil
	}
	if p.seen[off] {
		return nil, 0, formatErr("image %d: directory entry at offset %d is reached twice (cyclic or shared metadata)", p.index, off)
	}
	p.seen[off] = true
	if length < dentryFixedSize || length > size-off {
		return nil, 0, formatErr("image %d: directory entry at offset %d has invalid length %d", p.index, off, length)
	}
	d := buf[off : off+length]
	f := &File{offset: off}
	f.Attributes = binary.LittleEndian.Uint32(d[8:])
	f.SecurityID = int32(binary.LittleEndian.Uint32(d[12:]))
	subdir := int64(binary.LittleEndian.Uint64(d[16:]))
	f.CreationTime = binary.LittleEndian.Uint64(d[40:])
	f.LastAccessTime = binary.LittleEndian.Uint64(d[48:])
	f.LastWriteTime = binary.LittleEndian.Uint64(d[56:])
	var mainHash Hash
	copy(mainHash[:], d[64:84])
	if f.IsReparsePoint() {
		f.ReparseTag = binary.LittleEndian.Uint32(d[88:])
		f.ReparseFlags = binary.LittleEndian.Uint16(d[94:])
	} else {
		f.HardLinkGroup = binary.LittleEndian.Uint64(d[88:])
	}
	numStreams := int(binary.LittleEndian.Uint16(d[96:]))
	shortLen := int64(binary.LittleEndian.Uint16(d[98:]))
	nameLen := int64(binary.LittleEndian.Uint16(d[100:]))
	if f.SecurityID < -1 || f.SecurityID >= p.numSecurity {
		return nil, 0, formatErr("image %d: directory entry at offset %d has security id %d of %d", p.index, off, f.SecurityID, p.numSecurity)
	}
	need := dentryFixedSize + nameLen + shortLen
	if nameLen > 0 {
		need += 2
	}
	if shortLen > 0 {
		need += 2
	}
	if nameLen%2 != 0 || shortLen%2 != 0 || need > length {
		return nil, 0, formatErr("image %d: directory entry at offset %d: names (%d+%d bytes) overflow its length %d", p.index, off, nameLen, shortLen, length)
	}
	pos := int64(dentryFixedSize)
	f.Name = decodeUTF16(d[pos : pos+nameLen])
	if nameLen > 0 {
		pos += nameLen + 2
	}
	f.ShortName = decodeUTF16(d[pos : pos+shortLen])
	next := align8(off + length)

	var unnamed []Hash
	if numStreams == 0 || !mainHash.IsZero() {
		unnamed = append(unnamed, mainHash)
	}
	for i := 0; i < numStreams; i++ {
		if next > size-8 {
			return nil, 0, formatErr("image %d: stream entry %d of the entry at offset %d runs past the metadata resource", p.index, i, off)
		}
		slen := int64(binary.LittleEndian.Uint64(buf[next:]))
		if slen < streamFixedSize || slen > size-next {
			return nil, 0, formatErr("image %d: stream entry at offset %d has invalid length %d", p.index, next, slen)
		}
		s := buf[next : next+slen]
		var h Hash
		copy(h[:], s[16:36])
		snameLen := int64(binary.LittleEndian.Uint16(s[36:]))
		if snameLen%2 != 0 || streamFixedSize+snameLen > slen {
			return nil, 0, formatErr("image %d: stream entry at offset %d: name of %d bytes overflows its length %d", p.index, next, snameLen, slen)
		}
		if snameLen == 0 {
			unnamed = append(unnamed, h)
		} else {
			f.NamedStreams = append(f.NamedStreams, Stream{Name: decodeUTF16(s[streamFixedSize : streamFixedSize+snameLen]), Hash: h})
		}
		next = align8(next + slen)
	}
	if f.IsReparsePoint() {
		// The reparse data comes first; an unnamed data stream, if any, after it.
		if len(unnamed) > 0 {
			f.Reparse.Hash = unnamed[0]
		}
		if len(unnamed) > 1 {
			f.Data.Hash = unnamed[1]
		}
	} else if len(unnamed) > 0 {
		f.Data.Hash = unnamed[0]
	}
	if f.IsDir() && subdir != 0 {
		if p.subdirs == nil {
			p.subdirs = map[*File]int64{}
		}
		p.subdirs[f] = subdir
	}
	return f, next, nil
}

func decodeUTF16(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

func encodeUTF16(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, v := range u {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	return b
}
