package wim

import (
	"context"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// SourceFile is one file of a tree captured from something other than a
// host directory — an NTFS volume read inside a disk image — with the
// Windows metadata that source knows. CaptureSource turns a tree of them
// into an image exactly as Capture does a directory.
type SourceFile struct {
	Name, ShortName string
	Attributes      uint32 // FILE_ATTRIBUTE_*; AttrDirectory for a directory
	CreationTime    uint64 // FILETIMEs
	LastAccessTime  uint64
	LastWriteTime   uint64
	// SecurityDescriptor is self-relative; nil for none.
	SecurityDescriptor []byte
	// ReparseTag and ReparseData (without the 8-byte reparse header) of a
	// reparse point.
	ReparseTag  uint32
	ReparseData []byte
	// LinkID: files with the same non-zero LinkID are hard links of one
	// file (their streams are read once).
	LinkID   uint64
	Data     *SourceStream // the unnamed stream; nil for none
	Named    []SourceStream
	Children []*SourceFile
}

// SourceStream is a data stream read through an io.ReaderAt.
type SourceStream struct {
	Name string
	Size int64
	Data io.ReaderAt
}

// CaptureSource writes the tree under root as a new image (see Capture for
// the options; Append is honoured). The capture configuration's exclusions
// apply to paths from root. root's name is ignored.
func CaptureSource(ctx context.Context, root *SourceFile, wimPath string, opts CaptureOptions) error {
	if opts.Name == "" {
		return fmt.Errorf("capture %s: an image name is needed", wimPath)
	}
	return captureWith(ctx, wimPath, opts, false, func(ctx context.Context, scan *scanner) (*File, error) {
		groups := map[uint64]*linkGroup{}
		var add func(sf *SourceFile, parent *File, imagePath string, depth int) (*File, error)
		add = func(sf *SourceFile, parent *File, imagePath string, depth int) (*File, error) {
			if depth > maxTreeDepth {
				return nil, fmt.Errorf("%s: directory tree deeper than %d", imagePath, maxTreeDepth)
			}
			if parent != nil && (!utf8.ValidString(sf.Name) || sf.Name == "" || strings.ContainsAny(sf.Name, `/\`)) {
				return nil, fmt.Errorf("%s: invalid file name %q", imagePath, sf.Name)
			}
			f := &File{Name: sf.Name, ShortName: sf.ShortName, Attributes: sf.Attributes, SecurityID: -1, Parent: parent,
				CreationTime: sf.CreationTime, LastAccessTime: sf.LastAccessTime, LastWriteTime: sf.LastWriteTime}
			if parent == nil {
				f.Name, f.ShortName = "", ""
			}
			if sd := sf.SecurityDescriptor; sd != nil {
				if scan.sdIndex == nil {
					scan.sdIndex = map[string]int32{}
				}
				id, ok := scan.sdIndex[string(sd)]
				if !ok {
					id = int32(len(scan.sds))
					scan.sds = append(scan.sds, sd)
					scan.sdIndex[string(sd)] = id
				}
				f.SecurityID = id
			}
			if sf.ReparseTag != 0 {
				f.Attributes |= AttrReparsePoint
				f.ReparseTag = sf.ReparseTag
				if lt, ok := parseLinkReparse(sf.ReparseTag, sf.ReparseData); ok && lt.Relative {
					f.ReparseFlags = 1
				}
				data := append([]byte(nil), sf.ReparseData...)
				scan.reparse[f] = &blobSource{data: data, size: int64(len(data)), refs: 1}
			}
			if g := groups[sf.LinkID]; sf.LinkID != 0 && g != nil {
				// A further name of a file already seen: share its data.
				if g.id == 0 {
					scan.nextGroup++
					g.id = scan.nextGroup
					g.first.HardLinkGroup = g.id
				}
				f.HardLinkGroup = g.id
				if g.src != nil {
					g.src.refs++
					scan.data[f] = g.src
				}
			} else {
				var src *blobSource
				if sf.Data != nil && sf.Data.Size > 0 && f.Attributes&AttrDirectory == 0 {
					src = &blobSource{open: sectionOpener(sf.Data.Data, sf.Data.Size), size: sf.Data.Size, refs: 1}
					scan.sources = append(scan.sources, src)
					scan.data[f] = src
					scan.total += sf.Data.Size
				}
				if sf.LinkID != 0 {
					g := &linkGroup{first: f, src: src}
					groups[sf.LinkID] = g
					scan.inodes[inodeKey{ino: sf.LinkID}] = g
				}
			}
			for _, ns := range sf.Named {
				f.NamedStreams = append(f.NamedStreams, Stream{Name: ns.Name})
				if scan.named == nil {
					scan.named = map[*File][]*blobSource{}
				}
				src := &blobSource{open: sectionOpener(ns.Data, ns.Size), size: ns.Size, refs: 1}
				if ns.Size == 0 {
					src.data = []byte{}
				}
				scan.named[f] = append(scan.named[f], src)
			}
			for _, c := range sf.Children {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				p := imagePath + "/" + c.Name
				if scan.match.excluded(p) {
					continue
				}
				cf, err := add(c, f, p, depth+1)
				if err != nil {
					return nil, err
				}
				f.Children = append(f.Children, cf)
			}
			return f, nil
		}
		if root.Attributes&AttrDirectory == 0 {
			return nil, fmt.Errorf("capture root is not a directory")
		}
		r, err := add(root, nil, "", 0)
		if err != nil {
			return nil, err
		}
		for _, g := range scan.match.unmatched() {
			scan.warnf("exclusion %q matched nothing", g)
		}
		return r, nil
	})
}

func sectionOpener(r io.ReaderAt, size int64) func() (io.Reader, error) {
	return func() (io.Reader, error) { return io.NewSectionReader(r, 0, size), nil }
}
