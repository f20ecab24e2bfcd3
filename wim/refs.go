package wim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// OpenOptions tunes OpenWith.
type OpenOptions struct {
	// Refs are further WIM files whose blobs the WIM's images may use, as
	// wimlib's --ref: the parts of a split set whose names are not
	// name2.swm, name3.swm ... (a part of the WIM's own set found here is
	// used as that part), or the base WIMs a delta WIM was captured
	// against (wimlib's --delta-from). A blob is looked up by SHA-1, in
	// the WIM first, then in the files in the order given; the images
	// and XML data of a referenced file are not read. Its data is as
	// untrusted as the WIM's: its blob table is bounded, and every blob
	// read from it is checked against its SHA-1. The WIM itself, or a
	// file named twice, is skipped (a glob such as set*.swm names the
	// first part too).
	Refs []string
}

// ErrBlobMissing is wrapped by the error for an image that refers to file
// data which neither the WIM nor its referenced files hold: a delta WIM or
// part of a split set opened without the files that hold its data.
var ErrBlobMissing = errors.New("file data missing")

// ErrPartMissing is wrapped by the error for a split WIM whose part N is
// neither a referenced file nor beside the first part as nameN.swm.
var ErrPartMissing = errors.New("part missing")

const (
	// maxRefFiles bounds the files a Reader opens: the referenced files
	// and the parts of a split set, together.
	maxRefFiles = 1024
	// maxTotalBlobEntries bounds the blob table entries of all the files
	// of a Reader together (each costs some 250 bytes once read); one
	// file's table is bounded by maxBlobEntries.
	maxTotalBlobEntries = 2 * maxBlobEntries
)

// refFiles are the referenced files, open, with their headers, not yet
// given to a Reader.
type refFiles struct {
	parts []*splitPart
}

// openRefs opens the files of paths, skipping main (the WIM's own file)
// and any file named twice.
func openRefs(main os.FileInfo, paths []string) (_ *refFiles, err error) {
	refs := &refFiles{}
	if len(paths) == 0 {
		return refs, nil
	}
	defer func() {
		if err != nil {
			refs.close()
		}
	}()
	if len(paths) > maxRefFiles {
		return nil, fmt.Errorf("%w: %d referenced files (at most %d)", ErrLimit, len(paths), maxRefFiles)
	}
	seen := []os.FileInfo{main}
	hb := make([]byte, headerSize)
next:
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		for _, s := range seen {
			if os.SameFile(s, st) {
				f.Close()
				continue next
			}
		}
		seen = append(seen, st)
		h, err := func() (Header, error) {
			if !st.Mode().IsRegular() {
				return Header{}, fmt.Errorf("not a regular file")
			}
			if st.Size() < headerSize {
				return Header{}, formatErr("file of %d bytes is too short for a WIM header", st.Size())
			}
			if _, err := f.ReadAt(hb, 0); err != nil {
				return Header{}, fmt.Errorf("read header: %w", err)
			}
			h, err := parseHeader(hb)
			if err == nil && h.Flags&hdrFlagWriteInProg != 0 {
				err = formatErr("the WIM was left incomplete by an interrupted write")
			}
			return h, err
		}()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("referenced file %s: %w", path, err)
		}
		refs.parts = append(refs.parts, &splitPart{r: f, size: st.Size(), header: h, closer: f, name: path, ref: true})
	}
	return refs, nil
}

// takePart removes from refs and returns part n of the split set whose
// first part has header first, or nil when no referenced file is that
// part. A referenced copy of a part already taken stays a plain reference.
func (refs *refFiles) takePart(first Header, n int) *splitPart {
	for i, p := range refs.parts {
		h := p.header
		if h.GUID == first.GUID && h.TotalParts == first.TotalParts && int(h.PartNumber) == n && h.Compression() == first.Compression() {
			refs.parts = append(refs.parts[:i], refs.parts[i+1:]...)
			p.ref = false
			return p
		}
	}
	return nil
}

func (refs *refFiles) close() {
	for _, p := range refs.parts {
		p.closer.Close()
	}
	refs.parts = nil
}

// addRefs gives the remaining referenced files to r, after its own parts.
func (r *Reader) addRefs(refs *refFiles) {
	r.more = append(r.more, refs.parts...)
	refs.parts = nil
}

// isRef reports whether part i of r is a referenced file (not the WIM or
// a part of its split set).
func (r *Reader) isRef(i int) bool { return i > 0 && r.more[i-1].ref }

// hasRefs reports whether r reads blobs from referenced files.
func (r *Reader) hasRefs() bool {
	for _, p := range r.more {
		if p.ref {
			return true
		}
	}
	return false
}

// partName names part i of r in messages.
func (r *Reader) partName(i int) string {
	if i == 0 {
		return r.name
	}
	p := r.more[i-1]
	if p.ref {
		return "referenced file " + p.name
	}
	if p.name != "" {
		return fmt.Sprintf("part %d (%s)", p.header.PartNumber, p.name)
	}
	return fmt.Sprintf("part %d", p.header.PartNumber)
}

// RefFiles returns the paths of the referenced files r uses as such (those
// that turned out to be parts of its split set are not among them).
func (r *Reader) RefFiles() []string {
	var names []string
	for _, p := range r.more {
		if p.ref {
			names = append(names, p.name)
		}
	}
	return names
}

// missingBlobError is the error for an image whose file data is missing.
type missingBlobError struct {
	index   int
	path    string
	hash    Hash
	others  int // further missing blobs of the image
	hasRefs bool
}

func (e *missingBlobError) Error() string {
	where := "the WIM does not contain"
	if e.hasRefs {
		where = "neither the WIM nor its referenced files contain"
	}
	msg := fmt.Sprintf("image %d: %s refers to blob %s, which %s", e.index, e.path, e.hash, where)
	if e.others > 0 {
		msg += fmt.Sprintf(" (nor %d other blob(s) the image needs)", e.others)
	}
	return msg
}

// Is makes the error both ErrBlobMissing and ErrFormat (a WIM that lacks
// data its images need is malformed as it stands).
func (e *missingBlobError) Is(target error) bool {
	return target == ErrBlobMissing || target == ErrFormat
}

// checkRefBlobs decodes the blobs of bs that come from referenced files and
// checks their SHA-1 before they are copied as they are stored: a
// referenced file is matched to the WIM by hashes alone, and what it holds
// under a hash is not taken on trust (decoded blobs are checked as they
// are read anyway). The blobs are read in turn, in the order given (file
// order), so that a solid chunk is decoded once.
func (r *Reader) checkRefBlobs(ctx context.Context, bs []*blob, buf []byte) error {
	dec := newDecoders()
	for _, bl := range bs {
		if !r.isRef(bl.part) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rd, err := r.openChecked(bl, dec)
		if err == nil {
			_, err = io.CopyBuffer(io.Discard, onlyReader{rd}, buf)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
