package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/reseal/reseal/wim"
)

// The container operations on existing WIMs: export, delete, optimize,
// dir, extract (and info's rename, in wim_cmd.go).
func wimopsCommands() []*command {
	return []*command{
		{Name: "export", Summary: "copy images of a WIM or ESD into another WIM (new or existing), recompressing as needed", Usage: exportUsage, Run: runExport},
		{Name: "delete", Summary: "delete an image from a WIM", Usage: deleteUsage, Run: runDelete},
		{Name: "optimize", Summary: "rewrite a WIM without the data no image uses", Usage: optimizeUsage, Run: runOptimize},
		{Name: "dir", Summary: "list the files of an image of a WIM", Usage: dirUsage, Run: runDir},
		{Name: "extract", Summary: "extract files or directories of an image of a WIM", Usage: extractUsage, Run: runExtract},
		{Name: "split", Summary: "split a WIM into a .swm set of parts of a given size", Usage: splitUsage, Run: runSplit},
	}
}

const exportUsage = `reseal export SRC.wim|SRC.esd INDEX|NAME|all DEST.wim [--compress none|xpress|lzx|lzx:max|lzms]
              [--recompress] [--chunk-size BYTES] [--solid] [--solid-compress xpress|lzx|lzms] [--solid-chunk-size BYTES]
              [--name N] [--description D] [--boot] [--check] [--threads N] [--ref FILE|GLOB]... [--quiet]

Copy one image (or all) of SRC into DEST: a new WIM, or new images at the end
of an existing one. File data DEST already holds is not stored again;
resources whose compression and chunk size suit DEST are copied as they are,
the others are decoded and compressed again; --recompress compresses them
all again. A new DEST takes SRC's compression unless --compress is given;
an existing one keeps its own (a --compress that differs is refused, exit 1).
lzx:max is LZX searched harder, as capture's (about 1.2% smaller, 5-6x the
CPU time); it applies to what is compressed anew (all of it with
--recompress), not to resources copied as they are. --solid stores the exported file
data as one solid resource (LZMS with 64 MiB chunks unless --solid-compress
and --solid-chunk-size say otherwise), as ESD files do: 'export install.esd
all install.wim --compress lzx' turns an ESD into an LZX WIM, 'export
install.wim all install.esd --solid' back. --name and --description rename
the exported image (one image only); a name DEST already has is refused
(exit 1). DEST is written to a temporary file and renamed into place.
With --ref, SRC's file data may come from other files (a split set, the
base of a delta WIM): DEST then holds all of it; data copied as it is
stored from a referenced file is decoded and checked against its SHA-1
first.

` + refUsage

const deleteUsage = `reseal delete IMAGE.wim INDEX|NAME [--soft] [--check] [--quiet]

Delete one image. The WIM is rewritten without the data only that image used
(resources copied as they are, not recompressed) to a temporary file renamed
over it. --soft only writes a new blob table and XML data: faster, but the
file does not shrink ('reseal optimize' later drops the unused data).`

const optimizeUsage = `reseal optimize IMAGE.wim [--recompress] [--compress none|xpress|lzx|lzx:max|lzms] [--check] [--quiet]

Rewrite the WIM with only the data its images use, each blob once (what a soft
delete or repeated appends left behind is dropped). Resources are copied as
they are unless --recompress, which decodes and compresses everything again
with the WIM's compression. --compress implies --recompress and sets the
compression of the WIM's non-solid resources: lzx:max is LZX searched harder,
as capture's (about 1.2% smaller, 5-6x the CPU time); another type than the
WIM's takes its default chunk size (solid resources keep their format). The result goes to a temporary file renamed over
the WIM; prints the sizes before and after unless --quiet.`

const dirUsage = `reseal dir IMAGE.wim [INDEX|NAME] [PATH] [--ref FILE|GLOB]... [--json]

List the paths of an image (optional when the WIM has one), one per line, or
those at and below PATH, as wimlib-imagex dir does. --json prints an object
with an "entries" array giving each entry's path, size, attributes and
whether it is a directory (docs/json.md). A PATH that is not in the image is
refused (exit 1). A delta WIM lists without its base; --json needs it
(--ref) for the sizes.

` + refUsage

const extractUsage = `reseal extract IMAGE.wim INDEX|NAME PATH... --dest DIR [--ref FILE|GLOB]... [--quiet]

Extract the files or directory trees at PATH ('/' for the whole image) of one
image into DIR, each under its own name directly in DIR, as wimlib-imagex
extract does. The same checks as apply's come first: names that are not
plain file names and links that would lead outside DIR are refused (exit 1),
and nothing is written outside DIR. A PATH that is not in the image is
refused (exit 1). Only the data of what is extracted is needed: of a delta
WIM without --ref, the files it holds itself extract (others are an error
naming the missing blob's SHA-1, exit 3), as with wimlib.

` + refUsage

const splitUsage = `reseal split IMAGE.wim PART.swm SIZE_MB [--check] [--quiet]

Split the WIM into parts of at most SIZE_MB MiB (a decimal number; a file
larger than a part gets a part of its own): PART.swm, then PART2.swm,
PART3.swm ... beside it, as DISM and wimlib name them. Part 1 holds the image
metadata; resources are copied as they are. apply, verify and info read the
set from its first part (parts renamed otherwise: --ref 'NAME*.swm'). A WIM with solid resources cannot be split (exit 1):
export it without --solid first. Each part is written to a temporary file and
all are renamed into place once complete.`

// imageArg resolves an INDEX|NAME argument, a refusal naming the WIM when
// the image does not exist.
func imageArg(r *wim.Reader, path, image string) (int, error) {
	index, err := r.ImageIndex(image)
	if err != nil {
		return 0, refusedError("%s: %v", path, err)
	}
	return index, nil
}

// wimOpError maps a library error on the WIM at path to the contract.
func wimOpError(path string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, wim.ErrImageExists), errors.Is(err, wim.ErrNotFound), errors.Is(err, wim.ErrUnsafe):
		return refusedError("%s: %v", path, err)
	case strings.HasPrefix(err.Error(), path+":"):
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}

func parseCompressFlag(name, value string) (wim.Compression, error) {
	c, err := wim.ParseCompression(value)
	if err != nil {
		return 0, usageError("--%s %s: want none, xpress, lzx or lzms", name, value)
	}
	return c, nil
}

func runExport(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("export")
	compress := fs.String("compress", "", "compression of a new DEST: none, xpress, lzx, lzx:max or lzms (default: SRC's)")
	recompress := fs.Bool("recompress", false, "decode and compress every exported resource again")
	chunkSize := fs.Int("chunk-size", 0, "chunk size of non-solid resources in bytes")
	solid := fs.Bool("solid", false, "store the file data as one solid resource")
	solidCompress := fs.String("solid-compress", "lzms", "compression of the solid resource")
	solidChunk := fs.Int("solid-chunk-size", 0, "chunk size of the solid resource in bytes")
	name := fs.String("name", "", "new name of the exported image")
	desc := fs.String("description", "", "new description of the exported image")
	boot := fs.Bool("boot", false, "make the exported image DEST's boot image")
	check := fs.Bool("check", false, "write an integrity table")
	threads := fs.Int("threads", 0, "compression threads (default: all cores)")
	quiet := fs.Bool("quiet", false, "no progress, no summary")
	refs := addRefFlag(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest, 3, 3, "SRC.wim INDEX|NAME|all DEST.wim"); err != nil {
		return err
	}
	opts := wim.ExportOptions{Solid: *solid, Name: *name, Description: *desc, Boot: *boot, Check: *check, Threads: *threads, ChunkSize: *chunkSize, SolidChunkSize: *solidChunk, Recompress: *recompress}
	if *compress != "" {
		if opts.Compression, opts.CompressionLevel, err = parseCompressLevel(*compress); err != nil {
			return usageError("--compress %s: want none, xpress, lzx, lzx:max or lzms", *compress)
		}
		opts.CompressionSet = true
	}
	if opts.SolidCompression, err = parseCompressFlag("solid-compress", *solidCompress); err != nil {
		return err
	}
	if *threads < 0 {
		return usageError("--threads %d: want a positive number", *threads)
	}
	if *chunkSize != 0 {
		if err := checkChunkSize(*chunkSize, opts.Compression); err != nil {
			return err
		}
	}
	if opts.SolidCompression == wim.CompressNone {
		return usageError("--solid-compress none: want xpress, lzx or lzms")
	}
	if err := checkSolidChunkSize(*solidChunk, opts.SolidCompression); err != nil {
		return err
	}
	srcPath, image, dest := rest[0], rest[1], rest[2]
	if *solid {
		raiseMemoryLimit(wim.SolidMemory(opts.SolidCompression, *solidChunk, effectiveThreads(*threads)))
	}
	if st, err := os.Stat(dest); err == nil && st.IsDir() {
		return refusedError("%s is a directory; give the WIM file's name", dest)
	}
	r, err := openWIMRefs(srcPath, *refs)
	if err != nil {
		return err
	}
	defer r.Close()
	var indexes []int
	if strings.EqualFold(image, "all") {
		for _, im := range r.Images() {
			indexes = append(indexes, im.Index)
		}
	} else {
		index, err := imageArg(r, srcPath, image)
		if err != nil {
			return err
		}
		indexes = []int{index}
	}
	if (*name != "" || *boot) && len(indexes) > 1 {
		return usageError("--name and --boot need one image, not all %d", len(indexes))
	}
	if st, err := os.Stat(dest); err == nil && st.Mode().IsRegular() {
		d, err := wim.Open(dest)
		if err != nil {
			if errors.Is(err, wim.ErrFormat) {
				return refusedError("%s exists and is not a WIM; nothing was written", dest)
			}
			return err
		}
		h := d.Header()
		d.Close()
		if opts.CompressionSet && h.Compression() != opts.Compression {
			return refusedError("--compress %v: %s is %v-compressed and exported images keep its compression", opts.Compression, dest, h.Compression())
		}
	}
	pm := newProgress(sio, *quiet, "Exporting")
	opts.Progress = pm.callback()
	err = wim.Export(ctx, r, indexes, dest, opts)
	pm.finish()
	if err != nil {
		return wimOpError(dest, refHint(err, *refs))
	}
	if !*quiet {
		size := int64(0)
		if st, err := os.Stat(dest); err == nil {
			size = st.Size()
		}
		fmt.Fprintf(sio.Err, "exported %d image(s) of %s -> %s (%s) in %s\n", len(indexes), srcPath, dest, humanBytes(size), pm.elapsed().Round(time.Millisecond))
	}
	return nil
}

func runDelete(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("delete")
	soft := fs.Bool("soft", false, "leave the data in place (the file does not shrink)")
	check := fs.Bool("check", false, "write an integrity table")
	quiet := fs.Bool("quiet", false, "no progress, no summary")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest, 2, 2, "IMAGE.wim INDEX|NAME"); err != nil {
		return err
	}
	path := rest[0]
	r, err := openWIM(path)
	if err != nil {
		return err
	}
	index, err := imageArg(r, path, rest[1])
	name := ""
	if err == nil {
		name = r.Images()[index-1].Name
	}
	before := r.Size()
	raiseMemoryLimitForRewrite(r)
	r.Close()
	if err != nil {
		return err
	}
	pm := newProgress(sio, *quiet, "Deleting")
	err = wim.Delete(ctx, path, index, wim.RewriteOptions{Soft: *soft, Check: *check, Progress: pm.callback()})
	pm.finish()
	if err != nil {
		return wimOpError(path, err)
	}
	if !*quiet {
		fmt.Fprintf(sio.Err, "deleted image %d %q of %s: %s -> %s in %s\n", index, name, path, humanBytes(before), humanBytes(fileSize(path)), pm.elapsed().Round(time.Millisecond))
	}
	return nil
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

func runOptimize(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("optimize")
	recompress := fs.Bool("recompress", false, "decode and compress every resource again")
	compress := fs.String("compress", "", "recompress with this compression: none, xpress, lzx, lzx:max or lzms")
	check := fs.Bool("check", false, "write an integrity table")
	quiet := fs.Bool("quiet", false, "no progress, no summary")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest, 1, 1, "IMAGE.wim"); err != nil {
		return err
	}
	opts := wim.RewriteOptions{Recompress: *recompress, Check: *check}
	if *compress != "" {
		if opts.Compression, opts.CompressionLevel, err = parseCompressLevel(*compress); err != nil {
			return usageError("--compress %s: want none, xpress, lzx, lzx:max or lzms", *compress)
		}
		opts.CompressionSet, opts.Recompress = true, true
	}
	path := rest[0]
	r, err := openWIM(path)
	if err != nil {
		return err
	}
	raiseMemoryLimitForRewrite(r)
	r.Close()
	before := fileSize(path)
	pm := newProgress(sio, *quiet, "Optimizing")
	opts.Progress = pm.callback()
	err = wim.Optimize(ctx, path, opts)
	pm.finish()
	if err != nil {
		return wimOpError(path, err)
	}
	if !*quiet {
		fmt.Fprintf(sio.Err, "optimized %s: %s -> %s in %s\n", path, humanBytes(before), humanBytes(fileSize(path)), pm.elapsed().Round(time.Millisecond))
	}
	return nil
}

// dirJSON is dir's --json output.
type dirJSON struct {
	Path    string         `json:"path"`
	Image   int            `json:"image"`
	Entries []dirEntryJSON `json:"entries"`
}

type dirEntryJSON struct {
	Path       string `json:"path"`
	IsDir      bool   `json:"is_dir"`
	Size       int64  `json:"size"`
	Attributes uint32 `json:"attributes"`
}

func runDir(_ context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("dir")
	asJSON := fs.Bool("json", false, "print as JSON")
	refs := addRefFlag(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest, 1, 3, "IMAGE.wim [INDEX|NAME] [PATH]"); err != nil {
		return err
	}
	path := rest[0]
	r, err := openWIMRefs(path, *refs)
	if err != nil {
		return err
	}
	defer r.Close()
	image, sub := "", "/"
	switch len(rest) {
	case 2:
		// One argument after the WIM: an image when it names one, else a
		// path in the only image.
		if _, err := r.ImageIndex(rest[1]); err == nil || len(r.Images()) != 1 {
			image = rest[1]
		} else {
			sub = rest[1]
		}
	case 3:
		image, sub = rest[1], rest[2]
	}
	index, err := imageArg(r, path, image)
	if err != nil {
		return err
	}
	img, err := r.Image(index)
	// The paths need no file data: a delta WIM lists without its base,
	// as in wimlib's dir; --json's sizes need the data's entries.
	if err != nil && (img == nil || *asJSON || !errors.Is(err, wim.ErrBlobMissing)) {
		return fmt.Errorf("%s: %w", path, refHint(err, *refs))
	}
	top, err := img.Lookup(sub)
	if err != nil {
		return refusedError("%s: image %d: %v", path, index, err)
	}
	out := dirJSON{Path: path, Image: index, Entries: []dirEntryJSON{}}
	top.Walk(func(f *wim.File) error {
		out.Entries = append(out.Entries, dirEntryJSON{Path: f.Path(), IsDir: f.IsDir(), Size: f.Data.Size, Attributes: f.Attributes})
		return nil
	})
	if *asJSON {
		return writeJSON(sio.Out, out)
	}
	for _, e := range out.Entries {
		fmt.Fprintln(sio.Out, e.Path)
	}
	return nil
}

func runExtract(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("extract")
	dest := fs.String("dest", "", "directory to extract into")
	quiet := fs.Bool("quiet", false, "no progress, no summary")
	refs := addRefFlag(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest, 3, -1, "IMAGE.wim INDEX|NAME PATH... --dest DIR"); err != nil {
		return err
	}
	if *dest == "" {
		return usageError("want --dest DIR")
	}
	path := rest[0]
	r, err := openWIMRefs(path, *refs)
	if err != nil {
		return err
	}
	defer r.Close()
	index, err := imageArg(r, path, rest[1])
	if err != nil {
		return err
	}
	pm := newProgress(sio, *quiet, "Extracting")
	err = r.Extract(ctx, index, rest[2:], *dest, wim.ApplyOptions{
		Progress: pm.callback(),
		Warning:  func(msg string) { fmt.Fprintf(sio.Err, "reseal extract: warning: %s\n", msg) },
	})
	pm.finish()
	if err != nil {
		return wimOpError(path, refHint(err, *refs))
	}
	if !*quiet {
		fmt.Fprintf(sio.Err, "extracted %d path(s) of %s image %d -> %s in %s\n", len(rest)-2, path, index, *dest, pm.elapsed().Round(time.Millisecond))
	}
	return nil
}

// visited reports which flags were given on the command line.
func visited(fs *flag.FlagSet) map[string]bool {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	return given
}

func runSplit(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("split")
	check := fs.Bool("check", false, "write an integrity table in each part")
	quiet := fs.Bool("quiet", false, "no progress, no summary")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest, 3, 3, "IMAGE.wim PART.swm SIZE_MB"); err != nil {
		return err
	}
	path, first := rest[0], rest[1]
	mb, err := strconv.ParseFloat(rest[2], 64)
	if err != nil || mb <= 0 || mb > 1<<30 {
		return usageError("SIZE_MB %s: want a positive number of MiB", rest[2])
	}
	r, err := openWIM(path)
	if err != nil {
		return err
	}
	solid := r.HasSolid()
	r.Close()
	if solid {
		return refusedError("%s has solid resources, which cannot be split; nothing was written ('reseal export' without --solid first)", path)
	}
	pm := newProgress(sio, *quiet, "Splitting")
	names, err := wim.Split(ctx, path, first, int64(mb*(1<<20)), wim.SplitOptions{Check: *check, Progress: pm.callback()})
	pm.finish()
	if err != nil {
		return wimOpError(path, err)
	}
	if !*quiet {
		fmt.Fprintf(sio.Err, "split %s into %d part(s): %s in %s\n", path, len(names), strings.Join(names, ", "), pm.elapsed().Round(time.Millisecond))
	}
	return nil
}

// raiseMemoryLimitForRewrite raises the soft memory limit, as capture
// --solid does, when rewriting r (delete, optimize) may compress solid
// resources again: a solid run that loses a blob, or every one under
// --recompress, goes through the solid compressors (about 700 MiB per
// 64 MiB LZMS chunk, wim.SolidMemory), and under the base limit the
// collector would run without end over memory in use by design.
func raiseMemoryLimitForRewrite(r *wim.Reader) {
	if comp, chunk, ok := r.SolidFormat(); ok {
		raiseMemoryLimit(wim.SolidMemory(comp, chunk, effectiveThreads(0)))
	}
}
