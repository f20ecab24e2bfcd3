package wim

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Problem is one thing Verify found wrong.
type Problem struct {
	What    string `json:"what"`    // "blob <sha1>", "image 2 metadata", "integrity table", ...
	Offset  int64  `json:"offset"`  // file offset concerned, when known
	Message string `json:"message"` // what is wrong
}

func (p Problem) String() string {
	return fmt.Sprintf("%s (offset %d): %s", p.What, p.Offset, p.Message)
}

// Verify checks the integrity table (when present), every metadata resource
// (hash, structure, references to blobs) and every blob (decompression and
// SHA-1). It returns the problems found; the error is for I/O failures,
// cancellation, compression formats this build cannot decode
// (errors.ErrUnsupported) and images beyond the memory budget (ErrLimit),
// which say nothing about the file's health. progress, if set, gets bytes of blob data checked.
func (r *Reader) Verify(ctx context.Context, progress func(done, total int64)) ([]Problem, error) {
	var problems []Problem
	for part := 0; part <= len(r.more); part++ {
		if _, _, ph := r.partFile(part); ph.HasIntegrity() {
			ps, err := r.checkIntegrity(ctx, part)
			if err != nil {
				return problems, err
			}
			if part > 0 {
				for i := range ps {
					ps[i].What = fmt.Sprintf("part %d %s", part+1, ps[i].What)
				}
			}
			problems = append(problems, ps...)
		}
	}
	for i := range r.meta {
		img, err := r.Image(i + 1)
		if errors.Is(err, errors.ErrUnsupported) || errors.Is(err, ErrLimit) {
			// An image beyond the memory budget is not checked: the check
			// could not be done, which is not a finding about the file.
			return problems, err
		}
		if err != nil {
			problems = append(problems, Problem{What: fmt.Sprintf("image %d metadata", i+1), Offset: r.meta[i].res.Offset, Message: err.Error()})
			continue
		}
		if _, err := planApply(img); err != nil {
			problems = append(problems, Problem{What: fmt.Sprintf("image %d metadata", i+1), Offset: r.meta[i].res.Offset, Message: err.Error()})
		}
	}
	blobs := append([]*blob(nil), r.order...)
	sortBlobsByLocation(blobs)
	var total, done int64
	for _, b := range blobs {
		total += b.size
	}
	dec := newDecoders()
	buf := make([]byte, 1<<20)
	for _, b := range blobs {
		if err := ctx.Err(); err != nil {
			return problems, err
		}
		where := b.res.Offset
		if b.solid != nil {
			where = b.solid.parts[0].where
		}
		rd, err := r.openChecked(b, dec)
		if err == nil {
			_, err = io.CopyBuffer(io.Discard, onlyReader{rd}, buf)
		}
		if errors.Is(err, errors.ErrUnsupported) {
			return problems, err
		}
		if err != nil {
			msg := err.Error()
			if errors.Is(err, ErrChecksum) {
				msg = "data does not match its SHA-1"
			}
			problems = append(problems, Problem{What: "blob " + b.hash.String(), Offset: where, Message: msg})
		}
		done += b.size
		if progress != nil {
			progress(done, total)
		}
	}
	return problems, nil
}

// onlyReader hides WriterTo/ReaderFrom so that io.CopyBuffer uses the buffer.
type onlyReader struct{ io.Reader }
