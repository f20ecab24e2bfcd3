package wim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// ImageChange is one change UpdateImage makes to an image's directory tree.
type ImageChange struct {
	// Path is from the image root, '/'-separated. Existing components are
	// matched exactly first, then ignoring case as Windows does.
	Path string
	// Remove removes the file, or the directory with everything below it;
	// a missing path is not an error.
	Remove bool
	// Data is otherwise the new content of the file (its unnamed stream).
	// A missing file is created, with its missing parent directories; an
	// existing one keeps its attributes, security, short name, creation
	// time and named streams, and leaves its hard-link group.
	Data []byte
}

// UpdateOptions tunes UpdateImage.
type UpdateOptions struct {
	// Append adds the new image to the source WIM instead of writing a
	// new WIM holding it alone.
	Append bool
	// Name of the new image ("" keeps the source image's; with Append a
	// name is required, since image names are unique within a WIM) and
	// Description ("" keeps the source image's).
	Name, Description string
	Check             bool // write an integrity table (always when appending to a WIM that has one)
	Threads           int
	// Now stamps the changed files and the new image; nil means time.Now.
	Now func() time.Time
}

// UpdateImage writes a new image made of image index (1-based) of src with
// changes applied: to a new WIM at dest holding that image alone, or (with
// Append, dest being src's own file) as a new image at the end of src. Only
// the changed files are compressed; every other stream is the source's,
// copied compressed as it is into a new WIM, or referenced by its hash when
// appending. The image's XML data is the source's (DISM's WINDOWS element,
// FLAGS, display names kept) with its name, counts and times renewed.
//
// dest is written to a temporary file beside it and renamed over it only
// when complete: an interrupted update leaves it as it was; when appending,
// the images already there are not changed by a single byte.
func UpdateImage(ctx context.Context, src *Reader, index int, changes []ImageChange, dest string, opts UpdateOptions) error {
	if index < 1 || index > len(src.infos) {
		return fmt.Errorf("image %d does not exist (the WIM has %d)", index, len(src.infos))
	}
	if len(src.more) > 0 {
		return fmt.Errorf("%s is a split WIM: join it before updating an image", src.name)
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	ft := TimeToFiletime(now())
	var base *Reader
	if opts.Append {
		if opts.Name == "" {
			return fmt.Errorf("appending an image needs a name of its own")
		}
		for _, im := range src.infos {
			if im.Name == opts.Name {
				return fmt.Errorf("%s already has an image named %q: %w", dest, opts.Name, ErrImageExists)
			}
		}
		// Appending replaces src's file: held as any WIM being modified.
		current, err := src.lockForRewrite()
		if err != nil {
			return err
		}
		if !current {
			return fmt.Errorf("%s was replaced since it was opened: open it again: %w", src.name, ErrLocked)
		}
		base = src
	} else if st, err := os.Stat(dest); err == nil && src.name != "" {
		if sst, err := os.Stat(src.name); err == nil && os.SameFile(st, sst) {
			return fmt.Errorf("%s: the output would replace the source WIM (use append)", dest)
		}
	}

	img, err := src.Image(index)
	if err != nil {
		return err
	}
	newData := map[Hash][]byte{}
	for _, c := range changes {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := applyImageChange(img, c, ft, newData); err != nil {
			return err
		}
	}

	inner := src.rawXML[index-1]
	info := imageCounts(img)
	if opts.Name != "" {
		if inner, err = setImageElem(inner, "NAME", opts.Name); err != nil {
			return err
		}
	}
	if opts.Description != "" {
		if inner, err = setImageElem(inner, "DESCRIPTION", opts.Description); err != nil {
			return err
		}
	}
	for _, kv := range [][2]string{
		{"DIRCOUNT", strconv.FormatInt(info.DirCount, 10)},
		{"FILECOUNT", strconv.FormatInt(info.FileCount, 10)},
		{"TOTALBYTES", strconv.FormatInt(info.TotalBytes, 10)},
		{"HARDLINKBYTES", strconv.FormatInt(info.HardLinkBytes, 10)},
	} {
		if inner, err = setImageElem(inner, kv[0], kv[1]); err != nil {
			return err
		}
	}
	for _, tag := range []string{"CREATIONTIME", "LASTMODIFICATIONTIME"} {
		if inner, err = setImageTime(inner, tag, ft); err != nil {
			return err
		}
	}

	bo := builderOptions{Compression: src.header.Compression(), ChunkSize: int(src.header.ChunkSize),
		Check: opts.Check || (base != nil && base.header.HasIntegrity()), Threads: opts.Threads, RPFix: src.header.RPFix()}
	b, err := newBuilder(ctx, dest, base, bo)
	if err != nil {
		return err
	}
	if err := b.addChangedImage(ctx, src, img, newData, inner); err != nil {
		b.abort()
		return err
	}
	return b.commit(ctx)
}

// addChangedImage stores what the output lacks of img's streams (the
// source's blobs, copied as they are where the compression suits, and the
// changed files' new data), then img's metadata resource.
func (b *builder) addChangedImage(ctx context.Context, src *Reader, img *Image, newData map[Hash][]byte, inner []byte) error {
	var order []*needed
	var fresh []*blobSource
	for h, n := range streamRefs(img) {
		if e := b.known[h]; e != nil {
			e.refCount += n
			continue
		}
		if data, ok := newData[h]; ok {
			fresh = append(fresh, &blobSource{data: data, size: int64(len(data)), refs: n})
			continue
		}
		bl := src.blobs[h]
		if bl == nil {
			return formatErr("image %d refers to blob %s, which the WIM does not contain", img.Index, h)
		}
		order = append(order, &needed{r: src, b: bl, refs: n})
	}
	// Deterministic output: blobs in the source's file order, new data by hash.
	sortNeeded(order)
	sortSources(fresh)
	if err := b.writeBlobs(ctx, order); err != nil {
		return err
	}
	store := b.store(b.comp)
	if err := store.store(ctx, fresh); err != nil {
		return err
	}
	b.plain = append(b.plain, store.entries...)
	meta := marshalMetadata(img.Root, img.SecurityDescriptors)
	ms := b.store(b.comp)
	if err := ms.store(ctx, []*blobSource{{data: meta, size: int64(len(meta)), metadata: true, refs: 1}}); err != nil {
		return err
	}
	b.metas = append(b.metas, ms.entries...)
	b.xml = append(b.xml, inner)
	return nil
}

func sortNeeded(ns []*needed) {
	bs := make([]*blob, len(ns))
	by := map[*blob]*needed{}
	for i, n := range ns {
		bs[i] = n.b
		by[n.b] = n
	}
	sortBlobsByLocation(bs)
	for i, bl := range bs {
		ns[i] = by[bl]
	}
}

func sortSources(ss []*blobSource) {
	for i := 1; i < len(ss); i++ {
		for j := i; j > 0 && string(ss[j].hash[:]) < string(ss[j-1].hash[:]); j-- {
			ss[j], ss[j-1] = ss[j-1], ss[j]
		}
	}
}

// errImagePath reports a change whose path cannot be applied to the tree.
var errImagePath = errors.New("cannot apply the change to the image")

// applyImageChange changes img's tree; the new data of a written file is
// kept in newData by its hash (the hash is set as the blob store will
// compute it, so streamRefs counts it).
func applyImageChange(img *Image, c ImageChange, ft uint64, newData map[Hash][]byte) error {
	var parts []string
	for _, p := range strings.Split(c.Path, "/") {
		switch p {
		case "", ".":
			continue
		case "..":
			return fmt.Errorf("%s: %w: a .. component", c.Path, errImagePath)
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return fmt.Errorf("%q: %w: the root", c.Path, errImagePath)
	}
	dir := img.Root
	for i, name := range parts[:len(parts)-1] {
		next := childNamed(dir, name)
		if next == nil {
			if c.Remove {
				return nil
			}
			next = &File{Name: name, Attributes: AttrDirectory, SecurityID: dir.SecurityID,
				CreationTime: ft, LastAccessTime: ft, LastWriteTime: ft, Parent: dir}
			dir.Children = append(dir.Children, next)
		}
		if !next.IsDir() || next.IsReparsePoint() {
			return fmt.Errorf("%s: %w: %s is not a directory", c.Path, errImagePath, strings.Join(parts[:i+1], "/"))
		}
		dir = next
	}
	name := parts[len(parts)-1]
	f := childNamed(dir, name)
	if c.Remove {
		if f != nil {
			kept := dir.Children[:0]
			for _, ch := range dir.Children {
				if ch != f {
					kept = append(kept, ch)
				}
			}
			dir.Children = kept
		}
		return nil
	}
	if f == nil {
		f = &File{Name: name, Attributes: AttrArchive, SecurityID: dir.SecurityID,
			CreationTime: ft, LastAccessTime: ft, Parent: dir}
		dir.Children = append(dir.Children, f)
	}
	if f.IsDir() || f.IsReparsePoint() {
		return fmt.Errorf("%s: %w: it is a directory or a reparse point", c.Path, errImagePath)
	}
	f.HardLinkGroup = 0 // the other names of the file keep its old data
	f.LastWriteTime = ft
	f.Data = Stream{}
	if len(c.Data) > 0 {
		h := Hash(sha1Hash(c.Data))
		f.Data = Stream{Hash: h, Size: int64(len(c.Data))}
		newData[h] = c.Data
	}
	return nil
}

// childNamed finds dir's entry called name: exactly, else ignoring case.
func childNamed(dir *File, name string) *File {
	var folded *File
	up := strings.Map(unicode.ToUpper, name)
	for _, c := range dir.Children {
		if c.Name == name {
			return c
		}
		if folded == nil && strings.Map(unicode.ToUpper, c.Name) == up {
			folded = c
		}
	}
	return folded
}

// imageCounts computes what the XML data counts of an image, as Capture
// does: directories, files, bytes of every stream, and the bytes that
// hard links share.
func imageCounts(img *Image) ImageInfo {
	var info ImageInfo
	groups := map[uint64][]*File{}
	img.Root.Walk(func(f *File) error {
		if f.IsDir() && !f.IsReparsePoint() {
			info.DirCount++
		} else {
			info.FileCount++
		}
		info.TotalBytes += f.Data.Size + f.Reparse.Size
		for _, s := range f.NamedStreams {
			info.TotalBytes += s.Size
		}
		if f.HardLinkGroup != 0 && !f.IsDir() {
			groups[f.HardLinkGroup] = append(groups[f.HardLinkGroup], f)
		}
		return nil
	})
	for _, g := range groups {
		if len(g) > 1 {
			info.HardLinkBytes += int64(len(g)-1) * g[0].Data.Size
		}
	}
	return info
}

// setImageTime sets a time element (CREATIONTIME, LASTMODIFICATIONTIME) of
// an image's inner XML.
func setImageTime(inner []byte, tag string, ft uint64) ([]byte, error) {
	const mark = "reseal-time-placeholder"
	out, err := setImageElem(inner, tag, mark)
	if err != nil {
		return nil, err
	}
	t := newXMLTime(ft)
	return []byte(strings.Replace(string(out), "<"+tag+">"+mark+"</"+tag+">",
		"<"+tag+"><HIGHPART>"+t.High+"</HIGHPART><LOWPART>"+t.Low+"</LOWPART></"+tag+">", 1)), nil
}
