package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/reseal/reseal/sysprep"
)

// sysprepCommands returns the commands of this area. An area lists a command
// here only once it works: unfinished features stay out of 'reseal help'.
func sysprepCommands() []*command {
	return []*command{
		{Name: "preflight", Summary: "check an offline Windows volume for everything that makes Sysprep refuse it", Usage: preflightUsage, Run: runPreflight},
		{Name: "generalize", Summary: "generalize an offline Windows volume the way Sysprep does (journaled, all or nothing)", Usage: generalizeUsage, Run: runGeneralize},
		{Name: "sysprep", Summary: "generalize with Sysprep's own switches (/generalize /oobe /unattend:FILE ...)", Usage: sysprepUsage, Run: runSysprep},
		{Name: "inspect", Summary: "say what an offline installation's next boot does: generalized, audit or complete (--expect gates pipelines)", Usage: inspectUsage, Run: runInspect},
	}
}

const preflightUsage = `reseal preflight TARGET [--unattend FILE] [--user NAME|SID] [--json] [--quiet]

Runs every check Sysprep's generalize would fail on, on the offline Windows
volume at TARGET (the directory holding Windows\System32\config, an image
inside a WIM: IMAGE.wim:INDEX or IMAGE.wim:NAME, or a disk image — raw, VHD,
VHDX, qcow2; DISK or DISK:PART — whose NTFS volume is read without mounting;
a volume not cleanly shut down is an error), and changes
nothing: Store apps installed for a user but not provisioned, pending
servicing, an upgraded installation older than Windows 10 1607, unsupported
server roles and NPS RADIUS configuration, the 1001-run limit, an image left
invalid by a failed run, a hibernated volume, answer file errors; warnings
for stale answer files and domain membership.

An interrupted reseal generalize on TARGET is finished or rolled back first,
and the output says which. One reseal command at a time works on TARGET: it
holds TARGET/reseal.lock while it runs, and a second one stops with exit
status 3, naming the lock's holder.

  --unattend F  answer file to validate with the volume
  --user U      the account whose NTUSER.DAT is HKEY_CURRENT_USER for the
                image's action files (profile folder name or SID; default:
                the built-in Administrator, as Sysprep in audit mode)
  --json        print the report as JSON (docs/json.md)
  --quiet       print nothing when no check finds an error; otherwise only
                the findings, on standard error

Exit status 1 when a check finds an error.`

const generalizeUsage = `reseal generalize TARGET [--oobe|--audit] [--mode vm] [--unattend FILE] [--user NAME|SID] [--dry-run] [--json] [--quiet]
       reseal generalize IMAGE.wim:INDEX|NAME (-o OUT.wim | --append [--name NAME]) [options]

Runs preflight and, when it finds no error, generalizes the offline Windows
volume at TARGET: image state and next-boot setup (specialize, then OOBE or
audit mode), the answer file's generalize pass (cached to
Windows\Panther\unattend.xml), Plug and Play device installs, machine
identity (computer name, MachineGuid, SusClientId, DHCP leases and DUID,
network profiles, ...), machine-specific files, the built-in Administrator,
the image's own Sysprep action files, and Sysprep's Panther logs.

The change is journaled in TARGET\reseal-journal and carried out with
atomic renames: if it is interrupted, the next reseal command on TARGET
finishes it or rolls it back, and records which in setupact.log. While it
runs it holds TARGET/reseal.lock; a second command on TARGET stops with exit
status 3. A lock left by a killed run on this host is taken over; one from
another host is kept, and the error says how to remove it.

  --oobe        next boot runs specialize, then OOBE (default)
  --audit       next boot runs specialize, then audit mode
  --mode vm     keep device installs (image redeployed on the same virtual hardware)
  --unattend F  answer file: validated, generalize pass applied, cached for the next boot
  --user U      the account whose NTUSER.DAT is HKEY_CURRENT_USER for the
                image's action files (profile folder name or SID; default:
                the built-in Administrator); no other user's hive is touched
  --dry-run     print every key, value and file the run would change; change nothing
  --json        print the report as JSON (docs/json.md)
  --quiet       print only errors (as sysprep's /quiet)
  -o OUT.wim    (TARGET inside a WIM) write the generalized image to a new WIM
  --append      (TARGET inside a WIM) add the generalized image to the source WIM
  --name NAME   (with --append or -o) the new image's name

` + wimOutputUsage + `

Exit status 1 when preflight finds an error (nothing is changed).`

const sysprepUsage = `reseal sysprep TARGET /generalize [/oobe | /audit] [/mode:vm] [/unattend:FILE]
               [/reboot | /shutdown | /quit] [/quiet] [--user:NAME|SID]

Sysprep's command line, for scripts written for sysprep.exe: the switches are
case-insensitive and mean what they mean to Sysprep, applied to the offline
volume at TARGET (see 'reseal help generalize'). /oobe and /audit exclude each
other, as do /reboot, /shutdown and /quit; /mode:vm needs /generalize and is
not valid with /audit. /reboot, /shutdown and /quit are accepted and have
nothing to act on offline. /quiet prints only errors. --user:NAME (or
/user:NAME), which sysprep.exe does not have, names the account whose hive is
HKEY_CURRENT_USER, as 'reseal help generalize' describes.

For a TARGET inside a WIM (IMAGE.wim:INDEX), reseal's own switches
/output:OUT.wim or /append (with /name:NAME) say where the generalized image
goes, as -o and --append do for 'reseal generalize'.`

// volumeFlags are the flags shared by preflight and generalize.
type volumeFlags struct {
	unattend string
	user     string
	asJSON   bool
	quiet    bool
}

func runPreflight(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("preflight")
	var vf volumeFlags
	fs.StringVar(&vf.unattend, "unattend", "", "answer file to validate")
	fs.StringVar(&vf.user, "user", "", "account whose hive is HKEY_CURRENT_USER")
	fs.BoolVar(&vf.asJSON, "json", false, "print the report as JSON")
	fs.BoolVar(&vf.quiet, "quiet", false, "print only errors")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest, 1, 1, "one TARGET"); err != nil {
		return err
	}
	target := rest[0]
	opts := sysprep.Options{UnattendPath: vf.unattend, User: vf.user}
	b, err := openWIMTarget(target)
	if err != nil {
		return err
	}
	var r *sysprep.Report
	switch {
	case b != nil:
		defer b.Close()
		opts.Backend = b
		r, err = sysprep.Preflight(ctx, target, opts)
	case isDiskTarget(target):
		r, err = preflightDisk(ctx, target, opts)
	default:
		if err := checkTarget(target); err != nil {
			return err
		}
		r, err = sysprep.Preflight(ctx, target, opts)
	}
	noteRecovery(sio, r, vf.quiet)
	if err != nil {
		return err
	}
	switch {
	case vf.asJSON:
		if err := writeJSON(sio.Out, r.JSONReady()); err != nil {
			return err
		}
	case vf.quiet:
		if r.HasErrors() {
			printFindings(sio.Err, r.Findings)
		}
	default:
		printHeader(sio.Out, r)
		printFindings(sio.Out, r.Findings)
	}
	if r.HasErrors() {
		return refusedError("preflight found %s; nothing was changed", countFindings(r.Findings))
	}
	if !vf.asJSON && !vf.quiet {
		fmt.Fprintf(sio.Out, "preflight passed: %s\n", countFindings(r.Findings))
	}
	return nil
}

// generalizeRequest is a generalize run as either command line describes it.
type generalizeRequest struct {
	target string
	opts   sysprep.Options
	asJSON bool
	quiet  bool
	notes  []string // what the command line asked for that has no offline effect
	wimOut wimOutputFlags
}

func runGeneralize(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("generalize")
	oobe := fs.Bool("oobe", false, "next boot runs specialize, then OOBE (default)")
	audit := fs.Bool("audit", false, "next boot runs specialize, then audit mode")
	mode := fs.String("mode", "", `"vm": keep device installs`)
	unattendPath := fs.String("unattend", "", "answer file")
	user := fs.String("user", "", "account whose hive is HKEY_CURRENT_USER")
	dryRun := fs.Bool("dry-run", false, "print the plan and change nothing")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	quiet := fs.Bool("quiet", false, "print only errors")
	var wo wimOutputFlags
	fs.StringVar(&wo.out, "o", "", "TARGET inside a WIM: write the generalized image to this new WIM")
	fs.BoolVar(&wo.append, "append", false, "TARGET inside a WIM: add the generalized image to the source WIM")
	fs.StringVar(&wo.name, "name", "", "the new image's name")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest, 1, 1, "one TARGET"); err != nil {
		return err
	}
	if *oobe && *audit {
		return usageError("--oobe and --audit exclude each other")
	}
	req := generalizeRequest{target: rest[0], asJSON: *asJSON, quiet: *quiet, wimOut: wo}
	switch strings.ToLower(*mode) {
	case "":
	case "vm":
		req.opts.VM = true
		if *audit {
			return usageError("--mode vm is valid only with --oobe, as for Sysprep's /mode:vm")
		}
	default:
		return usageError("--mode %q: the only mode is vm", *mode)
	}
	if *audit {
		req.opts.Mode = sysprep.ModeAudit
	}
	req.opts.UnattendPath = *unattendPath
	req.opts.User = *user
	req.opts.DryRun = *dryRun
	return doGeneralize(ctx, sio, req)
}

// sysprepSwitches are the switches sysprep.exe knows.
var sysprepSwitches = map[string]bool{
	"generalize": true, "oobe": true, "audit": true, "quiet": true, "reboot": true,
	"shutdown": true, "quit": true, "mode": true, "unattend": true, "user": true,
	"output": true, "append": true, "name": true, // reseal's, for a TARGET inside a WIM
}

// isSysprepSwitch tells a switch (/oobe, -OOBE, /unattend:FILE) from the
// TARGET, which on Unix may itself start with a slash. "/word" that is not
// a known switch and not an existing path is taken as a mistyped switch.
func isSysprepSwitch(a string) bool {
	if !strings.HasPrefix(a, "/") && !strings.HasPrefix(a, "-") {
		return false
	}
	name, _ := switchName(a)
	if sysprepSwitches[strings.ToLower(name)] {
		return true
	}
	if strings.Contains(strings.TrimLeft(a, "/-"), "/") {
		return false
	}
	_, err := os.Stat(a)
	return err != nil
}

// parseSysprepSwitches reads sysprep.exe's command line.
func parseSysprepSwitches(args []string) (generalizeRequest, error) {
	var req generalizeRequest
	seen := map[string]bool{}
	var shutdown []string
	// On Unix the TARGET may start with a slash like a switch: an argument
	// that is neither a known switch nor an existing path is the TARGET when
	// no other argument is, so that a missing volume is reported as missing
	// ("/nonexistent: no such file or directory"), not as an unknown switch.
	var unknown []string
	for _, a := range args {
		if !isSysprepSwitch(a) {
			if req.target != "" {
				return req, usageError("want one TARGET, got %q and %q", req.target, a)
			}
			req.target = a
			continue
		}
		name, value, hasValue := switchParts(a)
		name = strings.ToLower(name)
		if seen[name] {
			return req, usageError("%s given twice", a)
		}
		seen[name] = true
		switch name {
		case "generalize", "oobe", "audit", "quiet", "reboot", "shutdown", "quit", "append":
			if hasValue {
				return req, usageError("%s takes no value", a)
			}
			req.wimOut.append = req.wimOut.append || name == "append"
		case "output", "name":
			if value == "" {
				return req, usageError("/%s needs a value: /%s:%s", name, name, map[string]string{"output": "OUT.wim", "name": "NAME"}[name])
			}
			if name == "output" {
				req.wimOut.out = value
			} else {
				req.wimOut.name = value
			}
		case "mode":
			if !strings.EqualFold(value, "vm") {
				return req, usageError("%s: the only mode is /mode:vm", a)
			}
		case "unattend":
			if value == "" {
				return req, usageError("/unattend needs a file: /unattend:FILE")
			}
			req.opts.UnattendPath = value
		case "user":
			if value == "" {
				return req, usageError("%s needs an account: --user:NAME or --user:SID", a)
			}
			req.opts.User = value
		default:
			if hasValue || !strings.HasPrefix(a, "/") {
				return req, usageError("unknown switch %s", a)
			}
			delete(seen, name)
			unknown = append(unknown, a)
			continue
		}
		switch name {
		case "reboot", "shutdown", "quit":
			shutdown = append(shutdown, "/"+name)
		}
	}
	switch {
	case req.target == "" && len(unknown) == 1:
		req.target = unknown[0]
	case len(unknown) > 0:
		return req, usageError("unknown switch %s", unknown[0])
	}
	if req.target == "" {
		return req, usageError("want a TARGET volume")
	}
	if len(seen) == 0 {
		return req, usageError("no switches: sysprep.exe would open its window; give /generalize /oobe (or /audit)")
	}
	if seen["oobe"] && seen["audit"] {
		return req, usageError("/oobe and /audit exclude each other")
	}
	if len(shutdown) > 1 {
		return req, usageError("%s exclude each other", strings.Join(shutdown, " and "))
	}
	if seen["mode"] && !seen["generalize"] {
		return req, usageError("/mode:vm is valid only with /generalize")
	}
	if seen["mode"] && seen["audit"] {
		return req, usageError("/mode:vm is not valid with /audit")
	}
	if !seen["generalize"] {
		return req, usageError("without /generalize Sysprep only changes what the next boot runs; reseal works offline on /generalize runs")
	}
	if seen["audit"] {
		req.opts.Mode = sysprep.ModeAudit
	}
	req.opts.VM = seen["mode"]
	req.quiet = seen["quiet"]
	for _, s := range shutdown {
		req.notes = append(req.notes, s+" has nothing to act on offline: the volume is not running (reseal leaves it as a generalized volume, as if shut down)")
	}
	return req, nil
}

func runSysprep(ctx context.Context, sio *stdio, args []string) error {
	req, err := parseSysprepSwitches(args)
	if err != nil {
		return err
	}
	return doGeneralize(ctx, sio, req)
}

func doGeneralize(ctx context.Context, sio *stdio, req generalizeRequest) error {
	b, err := openWIMTarget(req.target)
	if err != nil {
		return err
	}
	if b != nil {
		defer b.Close()
		req.opts.Backend = b
	} else if err := checkTarget(req.target); err != nil {
		return err
	}
	if err := setWIMOutput(b, req.wimOut, req.opts.DryRun); err != nil {
		return err
	}
	r, err := sysprep.Generalize(ctx, req.target, req.opts)
	noteRecovery(sio, r, req.quiet)
	refused := errors.Is(err, sysprep.ErrRefused)
	if err != nil && !refused {
		return err
	}
	switch {
	case req.asJSON:
		notes := req.notes
		if notes == nil {
			notes = []string{}
		}
		if err := writeJSON(sio.Out, struct {
			*sysprep.Report
			DryRun bool     `json:"dry_run"`
			Notes  []string `json:"notes"`
		}{r.JSONReady(), req.opts.DryRun, notes}); err != nil {
			return err
		}
	case req.quiet:
		if refused {
			printFindings(sio.Err, r.Findings)
		}
	default:
		printHeader(sio.Out, r)
		printFindings(sio.Out, r.Findings)
		if !refused {
			printPlan(sio.Out, r, req.opts.DryRun)
		}
		for _, n := range req.notes {
			fmt.Fprintln(sio.Out, n)
		}
	}
	if refused {
		return refusedError("preflight found %s; nothing was changed", countFindings(r.Findings))
	}
	if !req.asJSON && !req.quiet {
		if req.opts.DryRun {
			fmt.Fprintf(sio.Out, "dry run: %d actions planned; nothing was changed\n", len(r.Actions))
		} else {
			fmt.Fprintf(sio.Out, "generalized: %d actions carried out; next boot: specialize, then %s\n", len(r.Actions), modeName(req.opts.Mode))
			if b != nil {
				fmt.Fprintf(sio.Out, "written: %s\n", describeWIMOutput(b))
			}
		}
	}
	return nil
}

// checkTarget fails naming the TARGET the user gave when it is missing or
// not a directory, before anything inside it (the lock, the hives) is
// opened and named in the error instead.
func checkTarget(target string) error {
	st, err := os.Stat(target)
	if err != nil {
		return fmt.Errorf("%s: %w", target, unwrapPathError(err))
	}
	if !st.IsDir() {
		return fmt.Errorf("%s: not a directory (want the offline Windows volume, the directory holding Windows\\System32\\config)", target)
	}
	return nil
}

// noteRecovery says on stderr what the journal recovery at the start of
// the run did. The engine recovers under the volume lock and records the
// same note in the report and in the run's Panther log.
func noteRecovery(sio *stdio, r *sysprep.Report, quiet bool) {
	if r != nil && r.Journal != "" && !quiet {
		fmt.Fprintf(sio.Err, "reseal: journal: %s\n", r.Journal)
	}
	if r != nil && r.Lock != "" && !quiet {
		fmt.Fprintf(sio.Err, "reseal: lock: %s\n", r.Lock)
	}
}

func modeName(m sysprep.Mode) string {
	if m == sysprep.ModeAudit {
		return "audit mode"
	}
	return "OOBE"
}

func printHeader(w io.Writer, r *sysprep.Report) {
	fmt.Fprintf(w, "%s: %s\n", r.Target, r.Installation)
}

func printFindings(w io.Writer, fs []sysprep.Finding) {
	for _, f := range fs {
		fmt.Fprintf(w, "%-7s %s: %s\n", f.Severity, f.ID, f.Message)
		if f.Where != "" {
			fmt.Fprintf(w, "        where: %s\n", f.Where)
		}
		if f.Code != "" {
			fmt.Fprintf(w, "        code:  %s\n", f.Code)
		}
		if f.Fix != "" {
			fmt.Fprintf(w, "        fix:   %s\n", f.Fix)
		}
	}
}

func printPlan(w io.Writer, r *sysprep.Report, dryRun bool) {
	verb := "carried out"
	if dryRun {
		verb = "planned (dry run)"
	}
	fmt.Fprintf(w, "actions %s:\n", verb)
	for _, a := range r.Actions {
		fmt.Fprintf(w, "  %-13s %-12s %s", a.Provider, a.Kind, a.Target)
		if a.Detail != "" {
			fmt.Fprintf(w, "  %s", a.Detail)
		}
		fmt.Fprintln(w)
	}
	for _, n := range r.NotRunOffline {
		fmt.Fprintf(w, "not run offline: %s\n", n)
	}
}

func countFindings(fs []sysprep.Finding) string {
	var e, wn int
	for _, f := range fs {
		switch f.Severity {
		case sysprep.SeverityError:
			e++
		case sysprep.SeverityWarning:
			wn++
		}
	}
	return fmt.Sprintf("%d error(s), %d warning(s)", e, wn)
}

// switchParts splits a switch into its name and value: /unattend:FILE,
// --user:NAME or --user=NAME.
func switchParts(a string) (name, value string, hasValue bool) {
	s := strings.TrimLeft(a, "/-")
	i := strings.IndexAny(s, ":=")
	if i < 0 || (s[i] == '=' && !strings.EqualFold(s[:i], "user")) {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

func switchName(a string) (string, bool) {
	name, _, has := switchParts(a)
	return name, has
}
