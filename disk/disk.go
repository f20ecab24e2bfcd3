// Package disk reads virtual disk images — raw, VHD, VHDX and qcow2 — as
// io.ReaderAt over the guest's disk, and the GPT or MBR partition table on
// them. It never writes to an image. Every length, count and offset read
// from a file is checked against the file's size or a fixed budget before
// anything is allocated from it, and metadata tables are held in a bounded
// cache, so memory does not grow with the size of the disk.
package disk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Image is an open disk image: ReadAt reads the guest's disk (zeros where the
// image holds no data), Size is the guest disk's size in bytes.
type Image interface {
	io.ReaderAt
	Size() int64
	// Format names the container: "raw", "vhd-fixed", "vhd-dynamic",
	// "vhdx", "qcow2".
	Format() string
	Close() error
}

// ErrUnsupported marks images that are well formed but use a feature this
// package refuses to read (encryption, differencing disks, a dirty log...).
var ErrUnsupported = errors.New("unsupported disk image")

// FormatError reports a malformed image: which file, where, and what.
type FormatError struct {
	Path   string
	Offset int64
	Msg    string
}

func (e *FormatError) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("%s: offset %d: %s", e.Path, e.Offset, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Msg)
}

func formatErr(path string, off int64, format string, args ...any) error {
	return &FormatError{Path: path, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// unsupported wraps ErrUnsupported with the file and the reason.
func unsupported(path, format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s", path, ErrUnsupported, fmt.Sprintf(format, args...))
}

// maxBackingDepth bounds a qcow2 backing chain.
const maxBackingDepth = 16

// Open opens the disk image at path, detecting its format from its content
// (not its name). A qcow2 backing file is followed only when it lies in the
// same directory as the image that names it.
func Open(path string) (Image, error) {
	return openChain(path, "", nil)
}

func openChain(path, format string, seen []string) (Image, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	for _, s := range seen {
		if s == abs {
			return nil, formatErr(path, -1, "backing file chain loops back to %s", filepath.Base(abs))
		}
	}
	if len(seen) >= maxBackingDepth {
		return nil, formatErr(path, -1, "backing file chain deeper than %d images", maxBackingDepth)
	}
	seen = append(seen, abs)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() && st.Mode()&os.ModeDevice == 0 {
		f.Close()
		return nil, fmt.Errorf("%s: not a regular file or block device", path)
	}
	size := st.Size()
	if size == 0 && st.Mode()&os.ModeDevice != 0 {
		if n, err := f.Seek(0, io.SeekEnd); err == nil {
			size = n
		}
	}
	opener := func(name, fmtName string) (Image, error) {
		return openChain(name, fmtName, seen)
	}
	img, err := openReader(f, size, path, format, opener)
	if err != nil {
		f.Close()
		return nil, err
	}
	return img, nil
}

// backingOpener opens a backing file (by path, with an optional format name).
type backingOpener func(path, format string) (Image, error)

// OpenReader reads an image from r (size bytes). name is used in errors.
// Backing files are refused: they need a file system to be found in.
func OpenReader(r io.ReaderAt, size int64, name string) (Image, error) {
	return openReader(nopCloser{r}, size, name, "", nil)
}

type readerAtCloser interface {
	io.ReaderAt
	io.Closer
}

type nopCloser struct{ io.ReaderAt }

func (nopCloser) Close() error { return nil }

func openReader(f readerAtCloser, size int64, name, format string, open backingOpener) (Image, error) {
	if format == "" {
		format = detect(f, size)
	}
	switch format {
	case "qcow2":
		return openQcow2(f, size, name, open)
	case "vhdx":
		return openVHDX(f, size, name)
	case "vpc", "vhd":
		return openVHD(f, size, name)
	case "raw":
		return &raw{f: f, size: size}, nil
	}
	return nil, unsupported(name, "image format %q", format)
}

func detect(r io.ReaderAt, size int64) string {
	var head [8]byte
	if _, err := r.ReadAt(head[:], 0); err == nil {
		switch {
		case bytes.Equal(head[:4], []byte("QFI\xfb")):
			return "qcow2"
		case bytes.Equal(head[:], []byte("vhdxfile")):
			return "vhdx"
		case bytes.Equal(head[:], []byte("conectix")):
			return "vhd"
		}
	}
	if size >= 512 {
		var tail [8]byte
		if _, err := r.ReadAt(tail[:], size-512); err == nil && bytes.Equal(tail[:], []byte("conectix")) {
			return "vhd"
		}
		// Older VHDs carry a 511-byte footer.
		if _, err := r.ReadAt(tail[:], size-511); err == nil && bytes.Equal(tail[:], []byte("conectix")) {
			return "vhd"
		}
	}
	return "raw"
}

// raw is a plain disk image or block device.
type raw struct {
	f    readerAtCloser
	size int64
}

func (r *raw) Size() int64    { return r.size }
func (r *raw) Format() string { return "raw" }
func (r *raw) Close() error   { return r.f.Close() }
func (r *raw) ReadAt(p []byte, off int64) (int, error) {
	return readBounded(p, off, r.size, func(p []byte, off int64) error {
		n, err := r.f.ReadAt(p, off)
		if err == io.EOF && n == len(p) {
			err = nil
		}
		return err
	})
}

// readBounded implements the io.ReaderAt contract over a disk of the given
// size: reads past the end are cut short with io.EOF, and read fills the
// part inside.
func readBounded(p []byte, off, size int64, read func(p []byte, off int64) error) (int, error) {
	if off < 0 {
		return 0, errors.New("disk: negative offset")
	}
	if off >= size {
		return 0, io.EOF
	}
	n := len(p)
	var eof error
	if int64(n) > size-off {
		n = int(size - off)
		eof = io.EOF
	}
	if err := read(p[:n], off); err != nil {
		return 0, err
	}
	return n, eof
}

// readFull reads exactly len(p) bytes of a container file at off, naming the
// file and offset when the file is too short.
func readFull(r io.ReaderAt, p []byte, off int64, name, what string) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		return formatErr(name, off, "%s: file ends after %d of %d bytes (truncated image?)", what, n, len(p))
	}
	return fmt.Errorf("%s: offset %d: reading %s: %w", name, off, what, err)
}
