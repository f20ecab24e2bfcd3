package ntfs

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"strings"
)

// File attribute bits used here.
const (
	AttrDirectory    = 0x10
	AttrSparse       = 0x200
	AttrReparsePoint = 0x400
	AttrCompressed   = 0x800
	AttrEncrypted    = 0x4000
)

// File name namespaces.
const (
	nsPOSIX    = 0
	nsWin32    = 1
	nsDOS      = 2
	nsWin32DOS = 3
)

// File is one file or directory of the volume: one MFT base record.
type File struct {
	Record     int64
	Seq        uint16
	Dir        bool
	Attributes uint32 // FILE_ATTRIBUTE_* ($STANDARD_INFORMATION, plus DIRECTORY)
	// Timestamps as Windows FILETIMEs (100 ns intervals since 1601).
	Created, Modified, Changed, Accessed uint64
	SecurityID                           uint32
	Links                                []Link   // every name: hard links are several
	Streams                              []Stream // the unnamed data stream (Name "") first, then named ones
	Reparse                              []byte   // the $REPARSE_POINT value (tag, length, data), nil when none
	// WOF is set for a file the Windows Overlay Filter backs (CompactOS,
	// WIMBoot). Such a file is shown as Windows shows it: Reparse nil, no
	// reparse point or sparse attribute, no WofCompressedData stream, and
	// its unnamed stream reads as the decoded content.
	WOF *WOF

	v        *Volume
	inlineSD []byte // NTFS 1.x: a $SECURITY_DESCRIPTOR attribute
}

// Link is one name of a file in a directory.
type Link struct {
	Parent    int64
	ParentSeq uint16
	Name      string
	ShortName string // the DOS 8.3 name, when the file has a separate one
}

// Stream is one $DATA attribute of a file.
type Stream struct {
	Name       string
	Size       int64
	Sparse     bool
	Compressed bool
}

// SecurityDescriptor returns the file's self-relative security
// descriptor, or nil when it has none.
func (f *File) SecurityDescriptor() ([]byte, error) {
	// A security id found in $Secure wins; files mkntfs made (the root)
	// may carry their own $SECURITY_DESCRIPTOR attribute instead.
	if _, ok := f.v.sdIndex[f.SecurityID]; ok && f.SecurityID != 0 {
		return f.v.securityDescriptor(f.SecurityID)
	}
	return f.inlineSD, nil
}

// ReparseTag returns the reparse tag, or 0.
func (f *File) ReparseTag() uint32 {
	if len(f.Reparse) < 4 {
		return 0
	}
	return binary.LittleEndian.Uint32(f.Reparse)
}

// StreamReader is a readable stream of a file.
type StreamReader interface {
	io.ReaderAt
	Size() int64
}

// OpenStream opens a data stream of f ("" for the unnamed one).
func (f *File) OpenStream(name string) (StreamReader, error) {
	attrs, err := f.v.fileAttrs(f.Record)
	if err != nil {
		return nil, err
	}
	if name == "" && f.WOF != nil {
		return f.openWOF(attrs)
	}
	ext := pick(attrs, attrData, name)
	if len(ext) == 0 {
		return nil, fmt.Errorf("ntfs: MFT record %d has no stream %q", f.Record, name)
	}
	return f.v.newStream(f.Record, ext)
}

// loadFile reads the metadata of base record n; nil when the record is not
// an in-use base record.
func (v *Volume) loadFile(n int64) (*File, error) {
	b, err := v.record(n)
	if err != nil || b == nil {
		return nil, err
	}
	h := parseHeader(b)
	if h.flags&recInUse == 0 || h.base != 0 {
		return nil, nil
	}
	attrs, err := v.fileAttrs(n)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	f := &File{Record: n, Seq: h.seq, Dir: h.flags&recDir != 0, v: v}
	type dosName struct {
		parent int64
		name   string
	}
	var dos []dosName
	seenStream := map[string]int{}
	for _, a := range attrs {
		switch a.typ {
		case attrStandardInfo:
			if len(a.value) < 36 {
				return nil, corrupt(n, "$STANDARD_INFORMATION of %d bytes", len(a.value))
			}
			f.Created, f.Modified, f.Changed, f.Accessed = le.Uint64(a.value), le.Uint64(a.value[8:]), le.Uint64(a.value[16:]), le.Uint64(a.value[24:])
			f.Attributes = le.Uint32(a.value[32:])
			if len(a.value) >= 56 {
				f.SecurityID = le.Uint32(a.value[52:])
			}
		case attrFileName:
			if len(a.value) < 66 || 66+2*int(a.value[64]) > len(a.value) {
				return nil, corrupt(n, "$FILE_NAME of %d bytes", len(a.value))
			}
			ref := le.Uint64(a.value)
			name := utf16le(a.value[66 : 66+2*int(a.value[64])])
			parent := int64(ref & 0xffffffffffff)
			switch a.value[65] {
			case nsDOS:
				dos = append(dos, dosName{parent, name})
			default:
				dup := false
				for _, l := range f.Links {
					if l.Parent == parent && l.Name == name {
						dup = true
					}
				}
				if !dup {
					f.Links = append(f.Links, Link{Parent: parent, ParentSeq: uint16(ref >> 48), Name: name})
				}
			}
		case attrSecurity:
			if a.resident {
				f.inlineSD = a.value
				break
			}
			if a.dataSize > maxSDSize {
				return nil, corrupt(n, "$SECURITY_DESCRIPTOR of %d bytes", a.dataSize)
			}
			s, err := v.newStream(n, pick(attrs, attrSecurity, ""))
			if err != nil {
				return nil, err
			}
			f.inlineSD = make([]byte, s.size)
			if _, err := s.ReadAt(f.inlineSD, 0); err != nil && err != io.EOF {
				return nil, err
			}
		case attrReparse:
			if a.resident {
				f.Reparse = a.value
			} else {
				s, err := v.newStream(n, pick(attrs, attrReparse, ""))
				if err != nil {
					return nil, err
				}
				if s.size > 16<<10 {
					return nil, corrupt(n, "reparse point of %d bytes (at most 16 KiB)", s.size)
				}
				f.Reparse = make([]byte, s.size)
				if _, err := s.ReadAt(f.Reparse, 0); err != nil && err != io.EOF {
					return nil, err
				}
			}
		case attrData:
			if a.startVCN != 0 && !a.resident {
				continue // a later extent of a stream already listed
			}
			if _, ok := seenStream[a.name]; ok {
				continue
			}
			seenStream[a.name] = len(f.Streams)
			f.Streams = append(f.Streams, Stream{Name: a.name, Size: a.dataSize, Sparse: a.flags&flagSparse != 0, Compressed: a.flags&flagCompressed != 0})
		}
	}
	for _, d := range dos {
		for i := range f.Links {
			if f.Links[i].Parent == d.parent {
				f.Links[i].ShortName = d.name
				break
			}
		}
	}
	sort.SliceStable(f.Streams, func(i, j int) bool { return f.Streams[i].Name == "" && f.Streams[j].Name != "" })
	if f.Dir {
		f.Attributes |= AttrDirectory
	}
	f.wofView()
	return f, nil
}

// Tree is the volume's directory tree, built from every in-use MFT record's
// names (no index B-tree is trusted for the shape).
type Tree struct {
	v        *Volume
	files    map[int64]*File
	children map[int64][]child
	Orphans  int // in-use files whose parent is gone or stale
}

type child struct {
	name  string
	short string
	rec   int64
}

// maxFiles bounds the records a tree holds.
const maxFiles = 1 << 24

// ReadTree reads every MFT record and builds the directory tree. System
// files (records below 16 but the root) are left out, as a mount hides
// them. progress, if not nil, is called with records read and the total.
func (v *Volume) ReadTree(ctx context.Context, progress func(done, total int64)) (*Tree, error) {
	t := &Tree{v: v, files: map[int64]*File{}, children: map[int64][]child{}}
	for n := int64(0); n < v.records; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if progress != nil {
				progress(n, v.records)
			}
		}
		if n < firstUser && n != recRoot {
			continue
		}
		f, err := v.loadFile(n)
		if err != nil {
			return nil, err
		}
		if f == nil {
			continue
		}
		if len(t.files) >= maxFiles {
			return nil, corrupt(-1, "more than %d files", maxFiles)
		}
		t.files[n] = f
	}
	if progress != nil {
		progress(v.records, v.records)
	}
	if t.files[recRoot] == nil || !t.files[recRoot].Dir {
		return nil, corrupt(recRoot, "the root directory is missing")
	}
	for n, f := range t.files {
		for _, l := range f.Links {
			if n == recRoot {
				continue
			}
			p := t.files[l.Parent]
			if p == nil || !p.Dir || (l.ParentSeq != 0 && p.Seq != l.ParentSeq) {
				t.Orphans++
				continue
			}
			t.children[l.Parent] = append(t.children[l.Parent], child{name: l.Name, short: l.ShortName, rec: n})
		}
	}
	for _, c := range t.children {
		sort.Slice(c, func(i, j int) bool { return c[i].name < c[j].name })
	}
	return t, nil
}

// Root returns the root directory.
func (t *Tree) Root() *File { return t.files[recRoot] }

// Entry is one name in a directory listing.
type Entry struct {
	Name      string
	ShortName string
	File      *File
}

// Children lists directory d's entries, sorted by name.
func (t *Tree) Children(d *File) []Entry {
	cs := t.children[d.Record]
	out := make([]Entry, 0, len(cs))
	for _, c := range cs {
		out = append(out, Entry{Name: c.name, ShortName: c.short, File: t.files[c.rec]})
	}
	return out
}

// Lookup finds a path ("/" or "\" separated, relative to the root),
// comparing names case-insensitively as Windows does; an exact match wins.
func (t *Tree) Lookup(path string) (*File, error) {
	f := t.Root()
	for _, part := range strings.FieldsFunc(path, func(r rune) bool { return r == '/' || r == '\\' }) {
		if part == "." {
			continue
		}
		if !f.Dir {
			return nil, fmt.Errorf("ntfs: %s: not a directory", path)
		}
		var found *File
		for _, c := range t.children[f.Record] {
			if c.name == part {
				found = t.files[c.rec]
				break
			}
			if found == nil && foldEqual(c.name, part) {
				found = t.files[c.rec]
			}
		}
		if found == nil {
			return nil, fmt.Errorf("ntfs: %s: %w", path, errNotExist)
		}
		f = found
	}
	return f, nil
}

func foldEqual(a, b string) bool { return strings.EqualFold(a, b) }
