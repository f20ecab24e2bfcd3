// Package diskvol finds the Windows volume inside a disk image (raw, VHD,
// VHDX, qcow2; GPT or MBR) and reads it as NTFS: the piece between the
// container and partition readers of package disk, the NTFS reader of
// package ntfs, and what consumes the volume (a winimage backend, a WIM
// capture).
package diskvol

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/reseal/reseal/disk"
	"github.com/reseal/reseal/ntfs"
	"github.com/reseal/reseal/wim"
)

// ConfigDir marks the partition holding Windows.
const ConfigDir = "Windows/System32/config"

const attrNormal = 0x80

// ErrNoWindows is returned when no partition holds Windows\System32\config.
var ErrNoWindows = errors.New("no NTFS partition holding Windows\\System32\\config")

// Volume is the NTFS volume of one partition of a disk image.
type Volume struct {
	Path      string // the disk image
	Image     disk.Image
	Table     *disk.Table
	Partition disk.Partition
	NTFS      *ntfs.Volume
	Tree      *ntfs.Tree
}

// ParseTarget splits DISK[:PART]: a trailing ":N" is a partition number
// when the whole argument is not itself an existing file.
func ParseTarget(arg string) (path string, part int) {
	if i := strings.LastIndexByte(arg, ':'); i > 0 {
		if n, err := strconv.Atoi(arg[i+1:]); err == nil && n > 0 {
			if _, err := os.Stat(arg); err != nil {
				return arg[:i], n
			}
		}
	}
	return arg, 0
}

// IsDiskImage reports whether path (with an optional :PART) names a disk
// image rather than a directory or a WIM: a regular file or block device
// whose content is a container format or a partition table or boot sector.
func IsDiskImage(arg string) bool {
	path, _ := ParseTarget(arg)
	st, err := os.Stat(path)
	if err != nil || st.IsDir() {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [512]byte
	if n, _ := f.ReadAt(b[:], 0); n < 8 {
		return false
	}
	switch {
	case string(b[:4]) == "QFI\xfb", string(b[:8]) == "vhdxfile", string(b[:8]) == "conectix":
		return true
	case string(b[:4]) == "MSWI": // a WIM
		return false
	case b[510] == 0x55 && b[511] == 0xaa:
		return true // MBR, protective MBR or a volume's boot sector
	}
	// A fixed VHD: its footer is at the end.
	var foot [8]byte
	if st.Size() >= 512 {
		if _, err := f.ReadAt(foot[:], st.Size()-512); err == nil && string(foot[:]) == "conectix" {
			return true
		}
	}
	return false
}

// Open opens the disk image at path and the partition part (1-based; 0
// chooses the NTFS partition holding Windows\System32\config). A BitLocker
// partition is refused with ntfs.ErrBitLocker. progress, if not nil, sees
// MFT records read while the tree is built.
func Open(ctx context.Context, path string, part int, progress func(done, total int64)) (*Volume, error) {
	img, err := disk.Open(path)
	if err != nil {
		return nil, err
	}
	v, err := open(ctx, img, path, part, progress)
	if err != nil {
		img.Close()
		return nil, err
	}
	return v, nil
}

func open(ctx context.Context, img disk.Image, path string, part int, progress func(done, total int64)) (*Volume, error) {
	tab, err := disk.ReadTable(img, img.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: partition table: %w", path, err)
	}
	if part > 0 {
		for _, p := range tab.Partitions {
			if p.Number == part {
				return openPartition(ctx, img, tab, p, path, progress)
			}
		}
		return nil, fmt.Errorf("%s: no partition %d (the %s table lists %d)", path, part, tab.Scheme, len(tab.Partitions))
	}
	var bitlocker []int
	var firstErr error
	for _, p := range tab.Partitions {
		switch disk.Probe(p.Section(img)) {
		case disk.VolumeBitLocker:
			bitlocker = append(bitlocker, p.Number)
			continue
		case disk.VolumeNTFS:
		default:
			continue
		}
		v, err := openPartition(ctx, img, tab, p, path, progress)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if f, err := v.Tree.Lookup(ConfigDir); err == nil && f.Dir {
			return v, nil
		}
	}
	if len(bitlocker) > 0 {
		return nil, fmt.Errorf("%s: partition %d: %w", path, bitlocker[0], ntfs.ErrBitLocker)
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return nil, fmt.Errorf("%s: %w", path, ErrNoWindows)
}

func openPartition(ctx context.Context, img disk.Image, tab *disk.Table, p disk.Partition, path string, progress func(done, total int64)) (*Volume, error) {
	sec := p.Section(img)
	nv, err := ntfs.Open(sec, p.Size)
	if err != nil {
		return nil, fmt.Errorf("%s: partition %d: %w", path, p.Number, err)
	}
	tree, err := nv.ReadTree(ctx, progress)
	if err != nil {
		return nil, fmt.Errorf("%s: partition %d: %w", path, p.Number, err)
	}
	return &Volume{Path: path, Image: img, Table: tab, Partition: p, NTFS: nv, Tree: tree}, nil
}

// String names the volume: DISK:PART.
func (v *Volume) String() string { return fmt.Sprintf("%s:%d", v.Path, v.Partition.Number) }

// Close closes the disk image.
func (v *Volume) Close() error { return v.Image.Close() }

// CheckClean refuses a volume that may be inconsistent: its dirty flag set
// or its $LogFile holding transactions not applied (an unclean shutdown,
// hibernation, fast startup).
func (v *Volume) CheckClean() error {
	if d := v.NTFS.Dirty(); len(d) > 0 {
		return fmt.Errorf("%s: the NTFS volume is not clean: %s; boot Windows and shut it down fully (shutdown /s /t 0, fast startup off) or run chkdsk", v, strings.Join(d, "; "))
	}
	return nil
}

// WIMSource gives the volume's tree for wim.CaptureSource, with every
// piece of metadata NTFS holds: security descriptors, attributes, short
// names, the three timestamps, reparse data, named streams, hard links.
func (v *Volume) WIMSource() (*wim.SourceFile, error) {
	seen := map[int64]bool{}
	var conv func(f *ntfs.File, name, short, path string, depth int) (*wim.SourceFile, error)
	conv = func(f *ntfs.File, name, short, path string, depth int) (*wim.SourceFile, error) {
		sd, err := f.SecurityDescriptor()
		if err != nil {
			return nil, err
		}
		sf := &wim.SourceFile{Name: name, ShortName: short, Attributes: f.Attributes,
			CreationTime: f.Created, LastAccessTime: f.Accessed, LastWriteTime: f.Modified,
			SecurityDescriptor: sd}
		if sf.Attributes == 0 {
			sf.Attributes = attrNormal // as Windows reports a file with no attribute set
		}
		if tag := f.ReparseTag(); tag != 0 && len(f.Reparse) >= 8 {
			sf.ReparseTag = tag
			sf.ReparseData = f.Reparse[8:]
		}
		if len(f.Links) > 1 && !f.Dir {
			sf.LinkID = uint64(f.Record) // never 0: record 0 is $MFT
		}
		for _, s := range f.Streams {
			ls := &lazyStream{f: f, name: s.Name, size: s.Size, path: path, vol: v}
			if s.Name == "" {
				sf.Data = &wim.SourceStream{Size: s.Size, Data: ls}
			} else {
				sf.Named = append(sf.Named, wim.SourceStream{Name: s.Name, Size: s.Size, Data: ls})
			}
		}
		if f.Dir {
			if seen[f.Record] {
				return nil, fmt.Errorf("%s: directory record %d is reachable by two paths", v, f.Record)
			}
			seen[f.Record] = true
			if depth > 1024 {
				return nil, fmt.Errorf("%s: directory tree deeper than 1024", v)
			}
			for _, e := range v.Tree.Children(f) {
				c, err := conv(e.File, e.Name, e.ShortName, path+"/"+e.Name, depth+1)
				if err != nil {
					return nil, err
				}
				sf.Children = append(sf.Children, c)
			}
		}
		return sf, nil
	}
	return conv(v.Tree.Root(), "", "", "", 0)
}

// lazyStream opens an NTFS stream on first read, so that a capture does
// not hold every file's run list at once.
type lazyStream struct {
	f    *ntfs.File
	name string
	size int64
	path string // in the volume, for errors
	vol  *Volume
	once sync.Once
	r    ntfs.StreamReader
	err  error
}

func (l *lazyStream) ReadAt(p []byte, off int64) (int, error) {
	l.once.Do(func() { l.r, l.err = l.f.OpenStream(l.name) })
	if l.err != nil {
		return 0, l.wrap(l.err)
	}
	n, err := l.r.ReadAt(p, off)
	if err != nil && err != io.EOF {
		err = l.wrap(err)
	}
	return n, err
}

// wrap names the file (and stream) an error of the NTFS layer is about.
func (l *lazyStream) wrap(err error) error {
	name := l.path
	if l.name != "" {
		name += ":" + l.name
	}
	return fmt.Errorf("%s: %s: %w", l.vol, strings.TrimPrefix(name, "/"), err)
}

var _ io.ReaderAt = (*lazyStream)(nil)
