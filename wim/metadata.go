package wim

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
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
	return parseMetadataWithin(buf, index, metadataMemoryBudget)
}

// parseMetadataWithin is parseMetadata with a memory budget of limit bytes
// (counted as metaParser.spend does).
func parseMetadataWithin(buf []byte, index int, limit int64) (*Image, error) {
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
	// A security descriptor is at least its 20-byte header: more descriptors
	// than that allows are a claim, not data, and are refused before their
	// table is allocated.
	if 8+count*(8+minSecurityDescriptor) > total {
		return nil, fmt.Errorf("%w: image %d: the security data claims %d descriptors in %d bytes (each takes at least %d)", ErrLimit, index, count, total, 8+minSecurityDescriptor)
	}
	p := &metaParser{buf: buf, index: index, seen: make([]uint64, len(buf)/64+1), numSecurity: int32(count), limit: limit}
	p.budget = int64(len(buf))
	if err := p.spend(count * (24 + minSecurityDescriptor)); err != nil {
		return nil, err
	}
	off := 8 + count*8
	// The descriptors are copied out of buf into one block, so that buf can
	// be released once the tree is parsed.
	sds := make([]byte, 0, total-off)
	img.SecurityDescriptors = make([][]byte, 0, count)
	for i := int64(0); i < count; i++ {
		n := int64(binary.LittleEndian.Uint64(buf[8+i*8:]))
		if n < minSecurityDescriptor || n > total-off {
			return nil, formatErr("image %d: security descriptor %d (%d bytes) is shorter than its header or runs past the security data", index, i, n)
		}
		start := len(sds)
		sds = append(sds, buf[off:off+n]...)
		img.SecurityDescriptors = append(img.SecurityDescriptors, sds[start:len(sds):len(sds)])
		off += n
	}
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

// The memory a parsed image may take, counted as it is parsed: the
// metadata resource itself plus an estimate of every entry, name, stream
// and security descriptor made from it. What a file claims is never
// allocated before it is counted; an image beyond the budget is refused
// (ErrLimit). The budget is an estimate of what real images need with room
// to spare, not a measurement (the corpus has no Windows install.wim): half
// a million entries of some 250 bytes of metadata each come to about
// 125 MB of metadata and 280 MB in all.
const (
	metadataMemoryBudget = 320 << 20
	// entryCost is what a File takes beyond its names: the struct (240
	// bytes), its place in its parent's Children and in planApply's lists.
	entryCost             = 280
	streamCost            = 64 // a named stream's Stream and its share of the slice
	subdirCost            = 64 // a directory's entry in metaParser.subdirs
	minSecurityDescriptor = 20 // SECURITY_DESCRIPTOR_RELATIVE's header
)

type metaParser struct {
	buf         []byte
	index       int
	seen        []uint64 // bit per byte offset of buf: the entries parsed
	numSecurity int32
	subdirs     map[*File]int64
	budget      int64 // bytes counted so far
	limit       int64 // the most budget may reach (metadataMemoryBudget)
	entries     int64
}

// spend counts n bytes against the budget.
func (p *metaParser) spend(n int64) error {
	p.budget += n
	if p.budget > p.limit {
		return fmt.Errorf("%w: image %d: its metadata (%d bytes, %d entries so far) needs more than %d MiB of memory", ErrLimit, p.index, len(p.buf), p.entries, p.limit>>20)
	}
	return nil
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
	if p.seen[off/64]&(1<<(off%64)) != 0 {
		return nil, 0, formatErr("image %d: directory entry at offset %d is reached twice (cyclic or shared metadata)", p.index, off)
	}
	p.seen[off/64] |= 1 << (off % 64)
	p.entries++
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
	// Names as UTF-8 take at most 1.5 times their UTF-16 bytes.
	if err := p.spend(entryCost + (nameLen+shortLen)*3/2 + int64(numStreams)*streamCost); err != nil {
		return nil, 0, err
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
		if err := p.spend(subdirCost); err != nil {
			return nil, 0, err
		}
		if p.subdirs == nil {
			p.subdirs = map[*File]int64{}
		}
		p.subdirs[f] = subdir
	}
	return f, next, nil
}

// decodeUTF16 decodes UTF-16LE (an odd last byte ignored, an unpaired
// surrogate as U+FFFD) into a string with one allocation of at most 1.5
// times len(b), the cost the metadata budget counts for a name.
func decodeUTF16(b []byte) string {
	if len(b) < 2 {
		return ""
	}
	var s strings.Builder
	s.Grow(len(b) / 2 * 3)
	n := len(b) / 2
	for i := 0; i < n; i++ {
		r := rune(binary.LittleEndian.Uint16(b[2*i:]))
		if utf16.IsSurrogate(r) {
			if i+1 < n {
				if d := utf16.DecodeRune(r, rune(binary.LittleEndian.Uint16(b[2*i+2:]))); d != utf8.RuneError {
					s.WriteRune(d)
					i++
					continue
				}
			}
			r = utf8.RuneError
		}
		s.WriteRune(r)
	}
	return s.String()
}

func encodeUTF16(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, v := range u {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	return b
}
