package wim

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// ExportOptions tunes Export.
type ExportOptions struct {
	// Compression and ChunkSize of a new destination's non-solid
	// resources; CompressionSet false means the source's. An existing
	// destination keeps its own: a different Compression is refused.
	Compression    Compression
	CompressionSet bool
	// CompressionLevel applies to the non-solid resources compressed
	// anew (CompressionLevelMax: LZX searched harder); resources copied
	// as they are keep theirs unless Recompress.
	CompressionLevel CompressionLevel
	// Recompress decodes and compresses every exported resource again,
	// even those whose compression already suits DEST (wimlib's
	// --recompress).
	Recompress bool
	ChunkSize  int // 0: the source's when the compression is the same, else the default
	// Solid writes the exported file data as one solid resource of
	// SolidCompression (LZMS by default) with SolidChunkSize-byte chunks
	// (0: DefaultSolidChunkSize).
	Solid            bool
	SolidCompression Compression
	SolidChunkSize   int
	Check            bool   // write an integrity table
	Name             string // new name of the exported image (one image only)
	Description      string
	Boot             bool // make the (one) exported image the boot image
	Threads          int
	Progress         func(done, total int64)
}

// ErrImageExists is wrapped by the error for an image name already taken.
var ErrImageExists = errors.New("image name already in use")

// Export copies images of src (1-based indexes) into the WIM at dest: a new
// file, or new images at the end of an existing one. File data already in
// dest is not stored again; resources whose compression suits dest are
// copied as they are, the others are decoded and compressed again. dest is
// replaced atomically (a temporary file renamed over it).
func Export(ctx context.Context, src *Reader, indexes []int, dest string, opts ExportOptions) error {
	if len(indexes) == 0 {
		return fmt.Errorf("no image to export")
	}
	if opts.Name != "" && len(indexes) > 1 {
		return fmt.Errorf("a new name applies to one exported image, not %d", len(indexes))
	}
	if opts.Boot && len(indexes) > 1 {
		return fmt.Errorf("one image can be the boot image, not %d", len(indexes))
	}
	for _, i := range indexes {
		if i < 1 || i > len(src.infos) {
			return fmt.Errorf("image %d does not exist (the WIM has %d)", i, len(src.infos))
		}
	}
	var base *Reader
	if st, err := os.Stat(dest); err == nil {
		if src.name != "" {
			if sst, err := os.Stat(src.name); err == nil && os.SameFile(st, sst) {
				return fmt.Errorf("%s: the source and destination are the same file", dest)
			}
		}
		for _, p := range src.more {
			if pst, err := os.Stat(p.name); err == nil && os.SameFile(st, pst) {
				return fmt.Errorf("%s: the destination is also a file the source is read from", dest)
			}
		}
		base, err = openForRewrite(dest)
		if err != nil {
			return err
		}
		defer base.Close()
		if opts.CompressionSet && base.header.Compression() != opts.Compression {
			return fmt.Errorf("%s is %v-compressed: images exported to it keep its compression (not %v)", dest, base.header.Compression(), opts.Compression)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	names := map[string]bool{}
	if base != nil {
		for _, im := range base.infos {
			names[im.Name] = true
		}
	}
	var refs []imageRef
	for _, i := range indexes {
		info := src.infos[i-1]
		inner := src.rawXML[i-1]
		name := info.Name
		var err error
		if opts.Name != "" {
			name = opts.Name
			if inner, err = setImageElem(inner, "NAME", name); err != nil {
				return err
			}
		}
		if opts.Description != "" {
			if inner, err = setImageElem(inner, "DESCRIPTION", opts.Description); err != nil {
				return err
			}
		}
		if name != "" && names[name] {
			return fmt.Errorf("%s already has an image named %q: %w", dest, name, ErrImageExists)
		}
		names[name] = true
		refs = append(refs, imageRef{r: src, index: i, xml: inner, boot: opts.Boot})
	}
	bo := builderOptions{Compression: src.header.Compression(), Level: opts.CompressionLevel, Recompress: opts.Recompress, Solid: opts.Solid, SolidComp: CompressLZMS, SolidChunk: opts.SolidChunkSize,
		Check: opts.Check, Threads: opts.Threads, RPFix: src.header.RPFix(), Progress: opts.Progress}
	if opts.CompressionSet {
		bo.Compression = opts.Compression
	}
	if opts.SolidCompression != CompressNone {
		bo.SolidComp = opts.SolidCompression
	}
	bo.ChunkSize = opts.ChunkSize
	if bo.ChunkSize == 0 && bo.Compression == src.header.Compression() {
		bo.ChunkSize = int(src.header.ChunkSize)
	}
	if base != nil && base.header.HasIntegrity() {
		bo.Check = true
	}
	b, err := newBuilder(ctx, dest, base, bo)
	if err != nil {
		return err
	}
	if err := b.addImages(ctx, refs); err != nil {
		b.abort()
		return err
	}
	return b.commit(ctx)
}

// setImageElem sets (or, with empty text, removes) the top-level element
// tag of an image's inner XML, keeping everything else as it was.
func setImageElem(inner []byte, tag, text string) ([]byte, error) {
	const open = "<IMAGE>"
	doc := append(append([]byte(open), inner...), "</IMAGE>"...)
	dec := xml.NewDecoder(bytes.NewReader(doc))
	dec.Strict = false
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	depth := 0
	start, end := -1, -1
	for {
		off := int(dec.InputOffset())
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, formatErr("XML data of the image: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 && start < 0 && strings.EqualFold(t.Name.Local, tag) {
				start = off
			}
		case xml.EndElement:
			if depth == 2 && start >= 0 && end < 0 && strings.EqualFold(t.Name.Local, tag) {
				end = int(dec.InputOffset())
			}
			depth--
		}
	}
	var elem bytes.Buffer
	writeElem(&elem, tag, text)
	if start >= 0 && end > start {
		out := append([]byte(nil), doc[len(open):start]...)
		out = append(out, elem.Bytes()...)
		return append(out, doc[end:len(doc)-len("</IMAGE>")]...), nil
	}
	return append(append([]byte(nil), inner...), elem.Bytes()...), nil
}
