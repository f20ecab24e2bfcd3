package wim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
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
// SHA-1); of referenced files (OpenOptions.Refs), the blobs the images use. It returns the problems found; the error is for I/O failures,
// cancellation, compression formats this build cannot decode
// (errors.ErrUnsupported) and images beyond the memory budget (ErrLimit),
// which say nothing about the file's health. progress, if set, gets bytes of blob data checked.
func (r *Reader) Verify(ctx context.Context, progress func(done, total int64)) ([]Problem, error) {
	var problems []Problem
	for part := 0; part <= len(r.more); part++ {
		if _, _, ph := r.partFile(part); ph.HasIntegrity() && !r.isRef(part) {
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
	// Of a referenced file, only the blobs the images use are checked: the
	// rest is not part of this WIM (wimlib's verify does the same).
	used := map[Hash]bool{}
	for i := range r.meta {
		img, err := r.Image(i + 1)
		if img != nil && r.hasRefs() {
			for h := range streamRefs(img) {
				used[h] = true
			}
		}
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
	var blobs []*blob
	for _, b := range r.order {
		if !r.isRef(b.part) || used[b.hash] {
			blobs = append(blobs, b)
		}
	}
	sortBlobsByLocation(blobs)
	found, err := r.verifyBlobs(ctx, blobs, progress)
	return append(problems, found...), err
}

// verifyBlobs decodes every blob and checks its SHA-1. Blobs in plain
// resources are checked by one worker per CPU, each with its own
// decompressors; the blobs of solid resources by this goroutine, in file
// order, so that each solid chunk is decoded once and one chunk cache is
// kept. Problems come back in file order whatever finished first.
func (r *Reader) verifyBlobs(ctx context.Context, blobs []*blob, progress func(done, total int64)) ([]Problem, error) {
	var total int64
	for _, b := range blobs {
		total += b.size
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		done     int64
		found    = map[int]Problem{} // by position in blobs
		fatalErr error
	)
	// check verifies blobs[i] and records what is wrong with it.
	check := func(i int, dec *decoders, buf []byte) {
		b := blobs[i]
		where := b.res.Offset
		if b.solid != nil {
			where = b.solid.parts[0].where
		}
		what := "blob " + b.hash.String()
		if b.part > 0 {
			what = r.partName(b.part) + ": " + what // the offset is in that file
		}
		rd, err := r.openChecked(b, dec)
		if err == nil {
			_, err = io.CopyBuffer(io.Discard, onlyReader{rd}, buf)
		}
		mu.Lock()
		defer mu.Unlock()
		switch {
		case errors.Is(err, errors.ErrUnsupported) || (err != nil && ctx.Err() != nil):
			if fatalErr == nil {
				fatalErr = err
			}
			cancel()
			return
		case errors.Is(err, ErrChecksum):
			found[i] = Problem{What: what, Offset: where, Message: "data does not match its SHA-1"}
		case err != nil:
			found[i] = Problem{What: what, Offset: where, Message: err.Error()}
		}
		done += b.size
		if progress != nil {
			progress(done, total)
		}
	}
	plain := make(chan int, 64)
	var wg sync.WaitGroup
	workers := max(1, min(runtime.GOMAXPROCS(0), len(blobs)))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dec, buf := newDecoders(), make([]byte, 256<<10)
			for i := range plain {
				if ctx.Err() == nil {
					check(i, dec, buf)
				}
			}
		}()
	}
	var solid []int
	for i, b := range blobs {
		if ctx.Err() != nil {
			break
		}
		if b.solid != nil {
			solid = append(solid, i)
			continue
		}
		plain <- i
	}
	close(plain)
	dec, buf := newDecoders(), make([]byte, 1<<20)
	solidBlobs := make([]*blob, len(solid))
	for k, i := range solid {
		solidBlobs[k] = blobs[i]
	}
	stopAhead := dec.startAhead(solidBlobs)
	defer stopAhead()
	for _, i := range solid {
		if ctx.Err() != nil {
			break
		}
		check(i, dec, buf)
	}
	wg.Wait()
	if fatalErr != nil {
		return nil, fatalErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	problems := make([]Problem, 0, len(found))
	for i := range blobs {
		if p, ok := found[i]; ok {
			problems = append(problems, p)
		}
	}
	return problems, nil
}

// onlyReader hides WriterTo/ReaderFrom so that io.CopyBuffer uses the buffer.
type onlyReader struct{ io.Reader }
