package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/reseal/reseal/sample"
	"github.com/reseal/reseal/unattend"
	"github.com/reseal/reseal/wim"
)

// The command-line contract (README "Command reference", docs/json.md),
// checked for every command `reseal help` lists, taken from the command
// table itself: a command added to the table without a row in
// contractRows fails TestContractCoversEveryCommand, and the checks that
// need no row (--help, an unknown flag, --json and --quiet in the usage
// exactly when accepted) run on it as soon as it exists.
//
// A row gives, for one command, arguments for each case; the fixture makes
// fresh copies of real inputs (a sample Windows volume, its SYSTEM hive, a
// WIM captured from it, an answer file) in temporary directories. A case
// that cannot apply to a command is listed in notApplicable with the reason.

// contractCase is one invocation and what it must give.
type contractCase struct {
	args  []string
	code  int
	names string // the user's path the one-line error must name ("" to skip)
}

type contractRow struct {
	good, missing, wrongFormat, badValue func(*fixture) contractCase
	notApplicable                        map[string]string // case name -> why it does not apply
}

// contractRows: one per command path ("reg query"). Add a row with a new
// command.
var contractRows = map[string]contractRow{
	"preflight": {
		good:        func(f *fixture) contractCase { return ok("preflight", f.volume()) },
		missing:     func(f *fixture) contractCase { return fails(3, f.missing(), "preflight", f.missing()) },
		wrongFormat: func(f *fixture) contractCase { d := f.emptyDir(); return fails(3, d, "preflight", d) },
		badValue: func(f *fixture) contractCase {
			return fails(2, "--json", "preflight", f.volume(), "--json=maybe")
		},
	},
	"generalize": {
		good:        func(f *fixture) contractCase { return ok("generalize", f.volume(), "--dry-run") },
		missing:     func(f *fixture) contractCase { return fails(3, f.missing(), "generalize", f.missing()) },
		wrongFormat: func(f *fixture) contractCase { d := f.emptyDir(); return fails(3, d, "generalize", d) },
		badValue: func(f *fixture) contractCase {
			return fails(2, "--mode", "generalize", f.volume(), "--mode", "container")
		},
	},
	"sysprep": {
		good:        func(f *fixture) contractCase { return ok("sysprep", f.volume(), "/generalize", "/oobe") },
		missing:     func(f *fixture) contractCase { return fails(3, f.missing(), "sysprep", f.missing(), "/generalize") },
		wrongFormat: func(f *fixture) contractCase { d := f.emptyDir(); return fails(3, d, "sysprep", d, "/generalize") },
		badValue: func(f *fixture) contractCase {
			return fails(2, "/mode:hyperv", "sysprep", f.volume(), "/generalize", "/mode:hyperv")
		},
	},
	"inspect": {
		good:        func(f *fixture) contractCase { return ok("inspect", f.volume()) },
		missing:     func(f *fixture) contractCase { return fails(3, f.missing(), "inspect", f.missing()) },
		wrongFormat: func(f *fixture) contractCase { d := f.emptyDir(); return fails(3, d, "inspect", d) },
		badValue: func(f *fixture) contractCase {
			return fails(2, "--expect", "inspect", f.volume(), "--expect", "sealed")
		},
	},
	"sample": {
		good: func(f *fixture) contractCase { return ok("sample", f.newPath("vol")) },
		missing: func(f *fixture) contractCase {
			p := filepath.Join(f.junk(), "vol") // a parent that is a file
			return fails(3, p, "sample", p)
		},
		wrongFormat: func(f *fixture) contractCase { d := f.volume(); return fails(1, d, "sample", d) },
		badValue: func(f *fixture) contractCase {
			return fails(2, "--blocker", "sample", f.newPath("v"), "--blocker", "nope")
		},
	},
	"demo": {
		good:     func(f *fixture) contractCase { return ok("demo") },
		badValue: func(f *fixture) contractCase { return fails(2, "--windows", "demo", "--windows", "12") },
		wrongFormat: func(f *fixture) contractCase {
			d := f.volume()
			return fails(1, d, "demo", "--keep", d)
		},
		notApplicable: map[string]string{"missing": "demo reads no file: it writes its own sample"},
	},
	"capture": {
		good: func(f *fixture) contractCase { return ok("capture", f.volume(), f.newPath("x.wim")) },
		missing: func(f *fixture) contractCase {
			return fails(3, f.missing(), "capture", f.missing(), f.newPath("x.wim"))
		},
		wrongFormat: func(f *fixture) contractCase {
			j := f.junk()
			return fails(1, j, "capture", f.volume(), j)
		},
		badValue: func(f *fixture) contractCase {
			return fails(2, "--chunk-size", "capture", f.volume(), f.newPath("x.wim"), "--chunk-size", "1000")
		},
	},
	"apply": {
		good:        func(f *fixture) contractCase { return ok("apply", f.wim(), f.newPath("out")) },
		missing:     func(f *fixture) contractCase { return fails(3, f.missing(), "apply", f.missing(), f.newPath("out")) },
		wrongFormat: func(f *fixture) contractCase { j := f.junk(); return fails(3, j, "apply", j, f.newPath("out")) },
		badValue: func(f *fixture) contractCase {
			return fails(2, "--quiet", "apply", f.wim(), f.newPath("out"), "--quiet=maybe")
		},
	},
	"info": {
		good:        func(f *fixture) contractCase { return ok("info", f.wim()) },
		missing:     func(f *fixture) contractCase { return fails(3, f.missing(), "info", f.missing()) },
		wrongFormat: func(f *fixture) contractCase { j := f.junk(); return fails(3, j, "info", j) },
		badValue:    func(f *fixture) contractCase { return fails(2, "--json", "info", f.wim(), "--json=maybe") },
	},
	"verify": {
		good:        func(f *fixture) contractCase { return ok("verify", f.wim()) },
		missing:     func(f *fixture) contractCase { return fails(3, f.missing(), "verify", f.missing()) },
		wrongFormat: func(f *fixture) contractCase { j := f.junk(); return fails(1, j, "verify", j) },
		badValue:    func(f *fixture) contractCase { return fails(2, "--json", "verify", f.wim(), "--json=maybe") },
	},
	"export": {
		good: func(f *fixture) contractCase { return ok("export", f.wim(), "1", f.newPath("out.wim")) },
		missing: func(f *fixture) contractCase {
			return fails(3, f.missing(), "export", f.missing(), "1", f.newPath("out.wim"))
		},
		wrongFormat: func(f *fixture) contractCase {
			j := f.junk()
			return fails(3, j, "export", j, "1", f.newPath("out.wim"))
		},
		badValue: func(f *fixture) contractCase {
			return fails(2, "--compress", "export", f.wim(), "1", f.newPath("out.wim"), "--compress", "zip")
		},
	},
	"delete": {
		good:        func(f *fixture) contractCase { return ok("delete", f.wim(), "1") },
		missing:     func(f *fixture) contractCase { return fails(3, f.missing(), "delete", f.missing(), "1") },
		wrongFormat: func(f *fixture) contractCase { j := f.junk(); return fails(3, j, "delete", j, "1") },
		badValue:    func(f *fixture) contractCase { return fails(2, "--soft", "delete", f.wim(), "1", "--soft=maybe") },
	},
	"optimize": {
		good:        func(f *fixture) contractCase { return ok("optimize", f.wim()) },
		missing:     func(f *fixture) contractCase { return fails(3, f.missing(), "optimize", f.missing()) },
		wrongFormat: func(f *fixture) contractCase { j := f.junk(); return fails(3, j, "optimize", j) },
		badValue: func(f *fixture) contractCase {
			return fails(2, "--recompress", "optimize", f.wim(), "--recompress=maybe")
		},
	},
	"dir": {
		good:        func(f *fixture) contractCase { return ok("dir", f.wim(), "1", "/Windows") },
		missing:     func(f *fixture) contractCase { return fails(3, f.missing(), "dir", f.missing()) },
		wrongFormat: func(f *fixture) contractCase { j := f.junk(); return fails(3, j, "dir", j) },
		badValue:    func(f *fixture) contractCase { return fails(2, "--json", "dir", f.wim(), "--json=maybe") },
	},
	"extract": {
		good: func(f *fixture) contractCase {
			return ok("extract", f.wim(), "1", "/Windows/System32/config", "--dest", f.newPath("out"))
		},
		missing: func(f *fixture) contractCase {
			return fails(3, f.missing(), "extract", f.missing(), "1", "/", "--dest", f.newPath("out"))
		},
		wrongFormat: func(f *fixture) contractCase {
			j := f.junk()
			return fails(3, j, "extract", j, "1", "/", "--dest", f.newPath("out"))
		},
		badValue: func(f *fixture) contractCase {
			return fails(2, "--quiet", "extract", f.wim(), "1", "/", "--dest", f.newPath("out"), "--quiet=maybe")
		},
	},
	"split": {
		good: func(f *fixture) contractCase { return ok("split", f.wim(), f.newPath("part.swm"), "0.5") },
		missing: func(f *fixture) contractCase {
			return fails(3, f.missing(), "split", f.missing(), f.newPath("part.swm"), "1")
		},
		wrongFormat: func(f *fixture) contractCase {
			j := f.junk()
			return fails(3, j, "split", j, f.newPath("part.swm"), "1")
		},
		badValue: func(f *fixture) contractCase {
			return fails(2, "SIZE_MB", "split", f.wim(), f.newPath("part.swm"), "zero")
		},
	},
	"unattend validate": {
		good:        func(f *fixture) contractCase { return ok("unattend", "validate", f.answerFile()) },
		missing:     func(f *fixture) contractCase { return fails(3, f.missing(), "unattend", "validate", f.missing()) },
		wrongFormat: func(f *fixture) contractCase { j := f.junk(); return fails(1, "", "unattend", "validate", j) },
		badValue: func(f *fixture) contractCase {
			return fails(2, "--json", "unattend", "validate", f.answerFile(), "--json=maybe")
		},
	},
	"unattend show": {
		good:        func(f *fixture) contractCase { return ok("unattend", "show", f.answerFile()) },
		missing:     func(f *fixture) contractCase { return fails(3, f.missing(), "unattend", "show", f.missing()) },
		wrongFormat: func(f *fixture) contractCase { j := f.junk(); return fails(3, j, "unattend", "show", j) },
		badValue: func(f *fixture) contractCase {
			return fails(2, "--pass", "unattend", "show", f.answerFile(), "--pass", "lunch")
		},
	},
	"unattend password": {
		good: func(f *fixture) contractCase { return ok("unattend", "password", "encode", "secret") },
		wrongFormat: func(f *fixture) contractCase {
			return fails(1, "", "unattend", "password", "decode", "bm90IGEgcGFzc3dvcmQ=")
		},
		badValue: func(f *fixture) contractCase {
			return fails(2, "frobnicate", "unattend", "password", "frobnicate", "x")
		},
		notApplicable: map[string]string{
			"missing": "VALUE is the password itself, not a file",
		},
	},
	"unattend new": {
		good: func(f *fixture) contractCase {
			return ok("unattend", "new", "--time-zone", "UTC", "-o", f.newPath("u.xml"))
		},
		missing: func(f *fixture) contractCase {
			p := filepath.Join(f.missing(), "u.xml")
			return fails(3, p, "unattend", "new", "--time-zone", "UTC", "-o", p)
		},
		badValue: func(f *fixture) contractCase { return fails(2, "sparc", "unattend", "new", "--arch", "sparc") },
		notApplicable: map[string]string{
			"wrong format": "new reads no file",
		},
	},
	"reg query": {
		good:        func(f *fixture) contractCase { return ok("reg", "query", f.hive(), "Select") },
		missing:     func(f *fixture) contractCase { return fails(3, f.missing(), "reg", "query", f.missing()) },
		wrongFormat: func(f *fixture) contractCase { j := f.junk(); return fails(3, j, "reg", "query", j) },
		badValue:    func(f *fixture) contractCase { return fails(2, "-r", "reg", "query", f.hive(), "-r=maybe") },
	},
	"reg set": {
		good: func(f *fixture) contractCase { return ok("reg", "set", f.hive(), `Contract\Key`, "N", "--data", "x") },
		missing: func(f *fixture) contractCase {
			return fails(3, f.missing(), "reg", "set", f.missing(), "K", "N", "--data", "x")
		},
		wrongFormat: func(f *fixture) contractCase {
			j := f.junk()
			return fails(3, j, "reg", "set", j, "K", "N", "--data", "x")
		},
		badValue: func(f *fixture) contractCase {
			return fails(2, "REG_FOO", "reg", "set", f.hive(), "K", "N", "--type", "REG_FOO")
		},
	},
	"reg delete": {
		good:        func(f *fixture) contractCase { return ok("reg", "delete", f.hive(), "Select", "--value", "Failed") },
		missing:     func(f *fixture) contractCase { return fails(3, f.missing(), "reg", "delete", f.missing(), "K") },
		wrongFormat: func(f *fixture) contractCase { j := f.junk(); return fails(3, j, "reg", "delete", j, "K") },
		badValue: func(f *fixture) contractCase {
			return fails(2, "--dry-run", "reg", "delete", f.hive(), "Select", "--dry-run=maybe")
		},
	},
	"reg export": {
		good: func(f *fixture) contractCase {
			return ok("reg", "export", f.hive(), "Select", "-o", f.newPath("x.reg"))
		},
		missing:     func(f *fixture) contractCase { return fails(3, f.missing(), "reg", "export", f.missing()) },
		wrongFormat: func(f *fixture) contractCase { j := f.junk(); return fails(3, j, "reg", "export", j) },
		badValue: func(f *fixture) contractCase {
			return fails(2, "--utf8", "reg", "export", f.hive(), "--utf8=maybe")
		},
	},
	"reg import": {
		good: func(f *fixture) contractCase {
			return ok("reg", "import", f.hive(), f.file("ok.reg", "Windows Registry Editor Version 5.00\r\n\r\n[\\Contract]\r\n\"a\"=dword:00000001\r\n"))
		},
		missing: func(f *fixture) contractCase { return fails(3, f.missing(), "reg", "import", f.hive(), f.missing()) },
		wrongFormat: func(f *fixture) contractCase {
			j := f.junk()
			return fails(3, j, "reg", "import", f.hive(), j)
		},
		badValue: func(f *fixture) contractCase {
			return fails(2, "--backup", "reg", "import", f.hive(), f.junk(), "--backup=maybe")
		},
	},
	"reg check": {
		good:        func(f *fixture) contractCase { return ok("reg", "check", f.hive()) },
		missing:     func(f *fixture) contractCase { return fails(3, f.missing(), "reg", "check", f.missing()) },
		wrongFormat: func(f *fixture) contractCase { j := f.junk(); return fails(1, j, "reg", "check", j) },
		badValue:    func(f *fixture) contractCase { return fails(2, "--json", "reg", "check", f.hive(), "--json=maybe") },
	},
	"reg recover": {
		good: func(f *fixture) contractCase { return ok("reg", "recover", f.hive(), "-o", f.newPath("clean")) },
		missing: func(f *fixture) contractCase {
			return fails(3, f.missing(), "reg", "recover", f.missing(), "-o", f.newPath("c"))
		},
		wrongFormat: func(f *fixture) contractCase {
			j := f.junk()
			return fails(3, j, "reg", "recover", j, "-o", f.newPath("c"))
		},
		badValue: func(f *fixture) contractCase {
			h := f.hive()
			return fails(2, h, "reg", "recover", h, "-o", h)
		},
	},
	"version": {
		good:     func(f *fixture) contractCase { return ok("version") },
		badValue: func(f *fixture) contractCase { return fails(2, "--json", "version", "--json=maybe") },
		notApplicable: map[string]string{
			"missing": "version reads no file", "wrong format": "version reads no file",
		},
	},
	"help": {
		good:     func(f *fixture) contractCase { return ok("help", "capture") },
		badValue: func(f *fixture) contractCase { return fails(2, "frobnicate", "help", "frobnicate") },
		notApplicable: map[string]string{
			"missing": "help reads no file", "wrong format": "help reads no file",
		},
	},
}

func ok(args ...string) contractCase { return contractCase{args: args} }

func fails(code int, names string, args ...string) contractCase {
	return contractCase{args: args, code: code, names: names}
}

// leafCommands returns the path of every command that runs, walking the
// command table as `reseal help` does; groups are returned separately.
func leafCommands() (leaves, groups []string) {
	var walk func(prefix string, cs []*command)
	walk = func(prefix string, cs []*command) {
		for _, c := range cs {
			p := strings.TrimSpace(prefix + " " + c.Name)
			if len(c.Sub) > 0 {
				groups = append(groups, p)
				walk(p, c.Sub)
				continue
			}
			leaves = append(leaves, p)
		}
	}
	walk("", commands())
	return leaves, groups
}

func TestContractCoversEveryCommand(t *testing.T) {
	leaves, _ := leafCommands()
	for _, p := range leaves {
		row, found := contractRows[p]
		if !found {
			t.Errorf("command %q has no row in contractRows (contract_test.go): add its good input, missing file, wrong-format file and bad flag value", p)
			continue
		}
		for name, fn := range map[string]func(*fixture) contractCase{"good": row.good, "missing": row.missing, "wrong format": row.wrongFormat, "bad value": row.badValue} {
			_, na := row.notApplicable[name]
			if fn == nil && !na {
				t.Errorf("command %q: no %s case and no reason in notApplicable", p, name)
			}
			if fn != nil && na {
				t.Errorf("command %q: %s case given and also marked not applicable", p, name)
			}
		}
	}
	for p := range contractRows {
		if !slices.Contains(leaves, p) {
			t.Errorf("contractRows has %q, which reseal help does not list", p)
		}
	}
}

// checkError checks a failing invocation's streams: nothing on stdout
// (except a checker's JSON verdict), one line on stderr,
// "reseal CMD: message", naming the user's path, with no temporary name and
// no package prefix repeated, and a usage error pointing at the help.
func checkError(t *testing.T, path string, c contractCase, code int, stdout, stderr string, jsonVerdict bool) {
	t.Helper()
	what := fmt.Sprintf("reseal %s", strings.Join(c.args, " "))
	if code != c.code {
		t.Errorf("%s: exit %d, want %d (stderr %q)", what, code, c.code, stderr)
	}
	if stdout != "" && !jsonVerdict && c.code != exitRefused {
		t.Errorf("%s: failure printed to stdout: %q", what, stdout)
	}
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	last := lines[len(lines)-1]
	errLines := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "reseal "+path+": ") && !strings.Contains(l, ": warning: ") {
			errLines++
		}
	}
	switch {
	case !strings.HasSuffix(stderr, "\n"):
		t.Errorf("%s: stderr does not end with a newline: %q", what, stderr)
	case errLines != 1 || !strings.HasPrefix(last, "reseal "+path+": "):
		t.Errorf("%s: want one error line \"reseal %s: ...\" last on stderr, got %q", what, path, stderr)
	}
	if c.names != "" && !strings.Contains(last, c.names) {
		t.Errorf("%s: the error does not name %q: %q", what, c.names, last)
	}
	if strings.Contains(last, ".reseal-") || strings.Contains(last, "reseal.lock") && !strings.Contains(strings.Join(c.args, " "), "reseal.lock") {
		t.Errorf("%s: the error names an internal file: %q", what, last)
	}
	if repeated.MatchString(last) {
		t.Errorf("%s: the error repeats a package prefix: %q", what, last)
	}
	if (code == exitUsage) != strings.HasSuffix(last, helpPointer(path)) {
		t.Errorf("%s: a usage error, and only a usage error, ends pointing at the help: %q", what, last)
	}
	if strings.Contains(last, " -") && singleDashFlag.MatchString(last) {
		t.Errorf("%s: a long flag written with one dash: %q", what, last)
	}
}

var (
	repeated       = regexp.MustCompile(`: (hive|wim|unattend|sysprep|winimage|regfile): `)
	singleDashFlag = regexp.MustCompile(`(^|[\s"(])-[a-z][a-z-]+\b`)
)

func TestContract(t *testing.T) {
	leaves, groups := leafCommands()
	schemas := jsonSchemas(t)
	for _, p := range leaves {
		row, found := contractRows[p]
		t.Run(strings.ReplaceAll(p, " ", "_"), func(t *testing.T) {
			usage := usageOf(t, p)
			// --help, in every position, whatever else is on the line.
			for _, args := range [][]string{{"--help"}, {"-h"}, {"x", "--help"}} {
				code, stdout, stderr := runCLI(t, append(strings.Fields(p), args...)...)
				if p == "help" {
					stdout = strings.Replace(stdout, "reseal prepares", "reseal help", 1) // the overview is help's usage
				}
				if code != exitOK || stderr != "" || !strings.HasPrefix(stdout, "reseal "+p) {
					t.Errorf("reseal %s %v: exit %d, stdout %.60q, stderr %q; want the usage on stdout, exit 0", p, args, code, stdout, stderr)
				}
			}
			// An unknown flag: refused before anything is read or written.
			c := contractCase{args: append(strings.Fields(p), "--bogus-flag"), code: exitUsage, names: "--bogus-flag"}
			code, stdout, stderr := runCLI(t, c.args...)
			checkError(t, p, c, code, stdout, stderr, false)

			acceptsJSON, acceptsQuiet := accepts(t, p, "--json"), accepts(t, p, "--quiet")
			if acceptsJSON != strings.Contains(usage, "[--json]") {
				t.Errorf("reseal %s: accepts --json = %v, but its usage says %q", p, acceptsJSON, firstLine(usage))
			}
			if acceptsQuiet != strings.Contains(firstLines(usage, 3), "quiet") {
				t.Errorf("reseal %s: accepts --quiet = %v, but its usage says %q", p, acceptsQuiet, firstLines(usage, 3))
			}
			if acceptsJSON && schemas[p] == nil {
				t.Errorf("reseal %s takes --json but docs/json.md has no schema for it", p)
			}
			if !acceptsJSON && schemas[p] != nil {
				t.Errorf("docs/json.md has a schema for reseal %s, which does not take --json", p)
			}
			if !found {
				return // TestContractCoversEveryCommand reports it
			}
			f := newFixture(t)
			if row.good != nil {
				c := row.good(f)
				code, stdout, stderr := runCLI(t, c.args...)
				if code != exitOK {
					t.Errorf("reseal %s: exit %d on good input (stderr %q)", strings.Join(c.args, " "), code, stderr)
				}
				if strings.Contains(stderr, "reseal "+p+": ") && !strings.Contains(stderr, "warning") {
					t.Errorf("reseal %s: success with an error line: %q", strings.Join(c.args, " "), stderr)
				}
				if strings.Contains(stdout, "\n\n\n") {
					t.Errorf("reseal %s: stray blank lines in %q", strings.Join(c.args, " "), stdout)
				}
				if acceptsQuiet {
					// --quiet: nothing but warnings on stderr, and stdout no
					// more than without it; with a terminal, progress goes
					// to stderr only.
					c := row.good(f)
					code, qout, qerr := runCLI(t, append(c.args, "--quiet")...)
					if code != exitOK {
						t.Errorf("reseal %s --quiet: exit %d (stderr %q)", strings.Join(c.args, " "), code, qerr)
					}
					for _, l := range strings.Split(strings.TrimSuffix(qerr, "\n"), "\n") {
						if l != "" && !strings.Contains(l, "warning: ") {
							t.Errorf("reseal %s --quiet printed %q", strings.Join(c.args, " "), l)
						}
					}
					if len(qout) > len(stdout) {
						t.Errorf("reseal %s --quiet printed more than without it: %q", strings.Join(c.args, " "), qout)
					}
					c = row.good(f)
					var out, errb bytes.Buffer
					code = run(t.Context(), c.args, &stdio{In: strings.NewReader(""), Out: &out, Err: &errb, ErrIsTerminal: true})
					if code != exitOK || strings.ContainsAny(out.String(), "\r\x1b") {
						t.Errorf("reseal %s on a terminal: exit %d, stdout %q", strings.Join(c.args, " "), code, out.String())
					}
				}
				if acceptsJSON {
					c := row.good(f)
					code, stdout, stderr := runCLI(t, append(c.args, "--json")...)
					if code != exitOK {
						t.Errorf("reseal %s --json: exit %d (stderr %q)", strings.Join(c.args, " "), code, stderr)
					}
					checkJSON(t, p, schemas[p], stdout)
				}
			}
			for name, fn := range map[string]func(*fixture) contractCase{"missing": row.missing, "wrong format": row.wrongFormat, "bad value": row.badValue} {
				if fn == nil {
					continue
				}
				c := fn(f)
				code, stdout, stderr := runCLI(t, c.args...)
				checkError(t, p, c, code, stdout, stderr, false)
				// A checker's verdict on a file of the wrong format is
				// printed as JSON too, in the command's schema.
				if name == "wrong format" && c.code == exitRefused && acceptsJSON {
					c := fn(f)
					code, stdout, stderr := runCLI(t, append(c.args, "--json")...)
					checkError(t, p, c, code, stdout, stderr, true)
					checkJSON(t, p, schemas[p], stdout)
				}
			}
		})
	}
	for _, g := range groups {
		for _, args := range [][]string{{"--help"}, {"-h"}} {
			code, stdout, stderr := runCLI(t, append(strings.Fields(g), args...)...)
			if code != exitOK || stderr != "" || !strings.Contains(stdout, "Commands of 'reseal "+g+"'") {
				t.Errorf("reseal %s %v: exit %d, stderr %q; want the group's usage on stdout, exit 0", g, args, code, stderr)
			}
		}
		for _, args := range [][]string{{"frobnicate"}, {}, {"--bogus-flag"}} {
			code, stdout, stderr := runCLI(t, append(strings.Fields(g), args...)...)
			if code != exitUsage || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "(see 'reseal help "+g+"')") {
				t.Errorf("reseal %s %v: exit %d, stderr %q; want one usage line", g, args, code, stderr)
			}
		}
	}
	// The overview promises no flag that some commands refuse.
	_, overview, _ := runCLI(t, "help")
	for _, l := range strings.Split(overview, "\n") {
		if strings.HasPrefix(l, "Usage:") && strings.Contains(l, "--json") {
			t.Errorf("reseal help: %q offers --json to every command", l)
		}
	}
}

func usageOf(t *testing.T, p string) string {
	t.Helper()
	_, stdout, _ := runCLI(t, append([]string{"help"}, strings.Fields(p)...)...)
	return stdout
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

// firstLines is a usage's synopsis (it may wrap).
func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n\n", 2)
	if ls := strings.Split(lines[0], "\n"); len(ls) > n {
		return strings.Join(ls[:n], "\n")
	}
	return lines[0]
}

// accepts reports whether command p takes flag: the flag parser stops at
// the first unknown flag, so "FLAG --bogus-flag" complains about FLAG only
// when FLAG is unknown; nothing is run either way.
func accepts(t *testing.T, p, flag string) bool {
	t.Helper()
	_, _, stderr := runCLI(t, append(strings.Fields(p), flag, "--bogus-flag")...)
	return !strings.Contains(stderr, "unknown flag "+flag) && !strings.Contains(stderr, "unknown switch "+flag) &&
		!strings.Contains(stderr, "no command")
}

// fixture makes the inputs of one command's cases, each a fresh copy in
// the test's temporary directories.
type fixture struct {
	t           *testing.T
	missingPath string
}

func newFixture(t *testing.T) *fixture {
	return &fixture{t: t, missingPath: filepath.Join(t.TempDir(), "missing", "nothing-here")}
}

var sampleOnce struct {
	sync.Once
	dir     string
	wimPath string
	err     error
}

// master returns a sample volume and a WIM captured from it, made once per
// test binary in a directory removed by TestMain's caller (os.TempDir).
func (f *fixture) master() (string, string) {
	f.t.Helper()
	sampleOnce.Do(func() {
		dir, err := os.MkdirTemp("", "reseal-contract-")
		if err != nil {
			sampleOnce.err = err
			return
		}
		sampleOnce.dir = filepath.Join(dir, "vol")
		if sampleOnce.err = sample.Write(sampleOnce.dir, sample.Options{Seed: 5}); sampleOnce.err != nil {
			return
		}
		sampleOnce.wimPath = filepath.Join(dir, "sample.wim")
		sampleOnce.err = wim.Capture(f.t.Context(), sampleOnce.dir, sampleOnce.wimPath, wim.CaptureOptions{Name: "sample"})
	})
	if sampleOnce.err != nil {
		f.t.Fatal(sampleOnce.err)
	}
	return sampleOnce.dir, sampleOnce.wimPath
}

func (f *fixture) volume() string {
	src, _ := f.master()
	dst := f.newPath("vol")
	copyTree(f.t, src, dst)
	return dst
}

func (f *fixture) hive() string {
	src, _ := f.master()
	dst := f.newPath("SYSTEM")
	copyFile(f.t, filepath.Join(src, "Windows", "System32", "config", "SYSTEM"), dst)
	return dst
}

func (f *fixture) wim() string {
	_, src := f.master()
	dst := f.newPath("sample.wim")
	copyFile(f.t, src, dst)
	return dst
}

func (f *fixture) answerFile() string {
	u, err := unattend.Generate(unattend.GenerateOptions{ComputerName: "*", TimeZone: "UTC"})
	if err != nil {
		f.t.Fatal(err)
	}
	p := f.newPath("unattend.xml")
	fh, err := os.Create(p)
	if err != nil {
		f.t.Fatal(err)
	}
	defer fh.Close()
	if _, err := u.WriteTo(fh); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// junk is a file of no format at all.
func (f *fixture) junk() string { return f.file("junk.bin", "junk, not a WIM, hive or XML\n") }

func (f *fixture) file(name, content string) string {
	p := f.newPath(name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// missing is a path that does not exist (the same one for all of a case's
// calls, so that the case can say which path the error must name).
func (f *fixture) missing() string { return f.missingPath }

func (f *fixture) emptyDir() string { return f.t.TempDir() }
func (f *fixture) newPath(name string) string {
	return filepath.Join(f.t.TempDir(), name)
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		copyFile(t, p, target)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// jsonSchemas reads the schema of each command from docs/json.md: the
// first ```json block after a heading "## `reseal CMD`".
func jsonSchemas(t *testing.T) map[string]map[string]any {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "json.md"))
	if err != nil {
		t.Fatal(err)
	}
	schemas := map[string]map[string]any{}
	heading := regexp.MustCompile("(?m)^## `reseal ([a-z ]+)`\\s*$")
	locs := heading.FindAllSubmatchIndex(doc, -1)
	for i, loc := range locs {
		name := string(doc[loc[2]:loc[3]])
		end := len(doc)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		section := string(doc[loc[1]:end])
		_, block, found := strings.Cut(section, "```json\n")
		if !found {
			t.Errorf("docs/json.md: reseal %s has no ```json schema", name)
			continue
		}
		block, _, _ = strings.Cut(block, "```")
		var s map[string]any
		if err := json.Unmarshal([]byte(block), &s); err != nil {
			t.Errorf("docs/json.md: schema of reseal %s: %v", name, err)
			continue
		}
		schemas[name] = s
	}
	if len(schemas) == 0 {
		t.Fatal("docs/json.md: no schemas found")
	}
	return schemas
}

func checkJSON(t *testing.T, p string, schema map[string]any, out string) {
	t.Helper()
	if schema == nil {
		return
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Errorf("reseal %s --json: not JSON: %v\n%.300s", p, err, out)
		return
	}
	if dec.More() {
		t.Errorf("reseal %s --json: more than one JSON document", p)
	}
	for _, e := range validateSchema(schema, v, "$") {
		t.Errorf("reseal %s --json: %s", p, e)
	}
	for _, k := range keysOf(v) {
		if k != strings.ToLower(k) || strings.ContainsAny(k, "- ") {
			t.Errorf("reseal %s --json: key %q is not snake_case", p, k)
		}
	}
}

// keysOf lists every object key in v, at any depth.
func keysOf(v any) []string {
	var keys []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			keys = append(keys, k)
			keys = append(keys, keysOf(x)...)
		}
	case []any:
		for _, x := range v {
			keys = append(keys, keysOf(x)...)
		}
	}
	return keys
}

// validateSchema checks v against the JSON Schema subset docs/json.md
// uses: type (one or a list), properties, required, additionalProperties
// false, items, enum, maxItems. A list is never null: "array" does not
// accept null.
func validateSchema(s map[string]any, v any, at string) []string {
	var errs []string
	if types, ok := s["type"]; ok {
		var want []string
		switch ty := types.(type) {
		case string:
			want = []string{ty}
		case []any:
			for _, x := range ty {
				want = append(want, x.(string))
			}
		}
		if !slices.Contains(want, jsonType(v)) && !(jsonType(v) == "integer" && slices.Contains(want, "number")) {
			return append(errs, fmt.Sprintf("%s: %s, want %s", at, jsonType(v), strings.Join(want, " or ")))
		}
	}
	if enum, ok := s["enum"].([]any); ok {
		if !slices.ContainsFunc(enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) }) {
			errs = append(errs, fmt.Sprintf("%s: %v is not one of %v", at, v, enum))
		}
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				if _, ok := v[r.(string)]; !ok {
					errs = append(errs, fmt.Sprintf("%s: missing %q", at, r))
				}
			}
		}
		for k, x := range v {
			ps, known := props[k].(map[string]any)
			if !known {
				if s["additionalProperties"] == false {
					errs = append(errs, fmt.Sprintf("%s: unexpected key %q (not in docs/json.md)", at, k))
				}
				continue
			}
			errs = append(errs, validateSchema(ps, x, at+"."+k)...)
		}
	case []any:
		if m, ok := s["maxItems"].(float64); ok && float64(len(v)) > m {
			errs = append(errs, fmt.Sprintf("%s: %d items, at most %v", at, len(v), m))
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, x := range v {
				errs = append(errs, validateSchema(items, x, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	}
	return errs
}

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func TestValidateSchemaCanFail(t *testing.T) {
	schema := map[string]any{}
	json.Unmarshal([]byte(`{"type":"object","additionalProperties":false,"required":["a","b"],"properties":{"a":{"type":"array","items":{"type":"integer"}},"b":{"enum":["x"]}}}`), &schema)
	for doc, bad := range map[string]bool{
		`{"a":[1,2],"b":"x"}`:     false,
		`{"a":null,"b":"x"}`:      true, // null list
		`{"a":[1],"b":"y"}`:       true,
		`{"a":[1],"b":"x","C":1}`: true,
		`{"a":["1"],"b":"x"}`:     true,
		`{"b":"x"}`:               true,
		`{"a":[1.5],"b":"x"}`:     true,
	} {
		var v any
		dec := json.NewDecoder(strings.NewReader(doc))
		dec.UseNumber()
		dec.Decode(&v)
		if errs := validateSchema(schema, v, "$"); (len(errs) > 0) != bad {
			t.Errorf("%s: errors %v, want bad=%v", doc, errs, bad)
		}
	}
}

// TestReadmeCommandTable: the README's command reference has a row for
// every command, and the row shows every flag of the command's synopsis
// (the usage's first lines), so that the table cannot fall behind.
func TestReadmeCommandTable(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, l := range strings.Split(string(readme), "\n") {
		if !strings.HasPrefix(l, "| `reseal ") {
			continue
		}
		cell := strings.TrimPrefix(l, "| `reseal ")
		words := strings.Fields(cell)
		// The command is the leading lowercase words (reg query, unattend password ...).
		var name []string
		for _, w := range words {
			if w != strings.ToLower(w) || strings.ContainsAny(w, "[|`-.") {
				break
			}
			name = append(name, w)
		}
		for i := len(name); i > 0; i-- {
			rows[strings.Join(name[:i], " ")] += l
		}
	}
	flag := regexp.MustCompile(`(?:^|[\s\[|(])(--?[a-z][a-z0-9-]*)`)
	leaves, _ := leafCommands()
	for _, p := range leaves {
		row, ok := rows[p]
		if !ok {
			t.Errorf("README's command table has no row for reseal %s", p)
			continue
		}
		for _, m := range flag.FindAllStringSubmatch(firstLines(usageOf(t, p), 3), -1) {
			if !strings.Contains(row, m[1]) {
				t.Errorf("README's row for reseal %s lacks %s (its usage has it)", p, m[1])
			}
		}
	}
}
