package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/reseal/reseal/hive"
	"github.com/reseal/reseal/hive/regfile"
	"github.com/reseal/reseal/internal/atomicfile"
)

const regExportUsage = `reseal reg export HIVE [KEY] [--prefix P] [-o FILE] [--utf8]

Write KEY (default: the root key) and everything below it as a regedit
"Windows Registry Editor Version 5.00" file, in UTF-16LE with a byte order
mark as regedit writes it (--utf8 for UTF-8), to FILE (replaced
atomically) or standard output. --prefix names the hive's place in the
registry, e.g. 'HKEY_LOCAL_MACHINE\SYSTEM'; without it key paths are
relative to the hive's root, as hivex writes them ([\], [\Select]).
HIVE may also be a disk image (raw, VHD, VHDX, qcow2; DISK or DISK:PART)
followed by the hive's path inside its Windows volume, read without
mounting: reseal reg export disk.qcow2 Windows/System32/config/SYSTEM.`

const regImportUsage = `reseal reg import HIVE FILE.reg [--prefix P] [--dry-run] [--backup]

Apply a regedit file (UTF-16LE or UTF-8, "Windows Registry Editor Version
5.00" or REGEDIT4; FILE.reg "-" reads standard input) to HIVE: [KEY] creates
keys, "name"=data sets values, [-KEY] deletes a key, "name"=- a value.
--prefix is stripped from every key path (e.g. 'HKEY_LOCAL_MACHINE\SYSTEM');
a key outside it is an error. The whole file is applied in memory first: a
bad line (reported with its number) leaves the hive untouched. --dry-run
lists each change and writes nothing; --backup copies the hive to HIVE.bak
before writing.`

func runRegExport(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("reg export")
	prefix := fs.String("prefix", "", `registry path of the hive's root, e.g. 'HKEY_LOCAL_MACHINE\SYSTEM'`)
	out := fs.String("o", "", "write to this file instead of standard output")
	utf8 := fs.Bool("utf8", false, "write UTF-8 instead of UTF-16LE")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	path, key, err := hiveKeyArgs(pos)
	if err != nil {
		return err
	}
	h, k, _, err := openHiveKey(ctx, path, key, true)
	if err != nil {
		return err
	}
	defer h.Close()
	opts := &regfile.ExportOptions{Prefix: *prefix, Encoding: regfile.UTF16LE}
	if *utf8 {
		opts.Encoding = regfile.UTF8
	}
	export := func(w io.Writer) error {
		if err := regfile.Export(ctx, w, k, opts); err != nil {
			return fmt.Errorf("%s: export: %w", path, err)
		}
		return nil
	}
	if *out == "" || *out == "-" {
		return export(sio.Out)
	}
	return atomicfile.WriteFile(*out, 0o644, export)
}

func runRegImport(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("reg import")
	prefix := fs.String("prefix", "", `registry path of the hive's root, stripped from the file's keys`)
	wf := addWriteFlags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError("want HIVE FILE.reg")
	}
	path, regPath := pos[0], pos[1]
	var in io.Reader = sio.In
	if regPath != "-" {
		f, err := os.Open(regPath)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	h, err := openHive(ctx, path, false)
	if err != nil {
		return err
	}
	defer h.Close()
	opts := &regfile.ImportOptions{Prefix: *prefix}
	if *wf.dryRun {
		opts.OnChange = func(c regfile.Change) { printChange(sio.Out, c) }
	}
	stats, err := regfile.Import(ctx, h.Root(), in, opts)
	if err != nil {
		return fmt.Errorf("%s: %w (nothing written to %s)", regPath, err, path)
	}
	what := regPath
	if *wf.dryRun {
		what = "dry run of " + regPath
	}
	fmt.Fprintf(sio.Out, "%s: %d keys created, %d values set, %d unchanged, %d keys deleted, %d values deleted\n",
		what, stats.KeysCreated, stats.ValuesSet, stats.ValuesUnchanged, stats.KeysDeleted, stats.ValuesDeleted)
	changed := stats.KeysCreated+stats.ValuesSet+stats.KeysDeleted+stats.ValuesDeleted > 0
	return finishWrite(sio, h, path, wf, changed)
}

func printChange(w io.Writer, c regfile.Change) {
	switch c.Kind {
	case regfile.CreateKey:
		fmt.Fprintf(w, "line %d: would create key %s\n", c.Line, displayPath(c.Path))
	case regfile.DeleteKey:
		fmt.Fprintf(w, "line %d: would delete key %s\n", c.Line, displayPath(c.Path))
	case regfile.SetValue:
		fmt.Fprintf(w, "line %d: would set %s: %s %s\n", c.Line, valuePath(c.Path, c.Name), c.Type, dataText(hive.Value{Name: c.Name, Type: c.Type, Data: c.Data}))
	case regfile.DeleteValue:
		fmt.Fprintf(w, "line %d: would delete value %s\n", c.Line, valuePath(c.Path, c.Name))
	}
}
