package wim

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNotFound is wrapped by the error for a path that is not in an image.
var ErrNotFound = errors.New("no such path in the image")

// Lookup finds the entry at path in img: components separated by / or \,
// from the root ("/" or "" is the root itself). A name is matched exactly,
// or else case-insensitively when that finds exactly one entry, as Windows
// would.
func (img *Image) Lookup(path string) (*File, error) {
	f := img.Root
	for _, c := range strings.FieldsFunc(path, func(r rune) bool { return r == '/' || r == '\\' }) {
		var exact, folded *File
		nfolded := 0
		for _, ch := range f.Children {
			if ch.Name == c {
				exact = ch
				break
			}
			if strings.EqualFold(ch.Name, c) {
				folded = ch
				nfolded++
			}
		}
		switch {
		case exact != nil:
			f = exact
		case nfolded == 1:
			f = folded
		default:
			return nil, fmt.Errorf("%s: %w", path, ErrNotFound)
		}
	}
	return f, nil
}

// Extract writes the entries at paths of image index (1-based), with
// everything below them, into dest: each under its own name directly in
// dest (as wimlib-imagex extract does), "/" for the whole image. The same
// checks as Apply's come first: nothing is written outside dest, and a link
// that would lead out of what is extracted is refused.
func (r *Reader) Extract(ctx context.Context, index int, paths []string, dest string, opts ApplyOptions) error {
	img, err := r.Image(index)
	// Data missing elsewhere in the image (a delta WIM without its base)
	// matters only if the extracted entries need it, as for wimlib.
	missing := err
	if err != nil && (img == nil || !errors.Is(err, ErrBlobMissing)) {
		return err
	}
	now := TimeToFiletime(time.Now())
	root := &File{Attributes: AttrDirectory, SecurityID: -1, CreationTime: now, LastWriteTime: now, LastAccessTime: now}
	names := map[string]string{}
	for _, p := range paths {
		f, err := img.Lookup(p)
		if err != nil {
			return err
		}
		var picked []*File
		if f.Parent == nil {
			picked = f.Children
		} else {
			picked = []*File{f}
		}
		for _, c := range picked {
			key := strings.ToUpper(c.Name)
			if prev, dup := names[key]; dup {
				return fmt.Errorf("%s and %s would both be extracted as %s", prev, c.Path(), c.Name)
			}
			names[key] = c.Path()
			if missing != nil {
				if err := r.checkBlobsOf(c, index); err != nil {
					return err
				}
			}
			root.Children = append(root.Children, cloneTree(c, root))
		}
	}
	return r.applyImage(ctx, &Image{Index: img.Index, SecurityDescriptors: img.SecurityDescriptors, Root: root}, dest, opts)
}

// cloneTree copies f and everything below it under a new parent.
func cloneTree(f, parent *File) *File {
	c := *f
	c.Parent = parent
	c.Children = make([]*File, len(f.Children))
	for i, ch := range f.Children {
		c.Children[i] = cloneTree(ch, &c)
	}
	return &c
}

// checkBlobsOf returns the error for data that f or the entries below it
// (of image index) need and that none of r's files hold.
func (r *Reader) checkBlobsOf(f *File, index int) error {
	var missing *missingBlobError
	counted := map[Hash]bool{}
	f.Walk(func(e *File) error {
		for _, s := range e.streams() {
			if s.Hash.IsZero() || r.blobs[s.Hash] != nil || counted[s.Hash] {
				continue
			}
			counted[s.Hash] = true
			if missing == nil {
				missing = &missingBlobError{index: index, path: e.Path(), hash: s.Hash, hasRefs: r.hasRefs()}
			} else {
				missing.others++
			}
		}
		return nil
	})
	if missing != nil {
		return missing
	}
	return nil
}
