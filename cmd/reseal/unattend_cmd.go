package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/reseal/reseal/internal/atomicfile"
	"github.com/reseal/reseal/unattend"
)

// unattendCommands returns the commands of this area. An area lists a command
// here only once it works: unfinished features stay out of 'reseal help'.
func unattendCommands() []*command {
	return []*command{{
		Name:    "unattend",
		Summary: "validate, show and generate answer files (unattend.xml); hide passwords",
		Usage: `reseal unattend SUBCOMMAND ...

Answer files (unattend.xml, autounattend.xml) drive Windows Setup and Sysprep
through the configuration passes. reseal checks them against the settings of
Microsoft's Unattended Windows Setup Reference, embedded in the binary.`,
		Sub: []*command{
			{Name: "validate", Summary: "check answer files; exit 1 when any has an error", Usage: unattendValidateUsage, Run: runUnattendValidate},
			{Name: "show", Summary: "print an answer file's settings per pass as a tree", Usage: unattendShowUsage, Run: runUnattendShow},
			{Name: "password", Summary: "encode or decode a hidden (PlainText=false) password", Usage: unattendPasswordUsage, Run: runUnattendPassword},
			{Name: "new", Summary: "write a Sysprep answer file from options", Usage: unattendNewUsage, Run: runUnattendNew},
		},
	}}
}

const unattendValidateUsage = `reseal unattend validate FILE... [--json]

Checks each answer file ("-" reads standard input): well-formed XML, the <unattend> root and namespace,
pass names, component attributes, settings in passes where Windows reads
them, enumerated values, list items (wcm:action, wcm:keyValue), hidden
passwords and ComputerName. Findings are printed as
FILE:LINE:COLUMN: SEVERITY: MESSAGE [ID].

Exit 0 when no file has an error (warnings are printed), 1 when any has
(a file that is not XML or not an answer file is an error finding), 3 when a
file cannot be read. With several files a last line sums them up.

  --json   print the findings as JSON (docs/json.md)`

const unattendShowUsage = `reseal unattend show FILE [--pass PASS] [--arch ARCH] [--secrets] [--json]

Prints the settings of each pass as a tree: component (architecture), then
its elements with their values; list items show their wcm:action and
wcm:keyValue. Passwords are masked unless --secrets is given.

  --pass PASS   only this pass (windowsPE, offlineServicing, generalize,
                specialize, auditSystem, auditUser, oobeSystem)
  --arch ARCH   only components of this processorArchitecture
  --secrets     print passwords as they are stored
  --json        print as JSON`

const unattendPasswordUsage = `reseal unattend password encode|decode VALUE [--element NAME]

Hidden passwords (<PlainText>false</PlainText>) are base64 of the UTF-16LE
password followed by the name of the element holding it. VALUE "-" reads one
line from standard input, keeping the password out of the shell history.

  --element NAME   the element holding the password: Password for LocalAccount
                   and AutoLogon, AdministratorPassword for the built-in
                   Administrator. encode: default Password. decode: default
                   whichever of the two the value was encoded with (the
                   longer name is tried first, so an AdministratorPassword
                   value never decodes as a Password one)

decode exits 1 when VALUE is not a hidden password (for that element).`

const unattendNewUsage = `reseal unattend new [flags] [-o FILE]

Writes a Sysprep answer file that validates cleanly, to FILE (replaced
atomically) or to standard output. At least one setting is needed: a file
without settings would change nothing (exit 2).

  --arch ARCH                  x86, amd64 (default) or arm64
  --generalize-mode MODE       OOBE or Audit: Microsoft-Windows-Deployment/
                               Generalize in auditUser
  --persist-device-installs    keep drivers through generalize
  --skip-rearm                 keep the activation state (SkipRearm=1)
  --computer-name NAME         specialize; "*" for a random name
  --time-zone NAME             specialize: a Windows time zone ID as tzutil /l
                               lists it, e.g. "UTC", "W. Europe Standard Time"
                               (optionally with _dstoff); IANA names are refused
  --admin-password-stdin       read the Administrator password from the first
                               line of standard input; stored hidden
  -o FILE                      write to FILE instead of standard output`

// findingJSON is one finding in --json output.
type findingJSON struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Message  string `json:"message"`
}

type fileFindingsJSON struct {
	File     string        `json:"file"`
	Errors   int           `json:"errors"`
	Warnings int           `json:"warnings"`
	Failure  string        `json:"failure"` // why the file could not be read ("" when it was)
	Findings []findingJSON `json:"findings"`
}

func runUnattendValidate(_ context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("unattend validate")
	asJSON := fs.Bool("json", false, "print as JSON")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usageError("no answer file given")
	}
	var results []fileFindingsJSON
	var failures []error
	errorFiles, warningFiles := 0, 0
	for _, path := range files {
		r := fileFindingsJSON{File: path, Findings: []findingJSON{}}
		var findings []unattend.Finding
		var err error
		if path == "-" {
			_, findings, err = unattend.Check(sio.In)
		} else {
			findings, err = checkFile(path)
		}
		if err != nil {
			failures = append(failures, err)
			r.Failure = tidyMessage(err.Error())
			// With several files each unreadable one gets its line here and
			// the run goes on; a single file's error is the command's error.
			if !*asJSON && len(files) > 1 {
				fmt.Fprintf(sio.Err, "reseal unattend validate: %s\n", r.Failure)
			}
		}
		for _, f := range findings {
			if f.Severity == unattend.SeverityError {
				r.Errors++
			} else {
				r.Warnings++
			}
			r.Findings = append(r.Findings, findingJSON{f.ID, f.Severity.String(), f.Line, f.Column, f.Message})
			if !*asJSON {
				fmt.Fprintf(sio.Out, "%s:%d:%d: %s: %s [%s]\n", path, f.Line, f.Column, f.Severity, f.Message, f.ID)
			}
		}
		switch {
		case r.Errors > 0:
			errorFiles++
		case r.Warnings > 0:
			warningFiles++
		}
		results = append(results, r)
	}
	if *asJSON {
		if err := writeJSON(sio.Out, results); err != nil {
			return err
		}
	} else if len(files) > 1 {
		clean := len(files) - errorFiles - warningFiles - len(failures)
		fmt.Fprintf(sio.Out, "%d files: %d with errors, %d with warnings only, %d clean, %d unreadable\n",
			len(files), errorFiles, warningFiles, clean, len(failures))
	}
	switch {
	case len(failures) == 1 && len(files) == 1:
		return failures[0]
	case len(failures) > 0:
		return fmt.Errorf("%d of %d files could not be read (each is named above)", len(failures), len(files))
	case errorFiles > 0:
		return refusedError("%d of %d files have errors", errorFiles, len(files))
	}
	return nil
}

// checkFile parses and validates one file; a file that is not well-formed
// gives a finding, an unreadable one an error.
func checkFile(path string) ([]unattend.Finding, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	if st, err := fh.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s: is a directory", path)
	}
	_, findings, err := unattend.Check(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return findings, nil
}

func runUnattendShow(_ context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("unattend show")
	pass := fs.String("pass", "", "only this pass")
	arch := fs.String("arch", "", "only this architecture")
	secrets := fs.Bool("secrets", false, "print passwords")
	asJSON := fs.Bool("json", false, "print as JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError("want one answer file, got %d arguments", len(rest))
	}
	if *pass != "" && !knownPass(*pass) {
		return usageError("--pass %s: want one of %s", *pass, strings.Join(passNames, ", "))
	}
	f, err := unattend.ParseFile(rest[0])
	if err != nil {
		return err
	}
	passes := f.Passes()
	if *pass != "" {
		passes = []string{*pass}
	}
	if *asJSON {
		return writeJSON(sio.Out, showJSON(f, passes, *arch, *secrets))
	}
	w := bufio.NewWriter(sio.Out)
	for _, p := range passes {
		comps := f.Pass(p, *arch)
		fmt.Fprintf(w, "%s\n", p)
		if len(comps) == 0 {
			fmt.Fprintf(w, "  (no components)\n")
		}
		for _, c := range comps {
			fmt.Fprintf(w, "  %s (%s)\n", c.Name, c.Arch)
			for _, e := range c.Node.Elements() {
				showElement(w, e, 2, *secrets)
			}
		}
	}
	return w.Flush()
}

// passNames are the configuration passes, in the order Windows runs them.
var passNames = []string{"windowsPE", "offlineServicing", "generalize", "specialize", "auditSystem", "auditUser", "oobeSystem"}

func knownPass(p string) bool {
	for _, k := range passNames {
		if p == k {
			return true
		}
	}
	return false
}

// masked returns the value to show for e: passwords are masked unless asked.
func masked(e *unattend.Node, secrets bool) string {
	v := e.Content()
	if secrets || v == "" || v == unattend.Redacted {
		return v
	}
	p := e.Parent
	if e.Name.Local == "Value" && p != nil && p.Child("PlainText") != nil ||
		strings.HasSuffix(e.Name.Local, "Password") {
		return "********"
	}
	return v
}

func showElement(w io.Writer, e *unattend.Node, depth int, secrets bool) {
	ind := strings.Repeat("  ", depth)
	label := e.Name.Local
	if a := e.Action(); a != "" {
		label += " [" + a
		if k := e.KeyValue(); k != "" {
			label += " key=" + k
		}
		label += "]"
	}
	if !e.HasElements() {
		fmt.Fprintf(w, "%s%s = %s\n", ind, label, masked(e, secrets))
		return
	}
	fmt.Fprintf(w, "%s%s\n", ind, label)
	for _, c := range e.Elements() {
		showElement(w, c, depth+1, secrets)
	}
}

type showComponentJSON struct {
	Pass      string            `json:"pass"`
	Component string            `json:"component"`
	Arch      string            `json:"arch"`
	Line      int               `json:"line"`
	Settings  []showSettingJSON `json:"settings"`
}

type showSettingJSON struct {
	Path     string `json:"path"`
	Value    string `json:"value"`
	Action   string `json:"action"`
	KeyValue string `json:"key_value"`
	Line     int    `json:"line"`
}

// showJSON flattens each component to its leaf settings; list items are
// numbered in the path (RunSynchronousCommand[2]) so that paths are unique.
func showJSON(f *unattend.File, passes []string, arch string, secrets bool) []showComponentJSON {
	out := []showComponentJSON{}
	for _, p := range passes {
		for _, c := range f.Pass(p, arch) {
			sc := showComponentJSON{Pass: p, Component: c.Name, Arch: c.Arch, Line: c.Node.Line, Settings: []showSettingJSON{}}
			for _, l := range c.Leaves() {
				sc.Settings = append(sc.Settings, showSettingJSON{Path: l.Path, Value: masked(l.Node, secrets), Action: l.Action, KeyValue: l.KeyValue, Line: l.Node.Line})
			}
			out = append(out, sc)
		}
	}
	return out
}

func runUnattendPassword(_ context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("unattend password")
	element := fs.String("element", "", "element holding the password")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest, 2, 2, "encode|decode VALUE"); err != nil {
		return err
	}
	value := rest[1]
	if value == "-" {
		if value, err = readLine(sio.In); err != nil {
			return err
		}
	}
	switch rest[0] {
	case "encode":
		el := *element
		if el == "" {
			el = "Password"
		}
		fmt.Fprintln(sio.Out, unattend.EncodePassword(value, el))
	case "decode":
		if *element != "" {
			pw, err := unattend.DecodePassword(value, *element)
			if err != nil {
				return refusedError("not a hidden password for element %s: %v", *element, err)
			}
			fmt.Fprintln(sio.Out, pw)
			return nil
		}
		pw, err := decodeAnyPassword(value)
		if err != nil {
			return refused(err)
		}
		fmt.Fprintln(sio.Out, pw)
	default:
		return usageError("unknown action %q: want encode or decode", rest[0])
	}
	return nil
}

// passwordElements are the elements Windows hides passwords in, longest
// first: "AdministratorPassword" also ends in "Password", and taking the
// shorter suffix would print "secretAdministrator" for "secret".
var passwordElements = []string{"AdministratorPassword", "Password"}

// decodeAnyPassword decodes a hidden password whose element is not given.
func decodeAnyPassword(value string) (string, error) {
	if _, err := unattend.DecodePassword(value, ""); err != nil {
		return "", fmt.Errorf("not a hidden password: %w", err)
	}
	for _, el := range passwordElements {
		if pw, err := unattend.DecodePassword(value, el); err == nil {
			return pw, nil
		}
	}
	return "", fmt.Errorf("not a hidden password: the decoded text ends in none of %s (give --element NAME)", strings.Join(passwordElements, ", "))
}

// readLine reads the first line of r, without its line end.
func readLine(r io.Reader) (string, error) {
	if r == nil {
		return "", usageError("no standard input")
	}
	line, err := bufio.NewReader(io.LimitReader(r, 64<<10)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read standard input: %w", err)
	}
	if err == io.EOF && line == "" {
		return "", usageError("standard input is empty")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func runUnattendNew(_ context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("unattend new")
	var o unattend.GenerateOptions
	fs.StringVar(&o.Arch, "arch", "amd64", "processorArchitecture")
	fs.StringVar(&o.GeneralizeMode, "generalize-mode", "", "OOBE or Audit")
	fs.BoolVar(&o.PersistAllDeviceInstalls, "persist-device-installs", false, "keep drivers through generalize")
	fs.BoolVar(&o.SkipRearm, "skip-rearm", false, "SkipRearm=1")
	fs.StringVar(&o.ComputerName, "computer-name", "", "computer name")
	fs.StringVar(&o.TimeZone, "time-zone", "", "time zone")
	pwStdin := fs.Bool("admin-password-stdin", false, "read the Administrator password from standard input")
	out := fs.String("o", "", "output file")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError("unexpected argument %q", rest[0])
	}
	if o.TimeZone != "" {
		if err := unattend.CheckTimeZone(o.TimeZone); err != nil {
			return usageError("--time-zone: %v", err)
		}
	}
	if *pwStdin {
		if o.AdministratorPassword, err = readLine(sio.In); err != nil {
			return err
		}
	}
	f, err := unattend.Generate(o)
	if err != nil {
		return usageError("%s", strings.TrimPrefix(err.Error(), "unattend: "))
	}
	if !*pwStdin && o.GeneralizeMode == "" && !o.PersistAllDeviceInstalls && !o.SkipRearm && o.ComputerName == "" && o.TimeZone == "" {
		// An answer file without settings is valid and does nothing: it
		// is far more likely a forgotten option than a wish.
		return usageError("no setting given: an answer file without settings changes nothing; give at least one of --generalize-mode, --persist-device-installs, --skip-rearm, --computer-name, --time-zone, --admin-password-stdin")
	}
	if *out == "" {
		_, err := f.WriteTo(sio.Out)
		return err
	}
	return atomicfile.WriteFile(*out, 0o644, func(w io.Writer) error {
		_, err := f.WriteTo(w)
		return err
	})
}
