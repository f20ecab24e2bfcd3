package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/reseal/reseal/hive"
	"github.com/reseal/reseal/sample"
	"github.com/reseal/reseal/sysprep"
	"github.com/reseal/reseal/wim"
)

// sampleCommands returns the sample-volume and demo commands.
func sampleCommands() []*command {
	return []*command{
		{Name: "sample", Summary: "write a realistic offline Windows volume to try reseal on, optionally with Sysprep blockers", Usage: sampleUsage, Run: runSample},
		{Name: "demo", Summary: "make a sample volume, preflight it, generalize it, capture it to a WIM and verify it", Usage: demoUsage, Run: runDemo},
	}
}

var sampleUsage = `reseal sample DIR [--windows 10|11|server2022] [--blocker NAME]... [--seed N] [--dirty]

Writes a realistic offline Windows volume into DIR (which must be absent or
empty), built with reseal's own hive writer: the SYSTEM, SOFTWARE, SAM,
SECURITY and DEFAULT hives and users' NTUSER.DAT, the Appx state repository
(SQLite with its WAL), event logs, a page file, setup logs, Sysprep's action
files and the other files a generalize run cleans. See docs/sample.md.

  --windows V    10 (default), 11 or server2022
  --blocker B    plant what makes Sysprep refuse the image (repeatable):
` + blockerHelp() + `
  --seed N       identifiers are drawn from N: the same N gives the same bytes (default 1)
  --dirty        leave SYSTEM as a machine switched off before the registry
                 flushed: the primary file holds the older state, SYSTEM.LOG1
                 (new-format log) the newest changes`

var demoUsage = `reseal demo [--keep DIR] [--windows 10|11|server2022] [--blocker NAME]... [--dirty]

Shows reseal end to end on a sample volume (see 'reseal help sample'): writes
it to a temporary directory, runs preflight, generalizes it, captures the
result to an XPRESS-compressed WIM with an integrity table and verifies that
WIM, then prints what was found, what was changed, and how long each step
took. With --blocker, preflight finds the blocker, generalize refuses, and
the demo shows that the volume was left byte for byte unchanged.

  --keep DIR     write the volume to DIR/volume and the WIM to DIR/sample.wim
                 and keep them (DIR must be absent or empty); default: a
                 temporary directory, removed at the end
  --windows V    10 (default), 11 or server2022
  --blocker B    plant a blocker (repeatable)
  --dirty        start from an unflushed SYSTEM hive (see 'reseal help sample')`

func blockerHelp() string {
	var sb strings.Builder
	for _, b := range sample.Blockers() {
		server := ""
		if b.NeedsServer {
			server = ", server only"
		}
		fmt.Fprintf(&sb, "                   %-15s preflight finds %s (%s%s)\n", b.Name, b.Finding, b.Severity, server)
	}
	return strings.TrimRight(sb.String(), "\n") + `
                 NAME is the first column; the finding's ID is accepted too,
                 in any letter case`
}

// sampleFlags are the flags sample and demo share.
type sampleFlags struct {
	windows  string
	blockers stringList
	seed     int64
	dirty    bool
}

// blockerByName finds a blocker by its name or by the ID of the finding it
// causes, in any letter case: help lists both.
func blockerByName(name string) (sample.Blocker, bool) {
	for _, b := range sample.Blockers() {
		if strings.EqualFold(b.Name, name) || strings.EqualFold(b.Finding, name) {
			return b, true
		}
	}
	return sample.Blocker{}, false
}

// options checks the flags and returns the sample's options, with a note
// for what the user did not ask for but gets (a server for a server-only
// blocker when no --windows was given).
func (sf *sampleFlags) options() (sample.Options, string, error) {
	if sf.windows != "" && !contains(sample.WindowsVersions(), sf.windows) {
		return sample.Options{}, "", usageError("--windows %s: want one of %s", sf.windows, strings.Join(sample.WindowsVersions(), ", "))
	}
	var names []string
	note := ""
	for _, name := range sf.blockers {
		b, ok := blockerByName(name)
		if !ok {
			return sample.Options{}, "", usageError("--blocker %s: want one of %s", name, strings.Join(sample.BlockerNames(), ", "))
		}
		if b.NeedsServer && (sf.windows == "10" || sf.windows == "11") {
			return sample.Options{}, "", usageError("--blocker %s needs --windows server2022", name)
		}
		if b.NeedsServer && sf.windows == "" {
			note = fmt.Sprintf("--blocker %s exists only on a server: writing Windows Server 2022 (--windows server2022 says so and silences this note)", b.Name)
		}
		if !contains(names, b.Name) {
			names = append(names, b.Name)
		}
	}
	return sample.Options{Windows: sf.windows, Blockers: names, Seed: sf.seed, Dirty: sf.dirty}, note, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func runSample(_ context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("sample")
	var sf sampleFlags
	fs.StringVar(&sf.windows, "windows", "", "10, 11 or server2022")
	fs.Var(&sf.blockers, "blocker", "blocker to plant (repeatable)")
	fs.Int64Var(&sf.seed, "seed", 1, "seed for identifiers")
	fs.BoolVar(&sf.dirty, "dirty", false, "leave SYSTEM unflushed, its newest changes in SYSTEM.LOG1")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError("want one DIR, got %d arguments", len(rest))
	}
	opts, note, err := sf.options()
	if err != nil {
		return err
	}
	if note != "" {
		fmt.Fprintf(sio.Err, "reseal sample: note: %s\n", note)
	}
	dir := rest[0]
	if err := sample.Write(dir, opts); err != nil {
		if errors.Is(err, sample.ErrNotEmpty) {
			return refusedError("%v: the sample is written only into an absent or empty directory", err)
		}
		return err
	}
	files, bytes, err := treeSize(dir)
	if err != nil {
		return err
	}
	desc := "clean"
	if len(opts.Blockers) > 0 {
		desc = "blockers: " + strings.Join(opts.Blockers, ", ")
	}
	if opts.Dirty {
		desc += "; SYSTEM unflushed (newest changes in SYSTEM.LOG1)"
	}
	fmt.Fprintf(sio.Out, "wrote a sample %s volume to %s (%d files, %s; %s)\n", windowsName(opts), dir, files, sampleSize(bytes), desc)
	fmt.Fprintf(sio.Out, "try: reseal preflight %s\n", quoteArg(dir))
	return nil
}

// windowsName is the release a sample of these options is, as people say it.
func windowsName(o sample.Options) string {
	w := o.Windows
	if w == "" {
		w = "10"
		if contains(o.Blockers, "role") { // the role blocker needs a server
			w = "server2022"
		}
	}
	if w == "server2022" {
		return "Windows Server 2022"
	}
	return "Windows " + w
}

func runDemo(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("demo")
	var sf sampleFlags
	var keep string
	fs.StringVar(&keep, "keep", "", "keep the volume and WIM in DIR")
	fs.StringVar(&sf.windows, "windows", "", "10, 11 or server2022")
	fs.Var(&sf.blockers, "blocker", "blocker to plant (repeatable)")
	fs.BoolVar(&sf.dirty, "dirty", false, "leave SYSTEM unflushed, its newest changes in SYSTEM.LOG1")
	sf.seed = 1
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return usageError("unexpected argument %q", rest[0])
	}
	opts, note, err := sf.options()
	if err != nil {
		return err
	}
	if note != "" {
		fmt.Fprintf(sio.Err, "reseal demo: note: %s\n", note)
	}
	base := keep
	if keep == "" {
		base, err = os.MkdirTemp("", "reseal-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(base)
	} else if entries, err := os.ReadDir(keep); err == nil && len(entries) > 0 {
		return refusedError("--keep %s: directory is not empty", keep)
	}
	d := &demo{out: sio.Out, volume: filepath.Join(base, "volume"), wimPath: filepath.Join(base, "sample.wim")}
	if err := d.run(ctx, opts); err != nil {
		return err
	}
	if keep != "" {
		fmt.Fprintf(sio.Out, "\nkept: volume %s, image %s\n", d.volume, d.wimPath)
	}
	return nil
}

// demo runs the steps and prints the report as it goes.
type demo struct {
	out     io.Writer
	volume  string
	wimPath string
	total   time.Duration
	before  demoSnapshot
}

func (d *demo) step(name string, f func() (string, error)) error {
	start := time.Now()
	summary, err := f()
	took := time.Since(start)
	d.total += took
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "%-11s %8s  %s\n", name, took.Round(time.Millisecond), summary)
	return nil
}

func (d *demo) run(ctx context.Context, opts sample.Options) error {
	sopts := sysprep.Options{}
	var pre *sysprep.Report
	var before string
	steps := []struct {
		name string
		f    func() (string, error)
	}{
		{"sample", func() (string, error) {
			if err := sample.Write(d.volume, opts); err != nil {
				return "", err
			}
			files, size, err := treeSize(d.volume)
			if err != nil {
				return "", err
			}
			desc := "no blockers"
			if len(opts.Blockers) > 0 {
				desc = "blockers: " + strings.Join(opts.Blockers, ", ")
			}
			if opts.Dirty {
				desc += "; SYSTEM unflushed, newest changes in SYSTEM.LOG1"
			}
			before, err = treeDigest(d.volume)
			if err == nil {
				d.before, err = takeDemoSnapshot(d.volume)
			}
			return fmt.Sprintf("%s volume, %d files, %s (%s)", windowsName(opts), files, sampleSize(size), desc), err
		}},
		{"preflight", func() (string, error) {
			var err error
			pre, err = sysprep.Preflight(ctx, d.volume, sopts)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%s: %s", pre.Installation, countSeverities(pre.Findings)), nil
		}},
	}
	for _, s := range steps {
		if err := d.step(s.name, s.f); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	printDemoFindings(d.out, pre.Findings)

	var gen *sysprep.Report
	refused := false
	err := d.step("generalize", func() (string, error) {
		var err error
		gen, err = sysprep.Generalize(ctx, d.volume, sopts)
		if errors.Is(err, sysprep.ErrRefused) {
			refused = true
			after, herr := treeDigest(d.volume)
			if herr != nil {
				return "", herr
			}
			state := "volume unchanged (same tree hash before and after)"
			if after != before {
				state = "VOLUME CHANGED despite the refusal"
			}
			return "refused by preflight: " + state, nil
		}
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%d changes by %d providers; %d action-file modules not run offline", len(gen.Actions), len(providers(gen.Actions)), len(gen.NotRunOffline)), nil
	})
	if err != nil {
		return fmt.Errorf("generalize: %w", err)
	}
	if refused {
		fmt.Fprintf(d.out, "\nSysprep would have refused this image too; reseal said why before changing anything.\n")
		return nil
	}
	printChanges(d.out, gen)
	after, err := takeDemoSnapshot(d.volume)
	if err != nil {
		return fmt.Errorf("read the generalized volume: %w", err)
	}
	printDemoSnapshots(d.out, d.before, after)

	var img wim.ImageInfo
	var wimSize int64
	err = d.step("capture", func() (string, error) {
		opts := wim.CaptureOptions{
			Name:        "reseal demo",
			Description: gen.Installation.String() + ", generalized offline by reseal",
			Compression: wim.CompressXPRESS,
			Check:       true,
		}
		describeWindows(&opts, gen.Installation, false, true)
		err := wim.Capture(ctx, d.volume, d.wimPath, opts)
		if err != nil {
			return "", err
		}
		st, err := os.Stat(d.wimPath)
		if err != nil {
			return "", err
		}
		wimSize = st.Size()
		line := fmt.Sprintf("%s, XPRESS, integrity table: %s", filepath.Base(d.wimPath), sampleSize(wimSize))
		// The volume's file count above and the image's below differ by
		// what capture leaves out as DISM does: say so here.
		if n, names, err := defaultExcluded(d.volume); err == nil && n > 0 {
			line += fmt.Sprintf("; %d file(s) left out by the default exclusions, as DISM leaves them out (%s)", n, strings.Join(names, ", "))
		}
		return line, nil
	})
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	err = d.step("verify", func() (string, error) {
		r, err := wim.Open(d.wimPath)
		if err != nil {
			return "", err
		}
		defer r.Close()
		problems, err := r.Verify(ctx, nil)
		if err != nil {
			return "", err
		}
		if len(problems) > 0 {
			return "", fmt.Errorf("%s: %d problem(s), first: %s", d.wimPath, len(problems), problems[0].Message)
		}
		imgs := r.Images()
		if len(imgs) != 1 {
			return "", fmt.Errorf("%s: %d images, want 1", d.wimPath, len(imgs))
		}
		img = imgs[0]
		return fmt.Sprintf("image 1 %q: %d dirs, %d files, %s; every blob and the integrity table check out",
			img.Name, img.DirCount, img.FileCount, sampleSize(img.TotalBytes)), nil
	})
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	fmt.Fprintf(d.out, "\ndone in %s: the image is generalized, captured and verified.\n", d.total.Round(time.Millisecond))
	return nil
}

// demoSnapshot is what the demo shows of a volume before and after.
type demoSnapshot struct {
	computerName, machineGUID, imageState, setupCmdLine string
	files                                               int
	bytes                                               int64
}

// takeDemoSnapshot reads a few telling values with reseal's hive reader.
func takeDemoSnapshot(root string) (demoSnapshot, error) {
	var s demoSnapshot
	read := func(hivePath, key, name string) (string, error) {
		h, err := hive.Open(filepath.Join(root, filepath.FromSlash(hivePath)), &hive.OpenOptions{ReadOnly: true})
		if err != nil {
			return "", err
		}
		defer h.Close()
		k, err := h.Root().OpenKey(key)
		if errors.Is(err, hive.ErrNotExist) {
			return "", nil
		} else if err != nil {
			return "", err
		}
		v, err := k.Value(name)
		if errors.Is(err, hive.ErrNotExist) {
			return "", nil
		} else if err != nil {
			return "", err
		}
		return v.String()
	}
	const system, software = "Windows/System32/config/SYSTEM", "Windows/System32/config/SOFTWARE"
	var err error
	for _, r := range []struct {
		dst             *string
		hive, key, name string
	}{
		{&s.computerName, system, `ControlSet001\Control\ComputerName\ComputerName`, "ComputerName"},
		{&s.setupCmdLine, system, `Setup`, "CmdLine"},
		{&s.machineGUID, software, `Microsoft\Cryptography`, "MachineGuid"},
		{&s.imageState, software, `Microsoft\Windows\CurrentVersion\Setup\State`, "ImageState"},
	} {
		if *r.dst, err = read(r.hive, r.key, r.name); err != nil {
			return s, err
		}
	}
	s.files, s.bytes, err = treeSize(root)
	return s, err
}

func printDemoSnapshots(w io.Writer, before, after demoSnapshot) {
	show := func(v string) string {
		if v == "" {
			return "(none)"
		}
		return v
	}
	rows := [][3]string{
		{"computer name", before.computerName, after.computerName},
		{"MachineGuid", before.machineGUID, after.machineGUID},
		{"ImageState", before.imageState, after.imageState},
		{"next boot", before.setupCmdLine, after.setupCmdLine},
		{"files", fmt.Sprintf("%d, %s", before.files, sampleSize(before.bytes)), fmt.Sprintf("%d, %s", after.files, sampleSize(after.bytes))},
	}
	for _, r := range rows {
		fmt.Fprintf(w, "            %-13s %s -> %s\n", r[0], show(r[1]), show(r[2]))
	}
}

func countSeverities(fs []sysprep.Finding) string {
	var e, w int
	for _, f := range fs {
		switch f.Severity {
		case sysprep.SeverityError:
			e++
		case sysprep.SeverityWarning:
			w++
		}
	}
	return fmt.Sprintf("%d error(s), %d warning(s)", e, w)
}

func printDemoFindings(w io.Writer, fs []sysprep.Finding) {
	for _, f := range fs {
		if f.Severity == sysprep.SeverityInfo {
			continue
		}
		fmt.Fprintf(w, "            %-7s %s: %s\n", f.Severity, f.ID, f.Message)
		if f.Fix != "" {
			fmt.Fprintf(w, "                    fix: %s\n", f.Fix)
		}
	}
}

// providers lists the providers of a plan in the order they first act.
func providers(actions []sysprep.Action) []string {
	var names []string
	for _, a := range actions {
		if !contains(names, a.Provider) {
			names = append(names, a.Provider)
		}
	}
	return names
}

// printChanges summarises the plan: per provider, how many changes and
// the first few things changed, named shortly (value name, key or file).
func printChanges(w io.Writer, r *sysprep.Report) {
	const shown = 4
	for _, p := range providers(r.Actions) {
		var labels []string
		n := 0
		for _, a := range r.Actions {
			if a.Provider != p {
				continue
			}
			n++
			if l := actionLabel(a); len(labels) < shown && !contains(labels, l) {
				labels = append(labels, l)
			}
		}
		more := ""
		if n > len(labels) {
			more = ", ..."
		}
		fmt.Fprintf(w, "            %-13s %3d  %s%s\n", p, n, strings.Join(labels, ", "), more)
	}
	for _, m := range r.NotRunOffline {
		fmt.Fprintf(w, "            not run offline: %s\n", m)
	}
}

// actionLabel names what an action changes in a word or two: the value's
// name for value changes, else the last element of the key or file path.
func actionLabel(a sysprep.Action) string {
	if a.Value != "" {
		return a.Value
	}
	parts := strings.FieldsFunc(a.Target, func(r rune) bool { return r == '\\' || r == '/' })
	if len(parts) == 0 {
		return a.Target
	}
	label := parts[len(parts)-1]
	if _, err := strconv.Atoi(label); err == nil {
		label = "driver keys" // Control\Class\{GUID}\0000
	}
	const max = 40
	if len(label) > max {
		label = label[:max-3] + "..."
	}
	return label
}

// defaultExcluded counts the files below root that capture's default
// exclusions leave out, and names the excluded entries holding them.
func defaultExcluded(root string) (int, []string, error) {
	cfg := wim.DefaultCaptureConfig()
	n := 0
	var names []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if !cfg.Excludes(filepath.ToSlash(rel)) {
			return nil
		}
		files := 1
		if d.IsDir() {
			if files, _, err = treeSize(p); err != nil {
				return err
			}
		}
		if files > 0 {
			names = append(names, filepath.ToSlash(rel))
			n += files
		}
		if d.IsDir() {
			return filepath.SkipDir
		}
		return nil
	})
	return n, names, err
}

// treeDigest hashes every path, kind and file content below dir: equal
// digests mean an unchanged tree.
func treeDigest(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%v\x00", filepath.ToSlash(rel), d.Type())
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(h, f)
		return err
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

// treeSize counts the regular files below dir and their bytes.
func treeSize(dir string) (files int, size int64, err error) {
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			files++
			size += info.Size()
		}
		return nil
	})
	return files, size, err
}

func sampleSize(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

func quoteArg(s string) string {
	if strings.ContainsAny(s, " \t'\"") {
		return strconv.Quote(s)
	}
	return s
}
