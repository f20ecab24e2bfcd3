package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
)

// Exit codes, the same for every command (README "Command reference"):
//
//   - 0: success.
//   - 1: the input was checked and refused; nothing was changed. A checker
//     found a problem (preflight's errors; verify, reg check and unattend
//     validate also when the file is not a WIM, hive or answer file); or
//     the request is one the input does not allow: a key, value or image
//     that does not exist, an image name already taken, a destination that
//     is not empty or not a WIM, an image that would write outside its target.
//   - 2: the command line cannot be understood: unknown command or flag,
//     missing or extra arguments, a flag value out of its range.
//   - 3: the command could not do its work: a missing or unreadable file,
//     I/O, a lock held by another run, or a file that is corrupt or of the
//     wrong format when a command other than a checker needs to read it
//     (info, apply, reg query ...).
//
// Commands return errors made by usageError, refusedError or refused; any
// other error is a failure (3). reportError prints every one the same way.
const (
	exitOK      = 0
	exitRefused = 1
	exitUsage   = 2
	exitFailure = 3
)

// stdio is where a command reads and writes; tests substitute buffers.
type stdio struct {
	In            io.Reader
	Out           io.Writer
	Err           io.Writer
	ErrIsTerminal bool // progress is drawn only when a person watches stderr
}

// command is one node of the command tree: either it runs, or it groups
// subcommands (reg, unattend, ...).
type command struct {
	Name    string
	Summary string // one line, shown by `reseal help`
	Usage   string // synopsis and details, shown by `reseal help NAME`
	Run     func(ctx context.Context, io *stdio, args []string) error
	Sub     []*command
}

// exitError carries the exit code a failure maps to.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError reports a command line that cannot be understood (exit 2).
func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// refusedError reports input that was checked and refused, with nothing
// changed (exit 1). Its message has usually been printed in detail already.
func refusedError(format string, args ...any) error {
	return &exitError{code: exitRefused, err: fmt.Errorf(format, args...)}
}

// refused marks an existing error as a refusal (exit 1), keeping its text:
// a key that does not exist, an unsafe image. nil stays nil.
func refused(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: exitRefused, err: err}
}

// wantArgs checks the number of positional arguments; synopsis names them
// ("IMAGE.wim", "HIVE [KEY]") in the usage error.
func wantArgs(rest []string, min, max int, synopsis string) error {
	switch {
	case len(rest) < min && len(rest) == 0:
		return usageError("want %s", synopsis)
	case len(rest) < min:
		return usageError("want %s, got %d argument(s)", synopsis, len(rest))
	case max >= 0 && len(rest) > max:
		return usageError("want %s; unexpected argument %q", synopsis, rest[max])
	}
	return nil
}

// commands is the whole command tree, in the order `reseal help` lists it.
// Each area keeps its commands in its own file.
//
// Adding a command: put it in its area's list with a one-line Summary and
// a Usage whose first line is the synopsis ("reseal NAME ARGS [--json]");
// parse with newFlagSet and parseFlags, check arguments with wantArgs,
// return usageError (2), refusedError or refused (1) or any other error (3)
// and let reportError print it; render --json with writeJSON and give its
// schema in docs/json.md; add a row to contractRows in contract_test.go
// (good input, missing file, wrong-format file, bad flag value). The
// contract test then checks the rest: --help, unknown flags, one-line
// errors naming the user's path, --json and --quiet exactly as the usage
// says, and the JSON against its schema.
func commands() []*command {
	var cs []*command
	cs = append(cs, sysprepCommands()...)
	cs = append(cs, sampleCommands()...)
	cs = append(cs, wimCommands()...)
	cs = append(cs, unattendCommands()...)
	cs = append(cs, regCommands()...)
	cs = append(cs,
		&command{Name: "version", Summary: "print reseal's version", Usage: "reseal version [--json]", Run: runVersion},
		&command{Name: "help", Summary: "show help for reseal or one of its commands", Usage: "reseal help [COMMAND [SUBCOMMAND]]"},
	)
	return cs
}

// run executes one invocation and returns the process exit code. It never
// lets a panic escape: a bug is reported as a one-line failure, not a trace.
func run(ctx context.Context, args []string, sio *stdio) int {
	return runWith(ctx, commands(), args, sio)
}

func runWith(ctx context.Context, root []*command, args []string, sio *stdio) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(sio.Err, "reseal: internal error: %v (please report this with the command line)\n", r)
			if os.Getenv("RESEAL_TRACE") == "1" {
				fmt.Fprintf(sio.Err, "%s", debug.Stack())
			}
			code = exitFailure
		}
	}()
	if len(args) == 0 {
		printOverview(sio.Err, root)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "-help":
		printOverview(sio.Out, root)
		return exitOK
	case "--version", "-version":
		args = []string{"version"}
	}
	if args[0] == "help" {
		return runHelp(sio, root, args[1:])
	}
	cmd, rest, path := resolve(root, args)
	if cmd == nil {
		fmt.Fprintf(sio.Err, "reseal: unknown command %q (see 'reseal help')\n", strings.Join(path, " "))
		return exitUsage
	}
	if cmd.Run == nil {
		// A group named without a subcommand, or with an unknown one.
		if len(rest) > 0 && isHelpFlag(rest[0]) {
			printGroup(sio.Out, cmd, path)
			return exitOK
		}
		if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
			fmt.Fprintf(sio.Err, "reseal: unknown command %q (see 'reseal help %s')\n", strings.Join(append(path, rest[0]), " "), strings.Join(path, " "))
			return exitUsage
		}
		names := make([]string, len(cmd.Sub))
		for i, s := range cmd.Sub {
			names[i] = s.Name
		}
		return reportError(sio.Err, path, usageError("want a subcommand: %s", strings.Join(names, ", ")))
	}
	for _, a := range rest {
		if a == "--" {
			break
		}
		if isHelpFlag(a) {
			fmt.Fprintln(sio.Out, cmd.Usage)
			return exitOK
		}
	}
	err := cmd.Run(ctx, sio, rest)
	return reportError(sio.Err, path, err)
}

func isHelpFlag(a string) bool { return a == "-h" || a == "--help" || a == "-help" }

// reportError prints err as the single line every command's errors take,
// "reseal CMD: message", and returns the exit code it maps to. A usage error
// ends with where to read the usage, on the same line.
func reportError(w io.Writer, path []string, err error) int {
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	msg := tidyMessage(err.Error())
	name := strings.Join(path, " ")
	if code == exitUsage {
		msg += " " + helpPointer(name)
	}
	fmt.Fprintf(w, "reseal %s: %s\n", name, msg)
	return code
}

// helpPointer ends a usage error: where to read the command's usage.
func helpPointer(name string) string {
	if name == "help" {
		return "(see 'reseal help')"
	}
	return fmt.Sprintf("(see 'reseal help %s')", name)
}

// exitCode maps an error to its exit code (see the constants).
func exitCode(err error) int {
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, flag.ErrHelp):
		return exitUsage
	}
	return exitFailure
}

// packageNames are the prefixes the library packages give their errors
// ("hive: does not exist"); after the CLI's own "HIVE: key K:" context they
// only repeat what the line already says.
var packageNames = map[string]bool{"hive": true, "wim": true, "unattend": true, "sysprep": true, "winimage": true, "regfile": true, "sample": true}

// tidyMessage makes an error's text one line and drops what repeats: a
// bare package name between colons and a segment equal to the one before
// it ("hive X: hive: malformed" reads "hive X: malformed").
func tidyMessage(msg string) string {
	msg = strings.Join(strings.Fields(strings.ReplaceAll(msg, "\n", "; ")), " ")
	parts := strings.Split(msg, ": ")
	out := parts[:0:0]
	for i, p := range parts {
		// Not the first segment: that is usually the user's path, which may
		// well be a directory called "sample" or a file called "hive".
		if packageNames[p] && i > 0 && i < len(parts)-1 {
			continue
		}
		if len(out) > 0 && out[len(out)-1] == p {
			continue
		}
		out = append(out, p)
	}
	return strings.Join(out, ": ")
}

// resolve walks args down the command tree and returns the deepest command
// named, the remaining arguments, and the names used to get there.
func resolve(cs []*command, args []string) (*command, []string, []string) {
	var found *command
	var path []string
	for len(args) > 0 {
		next := find(cs, args[0])
		if next == nil {
			break
		}
		found, path, args = next, append(path, next.Name), args[1:]
		if next.Run != nil {
			break
		}
		cs = next.Sub
	}
	if found == nil {
		return nil, args, []string{args[0]}
	}
	return found, args, path
}

func find(cs []*command, name string) *command {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func runHelp(sio *stdio, root []*command, args []string) int {
	if len(args) == 0 || slices.ContainsFunc(args, isHelpFlag) {
		printOverview(sio.Out, root)
		return exitOK
	}
	cmd, rest, path := resolve(root, args)
	if cmd == nil || len(rest) > 0 {
		return reportError(sio.Err, []string{"help"}, usageError("no command %q", strings.Join(args, " ")))
	}
	if cmd.Sub != nil {
		printGroup(sio.Out, cmd, path)
		return exitOK
	}
	fmt.Fprintln(sio.Out, cmd.Usage)
	return exitOK
}

func printOverview(w io.Writer, cs []*command) {
	fmt.Fprint(w, `reseal prepares Windows images offline, from Linux or Windows.

Usage: reseal COMMAND [ARGUMENTS]

Commands:
`)
	listCommands(w, cs, "")
	fmt.Fprint(w, `
Exit codes: 0 success; 1 input refused (nothing changed); 2 usage error; 3 other failure.
Every command takes --help; those whose usage shows [--json] print their result as JSON
(see docs/json.md). Run 'reseal help COMMAND' for the details of one command.
`)
}

func printGroup(w io.Writer, c *command, path []string) {
	fmt.Fprintf(w, "%s\n\n", c.Usage)
	fmt.Fprintf(w, "Commands of 'reseal %s':\n", strings.Join(path, " "))
	listCommands(w, c.Sub, "")
}

func listCommands(w io.Writer, cs []*command, prefix string) {
	width := 0
	for _, c := range cs {
		width = max(width, len(prefix+c.Name))
	}
	for _, c := range cs {
		fmt.Fprintf(w, "  %-*s  %s\n", width, prefix+c.Name, c.Summary)
	}
}

// parseFlags parses flags that may appear before, between or after the
// positional arguments (`reseal reg query HIVE KEY -r`), which the standard
// flag package alone does not allow. "--" ends the flags. Its errors are
// usage errors that name flags as the user typed them (--bogus, -o).
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, usageError("%s", fs.Name())
			}
			return nil, usageError("%s", flagErrorText(err))
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// flagName writes a flag's name the way the usage shows it: -o, --json.
func flagName(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// flagErrorText rewords the flag package's errors, which name every flag
// with one dash, for reseal's users, who type two.
func flagErrorText(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return "unknown flag " + flagName(name)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return flagName(name) + " needs a value"
	}
	// invalid value "x" for flag -name: reason / invalid boolean value "x" for -name: reason
	for _, marker := range []string{" for flag -", " for -"} {
		if i := strings.Index(msg, marker); i >= 0 && strings.HasPrefix(msg, "invalid ") {
			value := strings.TrimPrefix(strings.TrimPrefix(msg[:i], "invalid boolean value "), "invalid value ")
			name, reason, _ := strings.Cut(msg[i+len(marker):], ": ")
			if j := strings.LastIndex(reason, ": "); j >= 0 {
				reason = reason[j+2:] // strconv.ParseInt: parsing "x": invalid syntax
			}
			if reason == "parse error" {
				reason = "not a number"
			}
			return fmt.Sprintf("%s %s: %s", flagName(name), value, reason)
		}
	}
	return msg
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string) *flag.FlagSet {
	return flag.NewFlagSet(name, flag.ContinueOnError)
}

// stringList is a flag that may be repeated (`--data a --data b`).
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// writeJSON renders v as indented JSON, the form every --json output takes.
// Keys are snake_case, lists are [] when empty, never null, and each
// command's shape is written down in docs/json.md (TestJSONSchemas checks
// the output against it).
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// version is set by the release build (-ldflags "-X main.version=v1.2.3");
// otherwise it comes from the module's build information.
var version = ""

func runVersion(_ context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("version")
	asJSON := fs.Bool("json", false, "print as JSON")
	if rest, err := parseFlags(fs, args); err != nil {
		return err
	} else if err := wantArgs(rest, 0, 0, "no arguments"); err != nil {
		return err
	}
	info := versionInfo()
	if *asJSON {
		return writeJSON(sio.Out, info)
	}
	fmt.Fprintf(sio.Out, "reseal %s (%s, %s/%s)\n", info["version"], info["go"], info["os"], info["arch"])
	return nil
}

func versionInfo() map[string]string {
	v := version
	info := map[string]string{"go": "unknown", "os": goos(), "arch": goarch()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		info["go"] = bi.GoVersion
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		var settings []string
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				settings = append(settings, s.Value)
			}
		}
		sort.Strings(settings)
		if v == "" && len(settings) > 0 {
			v = "devel-" + settings[0][:min(12, len(settings[0]))]
		}
	}
	if v == "" {
		v = "devel"
	}
	info["version"] = v
	return info
}
