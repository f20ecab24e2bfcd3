package wim

import (
	"context"
	"fmt"
)

// RewriteOptions tunes Delete and Optimize.
type RewriteOptions struct {
	// Soft (Delete only) leaves the file data in place and writes a new
	// blob table and XML data without the image: fast, but the file does
	// not shrink (wimlib's --soft).
	Soft bool
	// Recompress (Optimize) decodes and compresses every resource again
	// instead of copying those that suit the file as they are.
	Recompress bool
	// Compression and CompressionLevel (Optimize, when CompressionSet)
	// are the non-solid resources' new compression: every resource is
	// then compressed again (Recompress is implied), as wimlib's
	// optimize --compress does. A new compression type takes its default
	// chunk size; solid resources keep theirs.
	Compression      Compression
	CompressionLevel CompressionLevel
	CompressionSet   bool
	Check            bool // write an integrity table (kept anyway when the file has one)
	Threads          int
	Progress         func(done, total int64)
}

// Delete removes image index (1-based) from the WIM at path, rewriting it
// without the data only that image used (or, with Soft, without touching
// the data). The file is replaced atomically.
func Delete(ctx context.Context, path string, index int, opts RewriteOptions) error {
	r, err := openForRewrite(path)
	if err != nil {
		return err
	}
	defer r.Close()
	if index < 1 || index > len(r.infos) {
		return fmt.Errorf("image %d does not exist (the WIM has %d)", index, len(r.infos))
	}
	if len(r.more) > 0 {
		return fmt.Errorf("%s is a split WIM: it cannot be modified", path)
	}
	if opts.Soft {
		b, err := newBuilder(ctx, path, r, builderOptions{Check: opts.Check || r.header.HasIntegrity(), Threads: opts.Threads, Progress: opts.Progress})
		if err != nil {
			return err
		}
		if err := b.dropBaseImage(r, index); err != nil {
			b.abort()
			return err
		}
		return b.commit(ctx)
	}
	var keep []int
	for i := 1; i <= len(r.infos); i++ {
		if i != index {
			keep = append(keep, i)
		}
	}
	return rewriteImages(ctx, r, path, keep, opts)
}

// Optimize rewrites the WIM at path with only the data its images use,
// each blob once: what deleting images or appending duplicates left
// behind is gone. The file is replaced atomically.
func Optimize(ctx context.Context, path string, opts RewriteOptions) error {
	r, err := openForRewrite(path)
	if err != nil {
		return err
	}
	defer r.Close()
	if len(r.more) > 0 {
		return fmt.Errorf("%s is a split WIM: it cannot be modified", path)
	}
	var all []int
	for i := 1; i <= len(r.infos); i++ {
		all = append(all, i)
	}
	return rewriteImages(ctx, r, path, all, opts)
}

// rewriteImages writes images keep of r afresh to dest, with r's
// compression, chunk size, solid compression and boot image.
func rewriteImages(ctx context.Context, r *Reader, dest string, keep []int, opts RewriteOptions) error {
	bo := builderOptions{Compression: r.header.Compression(), ChunkSize: int(r.header.ChunkSize), Recompress: opts.Recompress,
		Check: opts.Check || r.header.HasIntegrity(), Threads: opts.Threads, RPFix: r.header.RPFix(), Progress: opts.Progress}
	if opts.CompressionSet {
		bo.Recompress, bo.Level = true, opts.CompressionLevel
		if opts.Compression != bo.Compression {
			bo.Compression, bo.ChunkSize = opts.Compression, 0
		}
	}
	if comp, chunk, ok := r.SolidFormat(); ok {
		bo.Solid, bo.SolidComp, bo.SolidChunk = true, comp, chunk
	}
	b, err := newBuilder(ctx, dest, nil, bo)
	if err != nil {
		return err
	}
	var refs []imageRef
	for _, i := range keep {
		refs = append(refs, imageRef{r: r, index: i, xml: r.rawXML[i-1], boot: int(r.header.BootIndex) == i})
	}
	if len(refs) > 0 {
		if err := b.addImages(ctx, refs); err != nil {
			b.abort()
			return err
		}
	}
	return b.commit(ctx)
}

// SetImageInfo renames image index (1-based) of the WIM at path and, when
// description is not nil, sets its description (an empty one removes it).
// Only the XML data changes: the file is copied up to its tables, which
// are written again, and replaced atomically.
func SetImageInfo(ctx context.Context, path string, index int, name, description *string) error {
	r, err := openForRewrite(path)
	if err != nil {
		return err
	}
	defer r.Close()
	if index < 1 || index > len(r.infos) {
		return fmt.Errorf("image %d does not exist (the WIM has %d)", index, len(r.infos))
	}
	if len(r.more) > 0 {
		return fmt.Errorf("%s is a split WIM: it cannot be modified", path)
	}
	inner := r.rawXML[index-1]
	if name != nil {
		if *name == "" {
			return fmt.Errorf("an image name cannot be empty")
		}
		for _, im := range r.infos {
			if im.Index != index && im.Name == *name {
				return fmt.Errorf("%s already has an image named %q (image %d): %w", path, *name, im.Index, ErrImageExists)
			}
		}
		if inner, err = setImageElem(inner, "NAME", *name); err != nil {
			return err
		}
	}
	if description != nil {
		if inner, err = setImageElem(inner, "DESCRIPTION", *description); err != nil {
			return err
		}
	}
	b, err := newBuilder(ctx, path, r, builderOptions{Check: r.header.HasIntegrity()})
	if err != nil {
		return err
	}
	b.xml[index-1] = inner
	return b.commit(ctx)
}
