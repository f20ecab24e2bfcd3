package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// runCLI runs reseal in-process and returns exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func TestHelpListsEveryCommandWithSummary(t *testing.T) {
	code, out, _ := runCLI(t, "help")
	if code != exitOK {
		t.Fatalf("help exit %d", code)
	}
	for _, c := range commands() {
		if c.Summary == "" || strings.Contains(c.Summary, "\n") {
			t.Errorf("command %q needs a one-line summary", c.Name)
		}
		if !strings.Contains(out, c.Name+" ") {
			t.Errorf("help does not list %q:\n%s", c.Name, out)
		}
		if c.Run == nil && c.Name != "help" && len(c.Sub) == 0 {
			t.Errorf("command %q neither runs nor has subcommands", c.Name)
		}
		for _, s := range c.Sub {
			if s.Summary == "" || s.Usage == "" || s.Run == nil {
				t.Errorf("subcommand %s %s is incomplete", c.Name, s.Name)
			}
		}
	}
}

func TestExitCodes(t *testing.T) {
	cases := []struct {
		args []string
		code int
	}{
		{nil, exitUsage},
		{[]string{"no-such-command"}, exitUsage},
		{[]string{"help", "no-such-command"}, exitUsage},
		{[]string{"version", "--no-such-flag"}, exitUsage},
		{[]string{"version", "extra"}, exitUsage},
		{[]string{"version"}, exitOK},
		{[]string{"--help"}, exitOK},
		{[]string{"version", "--help"}, exitOK},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(t, c.args...)
		if code != c.code {
			t.Errorf("reseal %v: exit %d, want %d (stderr %q)", c.args, code, c.code, stderr)
		}
		if code == exitUsage && strings.Count(strings.TrimSpace(stderr), "\n") > 1 && len(c.args) > 0 {
			t.Errorf("reseal %v: usage error should be short, got %q", c.args, stderr)
		}
	}
}

func TestVersionJSON(t *testing.T) {
	code, out, _ := runCLI(t, "version", "--json")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var v map[string]string
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("version --json is not JSON: %v\n%s", err, out)
	}
	if v["version"] == "" || v["go"] == "" {
		t.Errorf("version JSON lacks fields: %v", v)
	}
}

func TestPanicBecomesExitFailure(t *testing.T) {
	var out, errb bytes.Buffer
	boom := &command{Name: "boom", Summary: "x", Run: func(context.Context, *stdio, []string) error { panic("kaboom") }}
	code := func() int {
		defer func() {}()
		return runWith(context.Background(), []*command{boom}, []string{"boom"}, &stdio{Out: &out, Err: &errb})
	}()
	if code != exitFailure || !strings.Contains(errb.String(), "internal error") {
		t.Fatalf("panic gave exit %d, stderr %q", code, errb.String())
	}
}

func TestParseFlagsInterspersed(t *testing.T) {
	fs := newFlagSet("x")
	r := fs.Bool("r", false, "")
	var data stringList
	fs.Var(&data, "data", "")
	pos, err := parseFlags(fs, []string{"HIVE", "-r", "KEY", "--data", "a", "--data", "b", "--", "-notflag"})
	if err != nil {
		t.Fatal(err)
	}
	if !*r || strings.Join(pos, "|") != "HIVE|KEY|-notflag" || strings.Join(data, "|") != "a|b" {
		t.Fatalf("got r=%v pos=%q data=%q", *r, pos, data)
	}
}

func TestTidyMessage(t *testing.T) {
	for in, want := range map[string]string{
		`hive X: hive: malformed at offset 0x0`: `hive X: malformed at offset 0x0`,
		"sample: directory is not empty":        "sample: directory is not empty",
		"X: key \"K\": hive: does not exist":    "X: key \"K\": does not exist",
		"a.wim: a.wim: malformed WIM":           "a.wim: malformed WIM",
		"two\nlines":                            "two; lines",
		"wim":                                   "wim",
		"open hive: open /x/hive: no such file": "open hive: open /x/hive: no such file",
	} {
		if got := tidyMessage(in); got != want {
			t.Errorf("tidyMessage(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFlagErrorText(t *testing.T) {
	fs := newFlagSet("x")
	fs.Int("threads", 0, "")
	fs.Bool("json", false, "")
	fs.String("o", "", "")
	for args, want := range map[string]string{
		"--bogus":      "unknown flag --bogus",
		"-bogus":       "unknown flag --bogus",
		"--threads x":  `--threads "x": not a number`,
		"--json=maybe": `--json "maybe"`,
		"-o":           "-o needs a value",
		"--threads":    "--threads needs a value",
	} {
		_, err := parseFlags(fs, strings.Fields(args))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v, want %q", args, err, want)
		}
	}
}
