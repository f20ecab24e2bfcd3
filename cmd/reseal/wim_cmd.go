package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/reseal/reseal/sysprep"
	"github.com/reseal/reseal/wim"
	"github.com/reseal/reseal/winimage"
)

// wimCommands returns the commands of this area. An area lists a command
// here only once it works: unfinished features stay out of 'reseal help'.
func wimCommands() []*command {
	return []*command{
		{Name: "capture", Summary: "capture a directory tree into a new WIM or as a new image of one", Usage: captureUsage, Run: runCapture},
		{Name: "apply", Summary: "apply (extract) an image of a WIM to a directory", Usage: applyUsage, Run: runApply},
		{Name: "info", Summary: "show a WIM's header and images, like wiminfo", Usage: infoUsage, Run: runInfo},
		{Name: "verify", Summary: "check every hash, the integrity table and the metadata of a WIM", Usage: verifyUsage, Run: runVerify},
	}
}

const captureUsage = `reseal capture SRC DEST.wim [--name N] [--description D] [--compress none|xpress|lzx]
               [--chunk-size BYTES] [--threads N] [--check] [--append] [--config FILE]
               [--exclude GLOB]... [--flags EDITION] [--boot] [--quiet]

Capture the directory tree SRC as an image of DEST.wim: a new WIM, or with
--append a new image at the end of an existing one (keeping its compression).
Compression defaults to XPRESS (DISM's /Compress:fast); LZX is /Compress:maximum.
File data is deduplicated by SHA-1 across files and images and compressed in
parallel (--threads, default all cores). --check adds an integrity table.
--flags sets the image's FLAGS (DISM's /Flags); --boot makes it the boot image.
--config reads a WimScript.ini exclusion list ([ExclusionList],
[ExclusionException]); without it pagefile.sys, hiberfil.sys, swapfile.sys,
System Volume Information, $Recycle.Bin and Windows\CSC are left out.
Symbolic links become reparse points; absolute targets inside SRC are stored
relative to the image root (wimlib's --rpfix). The WIM is written to a
temporary file and renamed into place when complete.`

const applyUsage = `reseal apply IMAGE.wim [INDEX|NAME] DEST [--quiet]

Extract one image (by 1-based index or by name; optional when the WIM has one
image) into the directory DEST, which is created if needed: files, directories,
hard links, symbolic links and junctions, timestamps. The image is checked
before anything is written: names with '..', '/', '\', NUL or a drive, links
leading out of DEST and inconsistent metadata are refused (exit 1). File data is
written under a temporary name and renamed only once its SHA-1 matches.`

const infoUsage = `reseal info IMAGE.wim [--json]

Show the WIM's header (GUID, version, compression, chunk size, boot index,
integrity table) and each image's name, description, counts, sizes and times.
--json prints an object with a top-level "images" array.`

const verifyUsage = `reseal verify IMAGE.wim [--json] [--quiet]

Check the integrity table (if present), every metadata resource and every blob
(decompression and SHA-1). Exit 1 and list the problems when anything is wrong.`

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
	compress := fs.String("compress", "xpress", "none, xpress or lzx")
	chunkSize := fs.Int("chunk-size", 0, "chunk size in bytes (default 32768)")
	threads := fs.Int("threads", 0, "compression threads (default: all cores)")
	check := fs.Bool("check", false, "write an integrity table")
	appendImage := fs.Bool("append", false, "append to an existing WIM")
	flags := fs.String("flags", "", "the image's FLAGS (the edition, e.g. Professional), as DISM's /Flags")
	boot := fs.Bool("boot", false, "make the new image the WIM's boot image (WinPE)")
	config := fs.String("config", "", "WimScript.ini exclusion file")
	var excludes stringList
	fs.Var(&excludes, "exclude", "exclusion glob (repeatable)")
	quiet := fs.Bool("quiet", false, "no progress")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 2 {
		return usageError("want SRC DEST.wim")
	}
	comp, err := wim.ParseCompression(*compress)
	if err != nil || comp == wim.CompressLZMS {
		return usageError("--compress: want none, xpress or lzx, not %q", *compress)
	}
	if *threads < 0 {
		return usageError("--threads: want a positive number")
	}
	opts := wim.CaptureOptions{
		Name: *name, Description: *desc, Compression: comp, ChunkSize: *chunkSize, Threads: *threads,
		Check: *check, Append: *appendImage, Exclude: excludes, Flags: *flags, Boot: *boot,
		Warning: func(msg string) { fmt.Fprintf(sio.Err, "reseal capture: warning: %s\n", msg) },
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
	// A Windows volume is held while it is read: no reseal run may change
	// it meanwhile, and one interrupted there is finished or rolled back
	// first, so a half-generalized image is never captured.
	res, err := sysprep.Reserve(rest[0])
	switch {
	case err == nil:
		defer res.Release()
		if res.Journal != "" {
			fmt.Fprintf(sio.Err, "reseal capture: %s: %s\n", rest[0], res.Journal)
		}
		describeWindows(&opts, res.Installation, *name == "", *flags == "")
	case errors.Is(err, winimage.ErrNotWindows):
		// A plain directory tree.
	default:
		return err
	}
	pm := newProgress(sio, *quiet, "Capturing")
	opts.Progress = pm.callback()
	err = wim.Capture(ctx, rest[0], rest[1], opts)
	pm.finish()
	return err
}

// describeWindows fills in what DISM records of a captured Windows
// installation, so that wiminfo and deployment tools see the edition and
// version: the <WINDOWS> element, and the name, display name and flags
// (the edition) unless the user gave them. reseal's own lock and journal
// are left out of the image.
func describeWindows(opts *wim.CaptureOptions, inst winimage.Installation, setName, setFlags bool) {
	opts.Exclude = append(opts.Exclude, sysprep.ControlFiles()...)
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
	if setName && inst.ProductName != "" {
		opts.Name = inst.ProductName
		opts.DisplayName = inst.ProductName
	}
	if setFlags {
		opts.Flags = inst.EditionID
	}
}

func runApply(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("apply")
	quiet := fs.Bool("quiet", false, "no progress")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	var wimPath, image, dest string
	switch len(rest) {
	case 2:
		wimPath, dest = rest[0], rest[1]
	case 3:
		wimPath, image, dest = rest[0], rest[1], rest[2]
	default:
		return usageError("want IMAGE.wim [INDEX|NAME] DEST")
	}
	r, err := openWIM(wimPath)
	if err != nil {
		return err
	}
	defer r.Close()
	index, err := r.ImageIndex(image)
	if err != nil {
		return usageError("%s: %v", wimPath, err)
	}
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
		return fmt.Errorf("%s: %w", wimPath, err)
	}
	return nil
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

func runInfo(_ context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("info")
	asJSON := fs.Bool("json", false, "print as JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError("want IMAGE.wim")
	}
	r, err := openWIM(rest[0])
	if err != nil {
		return err
	}
	defer r.Close()
	h := r.Header()
	info := wimInfoJSON{
		Path: rest[0], GUID: fmt.Sprintf("0x%x", h.GUID[:]), Version: h.Version, ImageCount: int(h.ImageCount),
		Compression: h.Compression().String(), ChunkSize: h.ChunkSize, PartNumber: h.PartNumber, TotalParts: h.TotalParts,
		BootIndex: h.BootIndex, Size: r.Size(), Integrity: h.HasIntegrity(), RPFix: h.RPFix(), Images: r.Images(),
	}
	if info.Compression == "none" {
		info.Compression = "None"
	}
	if *asJSON {
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
			fmt.Fprintf(w, "Architecture:           %s\nProduct Name:           %s\nEdition ID:             %s\nInstallation Type:      %s\nProduct Type:           %s\nLanguages:              %s\nDefault Language:       %s\nSystem Root:            %s\nVersion:                %s\n",
				wi.Architecture, wi.ProductName, wi.EditionID, wi.InstallationType, wi.ProductType, strings.Join(wi.Languages, " "), wi.DefaultLanguage, wi.SystemRoot, wi.Version)
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
	quiet := fs.Bool("quiet", false, "no progress")
	asJSON := fs.Bool("json", false, "print the problems as JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError("want IMAGE.wim")
	}
	r, err := wim.Open(rest[0])
	if err != nil {
		if errors.Is(err, wim.ErrFormat) {
			if *asJSON {
				writeJSON(sio.Out, map[string]any{"path": rest[0], "ok": false, "problems": []wim.Problem{{What: "WIM", Message: err.Error()}}})
			}
			return refusedError("%v", err)
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
		if err := writeJSON(sio.Out, map[string]any{"path": rest[0], "ok": len(problems) == 0, "problems": problems}); err != nil {
			return err
		}
	} else {
		for _, p := range problems {
			fmt.Fprintf(sio.Out, "%s: %s\n", rest[0], p)
		}
	}
	if len(problems) > 0 {
		return refusedError("%s: %d problem(s) found", rest[0], len(problems))
	}
	if !*asJSON {
		fmt.Fprintf(sio.Out, "%s: OK (%d images)\n", rest[0], len(r.Images()))
	}
	return nil
}
