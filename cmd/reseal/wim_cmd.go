package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/reseal/reseal/sysprep"
	"github.com/reseal/reseal/wim"
	"github.com/reseal/reseal/winimage"
)

// wimCommands returns the commands of this area. An area lists a command
// here only once it works: unfinished features stay out of 'reseal help'.
func wimCommands() []*command {
	cs := []*command{
		{Name: "capture", Summary: "capture a directory tree into a new WIM or as a new image of one", Usage: captureUsage, Run: runCapture},
		{Name: "apply", Summary: "apply (extract) an image of a WIM to a directory", Usage: applyUsage, Run: runApply},
		{Name: "info", Summary: "show a WIM's header and images, like wiminfo", Usage: infoUsage, Run: runInfo},
		{Name: "verify", Summary: "check every hash, the integrity table and the metadata of a WIM", Usage: verifyUsage, Run: runVerify},
	}
	return append(cs, wimopsCommands()...)
}

const captureUsage = `reseal capture SRC DEST.wim [--name N] [--description D] [--compress none|xpress|lzx|lzx:max|lzms]
               [--chunk-size BYTES] [--solid] [--solid-compress xpress|lzx|lzms] [--solid-chunk-size BYTES]
               [--threads N] [--check] [--append] [--config FILE] [--exclude GLOB]... [--flags EDITION] [--boot] [--force] [--quiet]

Capture the directory tree SRC as an image of DEST.wim: a new WIM, or with
--append a new image at the end of an existing one (keeping its compression).
SRC may be a disk image (raw, VHD, VHDX, qcow2; DISK or DISK:PART, else the
NTFS partition holding Windows): its volume is read directly, without
mounting, with security descriptors, attributes, named streams, short names,
hard links and reparse points; WOF-compressed (CompactOS) files are captured
with their content, as Windows shows them (WIMBoot files are refused); a
BitLocker volume or one not cleanly shut down (dirty flag, unapplied $LogFile)
is refused.
Compression defaults to XPRESS (DISM's /Compress:fast); LZX is /Compress:maximum;
lzx:max is LZX searched harder (~1.2% smaller, 5-6x the CPU time of lzx);
LZMS (128 KiB chunks by default) needs wimlib or Windows 8 and later to read.
--solid stores the file data as one solid resource, as ESD files and wimlib's
--solid do: LZMS with 64 MiB chunks unless --solid-compress and
--solid-chunk-size say otherwise; without --compress the WIM's own (metadata)
compression is then LZMS too. Each 64 MiB LZMS chunk being compressed takes
about 700 MiB of memory; at most two are compressed at once (four at 32 MiB).
File data is deduplicated by SHA-1 across files and images and compressed in
parallel (--threads, default all cores). --check adds an integrity table.
--flags sets the image's FLAGS (DISM's /Flags); --boot makes it the boot image.
--config reads a WimScript.ini exclusion list ([ExclusionList],
[ExclusionException]); without it pagefile.sys, hiberfil.sys, swapfile.sys,
System Volume Information, $Recycle.Bin and Windows\CSC are left out.
Symbolic links become reparse points; absolute targets inside SRC are stored
relative to the image root (wimlib's --rpfix). The WIM is written to a
temporary file and renamed into place when complete. An existing DEST that is
not a WIM is refused (exit 1) unless --force is given. With --append the new
image keeps the WIM's compression and chunk size: a --compress or --chunk-size
that differs is refused. While it is appended to, the WIM is locked (an
flock, the lock wimlib takes; not on Windows): a second append, export into
it, delete, optimize or rename, by reseal or wimlib, is refused (exit 3)
rather than one of the two being lost. On success a one-line summary (files,
sizes, ratio, time) is printed to standard error; --quiet prints neither it
nor progress.

  --chunk-size BYTES  a power of two from 4096 (XPRESS: up to 65536; LZX: up
                      to 2097152; LZMS: 32768 to 67108864); default 32768
                      (LZMS: 131072)
  --exclude GLOB      leave out paths matching GLOB (repeatable), as a line of
                      WimScript.ini's [ExclusionList]: a GLOB with a \ or /
                      is a path from SRC's root, with or without the leading
                      one (\Windows\Prefetch = Windows/Prefetch); one without
                      (*.tmp, Thumbs.db) matches a name at any depth. A GLOB
                      (or a --config exclusion) that matched nothing is
                      warned about
  --force             replace an existing DEST that is not a WIM`

const applyUsage = `reseal apply IMAGE.wim [INDEX|NAME] DEST [--ref FILE|GLOB]... [--quiet]

Extract one image (by 1-based index or by name; optional when the WIM has one
image) into the directory DEST, which is created if needed: files, directories,
hard links, symbolic links and junctions, timestamps. The image is checked
before anything is written: names with '..', '/', '\', NUL or a drive, links
leading out of DEST and inconsistent metadata are refused (exit 1). File data is
written under a temporary name and renamed only once its SHA-1 matches. An
image that is not in the WIM is refused (exit 1). If the WIM turns out to be
corrupt part-way (exit 3), the error says that DEST holds a partial tree. On
success a one-line summary is printed to standard error unless --quiet.
File data that neither IMAGE.wim nor a --ref file holds is an error naming
the blob's SHA-1 (exit 3), before anything is written. The temporary files
an apply killed part-way left in DEST (.NAME.reseal-apply-XXXXXXXX, regular
files in the image's directories) are removed by the next apply or extract
into DEST, with a warning; while another apply holds DEST, only ones older
than 10 minutes.

` + refUsage

const infoUsage = `reseal info IMAGE.wim [INDEX|NAME] [--name N] [--description D] [--json]

Show the WIM's header (GUID, version, compression, chunk size, boot index,
integrity table) and each image's name, description, counts, sizes and times,
or only the image given. --name and --description (with an image) rename it
and set its description first: the WIM's XML data is rewritten, the file
replaced atomically; a name another image has is refused (exit 1).
--json prints an object with a top-level "images" array (docs/json.md). A file
that is not a WIM is an error (exit 3); 'reseal verify' judges a file (exit 1).`

const verifyUsage = `reseal verify IMAGE.wim [--ref FILE|GLOB]... [--json] [--quiet]

Check the integrity table (if present), every metadata resource and every blob
(decompression and SHA-1). Exit 1 and list the problems when anything is wrong,
including when the file is not a WIM at all (verify's verdict on the file);
exit 3 when it cannot be read. --quiet prints only the problems. With --ref,
the images' file data may be in the referenced files: of those, the blobs the
images use are checked (all parts of a split set are checked whole); --json
lists the files used as references ("refs").

` + refUsage

func openWIM(path string) (*wim.Reader, error) {
	r, err := wim.Open(path)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func runCapture(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("capture")
	name := fs.String("name", "", "image name (default: the base name of SRC)")
	desc := fs.String("description", "", "image description")
	compress := fs.String("compress", "xpress", "none, xpress, lzx, lzx:max or lzms")
	chunkSize := fs.Int("chunk-size", 0, "chunk size in bytes (default 32768)")
	solid := fs.Bool("solid", false, "store the file data as one solid resource")
	solidCompress := fs.String("solid-compress", "lzms", "compression of the solid resource: xpress, lzx or lzms")
	solidChunk := fs.Int("solid-chunk-size", 0, "chunk size of the solid resource in bytes")
	threads := fs.Int("threads", 0, "compression threads (default: all cores)")
	check := fs.Bool("check", false, "write an integrity table")
	appendImage := fs.Bool("append", false, "append to an existing WIM")
	flags := fs.String("flags", "", "the image's FLAGS (the edition, e.g. Professional), as DISM's /Flags")
	boot := fs.Bool("boot", false, "make the new image the WIM's boot image (WinPE)")
	config := fs.String("config", "", "WimScript.ini exclusion file")
	var excludes stringList
	fs.Var(&excludes, "exclude", "exclusion glob (repeatable)")
	quiet := fs.Bool("quiet", false, "no progress, no summary")
	force := fs.Bool("force", false, "replace an existing DEST that is not a WIM")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest, 2, 2, "SRC DEST.wim"); err != nil {
		return err
	}
	comp, level, err := parseCompressLevel(*compress)
	if err != nil {
		return usageError("--compress %s: want none, xpress, lzx, lzx:max or lzms", *compress)
	}
	solidComp, err := wim.ParseCompression(*solidCompress)
	if err != nil || solidComp == wim.CompressNone {
		return usageError("--solid-compress %s: want xpress, lzx or lzms", *solidCompress)
	}
	if err := checkSolidChunkSize(*solidChunk, solidComp); err != nil {
		return err
	}
	if *threads < 0 {
		return usageError("--threads %d: want a positive number", *threads)
	}
	if err := checkChunkSize(*chunkSize, comp); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if *solid && !given["compress"] {
		comp = wim.CompressLZMS // as wimlib's --solid: an ESD-style WIM
	}
	if (given["solid-compress"] || given["solid-chunk-size"]) && !*solid {
		return usageError("--solid-compress and --solid-chunk-size go with --solid")
	}
	src, dest := rest[0], rest[1]
	if err := checkCaptureDest(dest, *appendImage, *force, given, comp, *chunkSize, *name, src); err != nil {
		return err
	}
	opts := wim.CaptureOptions{
		Name: *name, Description: *desc, Compression: comp, CompressionLevel: level, ChunkSize: *chunkSize, Threads: *threads,
		Check: *check, Append: *appendImage, Exclude: excludes, Flags: *flags, Boot: *boot,
		Solid: *solid, SolidCompression: solidComp, SolidChunkSize: *solidChunk,
		Warning: func(msg string) { fmt.Fprintf(sio.Err, "reseal capture: warning: %s\n", msg) },
	}
	if *solid {
		raiseMemoryLimit(wim.SolidMemory(solidComp, *solidChunk, effectiveThreads(*threads)))
	}
	if *config != "" {
		f, err := os.Open(*config)
		if err != nil {
			return err
		}
		opts.Config, err = wim.ParseCaptureConfig(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", *config, err)
		}
	}
	if isDiskTarget(src) {
		return captureDisk(ctx, sio, src, dest, opts, *quiet, *name == "", *flags == "")
	}
	// A Windows volume is held while it is read: no reseal run may change
	// it meanwhile, and one interrupted there is finished or rolled back
	// first, so a half-generalized image is never captured.
	if err := checkTarget(src); err != nil {
		return err
	}
	res, err := sysprep.Reserve(src)
	switch {
	case err == nil:
		defer res.Release()
		if res.Journal != "" {
			fmt.Fprintf(sio.Err, "reseal capture: %s: %s\n", src, res.Journal)
		}
		describeWindows(&opts, res.Installation, *name == "", *flags == "")
		if err := describeFromHives(opts.Windows, src); err != nil {
			opts.Warning(fmt.Sprintf("%s: %v (the image's <WINDOWS> lacks it)", src, err))
		}
		if opts.DisplayDescription == "" && *desc == "" && opts.DisplayName != "" {
			opts.DisplayDescription = opts.DisplayName
		}
	case errors.Is(err, winimage.ErrNotWindows):
		// A plain directory tree.
	default:
		return err
	}
	sizeBefore := int64(0)
	if *appendImage {
		if st, err := os.Stat(dest); err == nil {
			sizeBefore = st.Size()
		}
	}
	pm := newProgress(sio, *quiet, "Capturing")
	opts.Progress = pm.callback()
	err = wim.Capture(ctx, src, dest, opts)
	pm.finish()
	if err != nil {
		return err
	}
	if !*quiet {
		fmt.Fprintln(sio.Err, captureSummary(src, dest, sizeBefore, pm.elapsed()))
	}
	return nil
}

// checkChunkSize refuses a --chunk-size the compression cannot use, before
// anything is read: it is a usage error, like any flag value out of range.
func checkChunkSize(cs int, comp wim.Compression) error {
	if cs == 0 {
		return nil
	}
	if cs < 4096 || cs&(cs-1) != 0 {
		return usageError("--chunk-size %d: want a power of two from 4096", cs)
	}
	limit := int64(1 << 21) // int64: 1<<31 (none) does not fit a 32-bit int
	switch comp {
	case wim.CompressXPRESS:
		limit = 1 << 16
	case wim.CompressLZMS, wim.CompressLZX:
		if comp == wim.CompressLZMS {
			limit = 1 << 26
		}
		if cs < 1<<15 {
			return usageError("--chunk-size %d: %v takes at least 32768", cs, comp)
		}
	case wim.CompressNone:
		limit = 1 << 31
	}
	if int64(cs) > limit {
		return usageError("--chunk-size %d: %v takes at most %d", cs, comp, limit)
	}
	return nil
}

// checkSolidChunkSize refuses a --solid-chunk-size the solid compression
// cannot use (a usage error).
func checkSolidChunkSize(cs int, comp wim.Compression) error {
	if cs == 0 {
		return nil
	}
	if err := checkChunkSize(cs, comp); err != nil {
		return usageError("--solid-%v", strings.TrimPrefix(err.Error(), "--"))
	}
	return nil
}

// checkCaptureDest refuses, before the source is read, a capture that would
// destroy a file that is not a WIM, append to something that is not one,
// reuse an image name, or silently ignore --compress/--chunk-size.
func checkCaptureDest(dest string, appendImage, force bool, given map[string]bool, comp wim.Compression, chunkSize int, name, src string) error {
	st, statErr := os.Stat(dest)
	if statErr != nil {
		if !errors.Is(statErr, os.ErrNotExist) {
			return statErr
		}
		if appendImage {
			return fmt.Errorf("%s: --append needs an existing WIM: %w", dest, os.ErrNotExist)
		}
		if _, err := os.Stat(filepath.Dir(dest)); err != nil {
			return fmt.Errorf("%s: the directory %s: %w", dest, filepath.Dir(dest), unwrapPathError(err))
		}
		return nil
	}
	if st.IsDir() {
		return refusedError("%s is a directory; give the WIM file's name", dest)
	}
	r, err := wim.Open(dest)
	if err != nil {
		if !errors.Is(err, wim.ErrFormat) {
			return err
		}
		if appendImage {
			return refusedError("%s is not a WIM: cannot --append to it (%v)", dest, err)
		}
		if !force {
			return refusedError("%s exists and is not a WIM; nothing was written (--force replaces it)", dest)
		}
		return nil
	}
	defer r.Close()
	if !appendImage {
		return nil
	}
	h := r.Header()
	if given["compress"] && h.Compression() != comp {
		return refusedError("--compress %v: %s is %v-compressed and an appended image keeps the WIM's compression; capture to a new WIM (or 'wimlib-imagex export --compress') to change it", comp, dest, h.Compression())
	}
	if given["chunk-size"] && int(h.ChunkSize) != chunkSize && h.Compression() != wim.CompressNone {
		return refusedError("--chunk-size %d: %s has %d-byte chunks and an appended image keeps them", chunkSize, dest, h.ChunkSize)
	}
	if name == "" {
		abs, _ := filepath.Abs(src)
		name = filepath.Base(abs)
	}
	for _, im := range r.Images() {
		if im.Name == name {
			return refusedError("%s already has an image named %q (image %d); give another --name", dest, name, im.Index)
		}
	}
	return nil
}

// unwrapPathError drops an *fs.PathError's own path and operation, for a
// message that names the path itself.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// captureSummary is the line printed after a capture: what went where, how
// much, the ratio and the time.
func captureSummary(src, dest string, sizeBefore int64, took time.Duration) string {
	r, err := wim.Open(dest)
	if err != nil {
		return fmt.Sprintf("captured %s -> %s in %s", src, dest, took.Round(time.Millisecond))
	}
	defer r.Close()
	ims := r.Images()
	im := ims[len(ims)-1]
	written := r.Size() - sizeBefore
	ratio := ""
	if im.TotalBytes > 0 {
		ratio = fmt.Sprintf(" (%.0f%%)", 100*float64(written)/float64(im.TotalBytes))
	}
	return fmt.Sprintf("captured %s -> %s image %d %q: %d files, %d directories, %s -> %s%s, %v, in %s",
		src, dest, im.Index, im.Name, im.FileCount, im.DirCount, humanBytes(im.TotalBytes), humanBytes(written), ratio,
		hdrCompression(r), took.Round(time.Millisecond))
}

// describeWindows fills in what DISM records of a captured Windows
// installation, so that wiminfo and deployment tools see the edition and
// version: the <WINDOWS> element, and the name, display name and flags
// (the edition) unless the user gave them. reseal's own lock and journal
// are left out of the image.
func describeWindows(opts *wim.CaptureOptions, inst winimage.Installation, setName, setFlags bool) {
	opts.ExcludeQuietly = append(opts.ExcludeQuietly, sysprep.ControlFiles()...)
	productType := "WinNT"
	if inst.Server() {
		productType = "ServerNT"
	}
	opts.Windows = &wim.WindowsInfo{
		Architecture:     inst.Architecture,
		EditionID:        inst.EditionID,
		InstallationType: inst.InstallationType,
		ProductType:      productType,
		SystemRoot:       "WINDOWS",
	}
	if inst.Build >= 10240 { // the first build of Windows 10, version 10.0
		opts.Windows.Version = fmt.Sprintf("10.0.%d.%d", inst.Build, inst.UBR)
	}
	opts.Windows.ProductName = inst.ProductName
	if setName && inst.ProductName != "" {
		opts.Name = inst.ProductName
		opts.DisplayName = inst.ProductName
	}
	if setFlags {
		opts.Flags = inst.EditionID
	}
}

// describeFromHives reads what DISM records of an installation beyond the
// Installation's fields from the volume's SYSTEM hive: PRODUCTSUITE (the
// first string of Control\ProductOptions' ProductSuite, as DISM and wimlib
// write it) and LANGUAGES (the UI languages under Control\MUI\UILanguages;
// the default is the one whose LCID is Nls\Language's InstallLanguage).
func describeFromHives(wi *wim.WindowsInfo, volume string) error {
	v, err := winimage.Open(volume)
	if err != nil {
		return err
	}
	defer v.Close()
	control := `HKLM\SYSTEM\CurrentControlSet\Control`
	if k, err := v.Key(control + `\ProductOptions`); err == nil {
		if val, err := k.Value("ProductSuite"); err == nil {
			if suites, err := val.Strings(); err == nil && len(suites) > 0 {
				wi.ProductSuite = suites[0]
			}
		}
	}
	langs, err := v.Key(control + `\MUI\UILanguages`)
	if err != nil {
		return fmt.Errorf("no UI languages: %w", err)
	}
	names, err := langs.SubKeyNames()
	if err != nil {
		return err
	}
	install := uint64(0) // the LCID, e.g. 0x409 from "0409"
	if nls, err := v.Key(control + `\Nls\Language`); err == nil {
		if val, err := nls.Value("InstallLanguage"); err == nil {
			if text, err := val.String(); err == nil {
				install, _ = strconv.ParseUint(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(text)), "0x"), 16, 32)
			}
		}
	}
	wi.Languages = nil
	for _, n := range names {
		wi.Languages = append(wi.Languages, n)
		k, err := langs.OpenKey(n)
		if err != nil {
			continue
		}
		if val, err := k.Value("LCID"); err == nil {
			if lcid, err := val.Uint64(); err == nil && install != 0 && lcid == install {
				wi.DefaultLanguage = n
			}
		}
	}
	if wi.DefaultLanguage == "" && len(wi.Languages) == 1 {
		wi.DefaultLanguage = wi.Languages[0]
	}
	return nil
}

func runApply(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("apply")
	quiet := fs.Bool("quiet", false, "no progress, no summary")
	refs := addRefFlag(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest, 2, 3, "IMAGE.wim [INDEX|NAME] DEST"); err != nil {
		return err
	}
	var wimPath, image, dest string
	if len(rest) == 2 {
		wimPath, dest = rest[0], rest[1]
	} else {
		wimPath, image, dest = rest[0], rest[1], rest[2]
	}
	r, err := openWIMRefs(wimPath, *refs)
	if err != nil {
		return err
	}
	defer r.Close()
	index, err := r.ImageIndex(image)
	if err != nil {
		return refusedError("%s: %v", wimPath, err)
	}
	hadEntries := dirHasEntries(dest)
	pm := newProgress(sio, *quiet, "Applying")
	err = r.Apply(ctx, index, dest, wim.ApplyOptions{
		Progress: pm.callback(),
		Warning:  func(msg string) { fmt.Fprintf(sio.Err, "reseal apply: warning: %s\n", msg) },
	})
	pm.finish()
	if errors.Is(err, wim.ErrUnsafe) {
		return refusedError("%s: %v", wimPath, err)
	}
	if err != nil {
		err = refHint(err, *refs)
		if !hadEntries && dirHasEntries(dest) {
			return fmt.Errorf("%s: %w; %s holds a partial tree (what was written before the error): remove it before applying again", wimPath, err, dest)
		}
		return fmt.Errorf("%s: %w", wimPath, err)
	}
	if !*quiet {
		im := r.Images()[index-1]
		fmt.Fprintf(sio.Err, "applied %s image %d %q -> %s: %d files, %d directories, %s, in %s\n",
			wimPath, im.Index, im.Name, dest, im.FileCount, im.DirCount, humanBytes(im.TotalBytes), pm.elapsed().Round(time.Millisecond))
	}
	return nil
}

// dirHasEntries reports whether dir exists and holds anything.
func dirHasEntries(dir string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	names, _ := f.Readdirnames(1)
	return len(names) > 0
}

type wimInfoJSON struct {
	Path        string          `json:"path"`
	GUID        string          `json:"guid"`
	Version     uint32          `json:"version"`
	ImageCount  int             `json:"image_count"`
	Compression string          `json:"compression"`
	ChunkSize   uint32          `json:"chunk_size"`
	PartNumber  uint16          `json:"part_number"`
	TotalParts  uint16          `json:"total_parts"`
	BootIndex   uint32          `json:"boot_index"`
	Size        int64           `json:"size"`
	Integrity   bool            `json:"integrity"`
	RPFix       bool            `json:"rpfix"`
	Images      []wim.ImageInfo `json:"images"`
}

func runInfo(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("info")
	asJSON := fs.Bool("json", false, "print as JSON")
	newName := fs.String("name", "", "rename the image")
	newDesc := fs.String("description", "", "set the image's description")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest, 1, 2, "IMAGE.wim [INDEX|NAME]"); err != nil {
		return err
	}
	given := visited(fs)
	if (given["name"] || given["description"]) && len(rest) < 2 {
		return usageError("--name and --description need the image: reseal info IMAGE.wim INDEX --name N")
	}
	if given["name"] && *newName == "" {
		return usageError("--name: an image name cannot be empty")
	}
	r, err := openWIM(rest[0])
	if err != nil {
		// A later part of a split set, or the first one whose other
		// parts are named otherwise: its header and XML, as wimlib's
		// info shows them (Part Number N/M); renaming needs the set.
		if h, images, size, perr := wim.ReadPartInfo(rest[0]); perr == nil && (h.PartNumber > 1 || errors.Is(err, wim.ErrPartMissing)) && len(rest) == 1 {
			return printWIMInfo(sio, *asJSON, rest[0], h, size, images, 0)
		}
		return err
	}
	defer r.Close()
	index := 0
	if len(rest) == 2 {
		if index, err = imageArg(r, rest[0], rest[1]); err != nil {
			return err
		}
	}
	if given["name"] || given["description"] {
		var name, desc *string
		if given["name"] {
			name = newName
		}
		if given["description"] {
			desc = newDesc
		}
		r.Close()
		if err := wim.SetImageInfo(ctx, rest[0], index, name, desc); err != nil {
			return wimOpError(rest[0], err)
		}
		if r, err = openWIM(rest[0]); err != nil {
			return err
		}
		defer r.Close()
	}
	return printWIMInfo(sio, *asJSON, rest[0], r.Header(), r.Size(), r.Images(), index)
}

// printWIMInfo prints what `wiminfo` shows: the header and the images (only
// image index when it is not 0).
func printWIMInfo(sio *stdio, asJSON bool, path string, h wim.Header, size int64, images []wim.ImageInfo, index int) error {
	info := wimInfoJSON{
		Path: path, GUID: fmt.Sprintf("0x%x", h.GUID[:]), Version: h.Version, ImageCount: int(h.ImageCount),
		Compression: h.Compression().String(), ChunkSize: h.ChunkSize, PartNumber: h.PartNumber, TotalParts: h.TotalParts,
		BootIndex: h.BootIndex, Size: size, Integrity: h.HasIntegrity(), RPFix: h.RPFix(), Images: images,
	}
	if index > 0 {
		info.Images = info.Images[index-1 : index]
	}
	if info.Compression == "none" {
		info.Compression = "None"
	}
	for i := range info.Images {
		if wi := info.Images[i].Windows; wi != nil && wi.Languages == nil {
			wi.Languages = []string{}
		}
	}
	if asJSON {
		return writeJSON(sio.Out, info)
	}
	w := sio.Out
	fmt.Fprintf(w, "WIM Information:\n----------------\n")
	fmt.Fprintf(w, "Path:           %s\nGUID:           %s\nVersion:        %d\nImage Count:    %d\n", info.Path, info.GUID, info.Version, info.ImageCount)
	fmt.Fprintf(w, "Compression:    %s\nChunk Size:     %d bytes\nPart Number:    %d/%d\nBoot Index:     %d\nSize:           %d bytes\n",
		info.Compression, info.ChunkSize, info.PartNumber, info.TotalParts, info.BootIndex, info.Size)
	var attrs []string
	if info.Integrity {
		attrs = append(attrs, "Integrity info")
	}
	if info.RPFix {
		attrs = append(attrs, "Relative path junction")
	}
	fmt.Fprintf(w, "Attributes:     %s\n\nAvailable Images:\n-----------------\n", strings.Join(attrs, ", "))
	for i, im := range info.Images {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "Index:                  %d\nName:                   %s\nDescription:            %s\n", im.Index, im.Name, im.Description)
		if im.DisplayName != "" {
			fmt.Fprintf(w, "Display Name:           %s\n", im.DisplayName)
		}
		if im.DisplayDescription != "" {
			fmt.Fprintf(w, "Display Description:    %s\n", im.DisplayDescription)
		}
		fmt.Fprintf(w, "Directory Count:        %d\nFile Count:             %d\nTotal Bytes:            %d\nHard Link Bytes:        %d\n",
			im.DirCount, im.FileCount, im.TotalBytes, im.HardLinkBytes)
		fmt.Fprintf(w, "Creation Time:          %s\nLast Modification Time: %s\n", fmtTime(im.CreationTime), fmtTime(im.LastModificationTime))
		if wi := im.Windows; wi != nil {
			fmt.Fprintf(w, "Architecture:           %s\nProduct Name:           %s\nEdition ID:             %s\nInstallation Type:      %s\nProduct Type:           %s\n",
				wi.Architecture, wi.ProductName, wi.EditionID, wi.InstallationType, wi.ProductType)
			if wi.ProductSuite != "" {
				fmt.Fprintf(w, "Product Suite:          %s\n", wi.ProductSuite)
			}
			fmt.Fprintf(w, "Languages:              %s\nDefault Language:       %s\nSystem Root:            %s\nVersion:                %s\n",
				strings.Join(wi.Languages, " "), wi.DefaultLanguage, wi.SystemRoot, wi.Version)
		}
		if im.Flags != "" {
			fmt.Fprintf(w, "Flags:                  %s\n", im.Flags)
		}
		fmt.Fprintf(w, "Boot:                   %s\n", map[bool]string{true: "yes", false: "no"}[im.Boot])
	}
	return nil
}

func fmtTime(t interface{ Format(string) string }) string {
	return t.Format("Mon Jan 02 15:04:05 2006 UTC")
}

func runVerify(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("verify")
	quiet := fs.Bool("quiet", false, "no progress, no summary")
	asJSON := fs.Bool("json", false, "print the problems as JSON")
	refs := addRefFlag(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest, 1, 1, "IMAGE.wim"); err != nil {
		return err
	}
	r, err := openWIMRefs(rest[0], *refs)
	if err != nil {
		if errors.Is(err, wim.ErrFormat) {
			if *asJSON {
				if err := writeJSON(sio.Out, verifyJSON{Path: rest[0], OK: false, Images: 0, Problems: []wim.Problem{{What: "WIM", Message: err.Error()}}, Refs: []string{}}); err != nil {
					return err
				}
			}
			return refused(err)
		}
		return err
	}
	defer r.Close()
	pm := newProgress(sio, *quiet, "Verifying")
	problems, err := r.Verify(ctx, pm.callback())
	pm.finish()
	if err != nil {
		return fmt.Errorf("%s: %w", rest[0], err)
	}
	if *asJSON {
		if problems == nil {
			problems = []wim.Problem{}
		}
		used := r.RefFiles()
		if used == nil {
			used = []string{}
		}
		if err := writeJSON(sio.Out, verifyJSON{Path: rest[0], OK: len(problems) == 0, Images: len(r.Images()), Problems: problems, Refs: used}); err != nil {
			return err
		}
	} else {
		for _, p := range problems {
			fmt.Fprintf(sio.Out, "%s: %s\n", rest[0], p)
		}
	}
	if len(problems) > 0 {
		for _, p := range problems {
			// Data the images need is elsewhere: say how to give it.
			if len(*refs) == 0 && strings.Contains(p.Message, "which the WIM does not contain") {
				return refusedError("%s: %d problem(s) found; if it is a delta WIM or a split set, name the files holding its data with --ref", rest[0], len(problems))
			}
		}
		return refusedError("%s: %d problem(s) found", rest[0], len(problems))
	}
	if !*asJSON && !*quiet {
		fmt.Fprintf(sio.Out, "%s: OK (%d images, %s, in %s)\n", rest[0], len(r.Images()), humanBytes(r.Size()), pm.elapsed().Round(time.Millisecond))
	}
	return nil
}

// verifyJSON is verify's --json output.
type verifyJSON struct {
	Path     string        `json:"path"`
	OK       bool          `json:"ok"`
	Images   int           `json:"images"`
	Problems []wim.Problem `json:"problems"`
	// Refs are the --ref files used as such (not the parts of the
	// WIM's own split set).
	Refs []string `json:"refs"`
}

func hdrCompression(r *wim.Reader) wim.Compression {
	h := r.Header()
	return h.Compression()
}

// parseCompressLevel parses --compress: a compression name, or lzx:max for
// LZX at its slowest, smallest level.
func parseCompressLevel(s string) (wim.Compression, wim.CompressionLevel, error) {
	name, level, leveled := strings.Cut(s, ":")
	c, err := wim.ParseCompression(name)
	if err != nil || !leveled {
		return c, wim.CompressionLevelDefault, err
	}
	if c != wim.CompressLZX || strings.ToLower(level) != "max" {
		return c, 0, fmt.Errorf("unknown compression level %q", s)
	}
	return c, wim.CompressionLevelMax, nil
}
