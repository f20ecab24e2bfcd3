package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/reseal/reseal/sysprep"
	"github.com/reseal/reseal/winimage"
)

const inspectUsage = `reseal inspect TARGET [--expect generalized|audit|complete] [--json]

Reads, without changing anything, an offline Windows installation (a
directory, an image inside a WIM as IMAGE.wim:INDEX or IMAGE.wim:NAME, or a
disk image) and says what its next boot will do: the installation (product,
edition, build, architecture), its image state as Windows reads it
(ImageState and State.ini, SysprepStatus GeneralizationState: 4 generalized,
7 finished and not generalized; ChildCompletion setup.exe), what SYSTEM\Setup
makes the next boot run, the answer passes recorded as run, the answer file
cached in Windows\Panther (its passes, which were processed; passwords
masked), reseal's generalize count, and a one-line verdict.

  --expect S  exit 0 when the image is in state S, 1 otherwise, naming every
              value that differs (a gate for pipelines):
                generalized  next boot: specialize, then OOBE
                audit        next boot: specialize, then audit mode
                complete     a finished installation, not generalized
  --json      print the inspection as JSON (docs/json.md)`

func runInspect(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("inspect")
	expect := fs.String("expect", "", "generalized, audit or complete: exit 1 unless the image is in that state")
	asJSON := fs.Bool("json", false, "print the inspection as JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest, 1, 1, "one TARGET"); err != nil {
		return err
	}
	if *expect != "" && !slices.Contains(sysprep.ExpectableStates(), strings.ToLower(*expect)) {
		return usageError("--expect %q: want one of %s", *expect, strings.Join(sysprep.ExpectableStates(), ", "))
	}
	want := strings.ToLower(*expect)
	target := rest[0]
	var opts sysprep.Options
	b, err := openWIMTarget(target)
	if err != nil {
		return err
	}
	switch {
	case b != nil:
		defer b.Close()
		opts.Backend = b
	case isDiskTarget(target):
		d, err := winimage.OpenDisk(ctx, target, nil)
		if err != nil {
			return err
		}
		defer d.Close()
		opts.Backend = d
	default:
		if err := checkTarget(target); err != nil {
			return err
		}
	}
	in, err := sysprep.Inspect(ctx, target, opts)
	if err != nil {
		return err
	}
	diffs := []string{}
	if want != "" {
		diffs = append(diffs, in.Differences(want)...)
	}
	if *asJSON {
		if err := writeJSON(sio.Out, struct {
			*sysprep.Inspection
			Expected    string   `json:"expected"`
			Differences []string `json:"differences"`
		}{in, want, diffs}); err != nil {
			return err
		}
	} else {
		printInspection(sio.Out, in)
	}
	if len(diffs) > 0 {
		return refusedError("not %s: %s", want, strings.Join(diffs, "; "))
	}
	return nil
}

func printInspection(w io.Writer, in *sysprep.Inspection) {
	opt := func(p *uint64) string {
		if p == nil {
			return "absent"
		}
		return fmt.Sprint(*p)
	}
	orNone := func(ss []string) string {
		if len(ss) == 0 {
			return "none"
		}
		return strings.Join(ss, ", ")
	}
	fmt.Fprintf(w, "%s: %s\n", in.Target, in.Installation)
	fmt.Fprintf(w, "  image state:          %s (State.ini: %s)\n", orAbsent(in.ImageState), orAbsent(in.StateIni))
	fmt.Fprintf(w, "  generalization state: %s\n", opt(in.GeneralizationState))
	fmt.Fprintf(w, "  setup.exe completion: %s\n", opt(in.SetupCompleted))
	fmt.Fprintf(w, "  next boot runs:       %s\n", in.NextBoot.Runs)
	fmt.Fprintf(w, "  passes recorded run:  %s\n", orNone(in.PassesDone))
	switch a := in.AnswerFile; {
	case !a.Present:
		fmt.Fprintf(w, "  cached answer file:   none\n")
	case a.Error != "":
		fmt.Fprintf(w, "  cached answer file:   %s, unreadable: %s\n", winPathOf(a.Path), a.Error)
	default:
		fmt.Fprintf(w, "  cached answer file:   %s: passes %s; processed %s (passwords masked)\n", winPathOf(a.Path), orNone(a.Passes), orNone(a.Processed))
	}
	fmt.Fprintf(w, "  generalize count:     %d\n", in.GeneralizeCount)
	fmt.Fprintf(w, "verdict: %s\n", in.Verdict)
}

func orAbsent(s string) string {
	if s == "" {
		return "absent"
	}
	return s
}

func winPathOf(rel string) string { return strings.ReplaceAll(rel, "/", `\`) }
