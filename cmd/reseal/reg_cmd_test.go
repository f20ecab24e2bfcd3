package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseal/reseal/hive"
	"github.com/reseal/reseal/internal/testenv"
)

// snapshot records every file of a directory with its content, to prove
// that a command wrote nothing.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(b)
	}
	return files
}

func sameSnapshot(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	if len(before) != len(after) {
		t.Errorf("%s: files changed: %d before, %d after", what, len(before), len(after))
	}
	for name, content := range before {
		if after[name] != content {
			t.Errorf("%s: %s was changed", what, name)
		}
	}
}

// peerOutput runs a peer tool and returns its standard output.
func peerOutput(t *testing.T, tool string, args ...string) string {
	t.Helper()
	out, err := exec.Command(testenv.Peer(t, tool), args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", tool, args, err)
	}
	return string(out)
}

func TestRegQuery(t *testing.T) {
	sys := testenv.CorpusHiveWithLogs(t, "regipy/SYSTEM")
	code, out, stderr := runCLI(t, "reg", "query", sys, `\Select`)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"Select\n", "    Current    REG_DWORD    0x1\n", "    LastKnownGood    REG_DWORD    0x2\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("query output lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = runCLI(t, "reg", "query", sys, `ControlSet001\Control\ComputerName`, "-r", "--json")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var doc struct {
		Keys []struct {
			Path   string
			Values []struct {
				Name, Type string
				Data       any
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	found := false
	for _, k := range doc.Keys {
		for _, v := range k.Values {
			if k.Path == `ControlSet001\Control\ComputerName\ComputerName` && v.Name == "ComputerName" && v.Type == "REG_SZ" && v.Data == "WKS-WIN732BITA" {
				found = true
			}
		}
	}
	if !found || len(doc.Keys) < 2 {
		t.Errorf("recursive JSON query lacks the computer name: %s", out)
	}

	code, _, stderr = runCLI(t, "reg", "query", sys, `No\Such\Key`)
	if code != exitRefused || !strings.Contains(stderr, sys) || !strings.Contains(stderr, "Such") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("missing key: exit %d, stderr %q", code, stderr)
	}
}

func TestRegSetAndDeleteReadBackByPeers(t *testing.T) {
	sys := testenv.CorpusHiveWithLogs(t, "regipy/SYSTEM")
	dir := filepath.Dir(sys)
	key := `ControlSet001\Control\ResealTest`
	sets := [][]string{
		{"Str", "--data", "héllo wörld"},
		{"Dw", "--type", "REG_DWORD", "--data", "0x2a"},
		{"Qw", "--type", "qword", "--data", "1099511627776"},
		{"Exp", "--type", "REG_EXPAND_SZ", "--data", `%SystemRoot%\x`},
		{"Multi", "--type", "REG_MULTI_SZ", "--data", "one", "--data", "two"},
		{"Bin", "--type", "REG_BINARY", "--data", "de,ad,be,ef"},
		{"None", "--type", "REG_NONE", "--data", ""},
		{"", "--data", "the default"},
	}
	for _, s := range sets {
		args := append([]string{"reg", "set", sys, key}, s...)
		if code, _, stderr := runCLI(t, args...); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
	}
	if _, err := os.Stat(sys + ".bak"); err == nil {
		t.Error("a backup was made without --backup")
	}

	hk := `\` + key
	for name, want := range map[string]string{"Str": "héllo wörld", "Exp": `%SystemRoot%\x`, "": "the default"} {
		got := strings.TrimSpace(peerOutput(t, "hivexget", sys, hk, name))
		if name == "" {
			got = strings.TrimSpace(peerOutput(t, "hivexget", sys, hk, "@"))
		}
		if got != want {
			t.Errorf("hivexget %q = %q, want %q", name, got, want)
		}
	}
	lookup := peerOutput(t, "reglookup", "-H", "-p", "/ControlSet001/Control/ResealTest", sys)
	for _, want := range []string{
		"/ResealTest/Dw,DWORD,0x0000002A,",
		"/ResealTest/Qw,QWORD,0x0000010000000000,",
		"/ResealTest/Multi,MULTI_SZ,one|two,",
		"/ResealTest/Bin,BINARY,%DE%AD%BE%EF,",
		"/ResealTest/None,NONE,",
	} {
		if !strings.Contains(lookup, want) {
			t.Errorf("reglookup output lacks %q:\n%s", want, lookup)
		}
	}

	// A dry run reports and writes nothing; setting the same data is no change.
	before := snapshot(t, dir)
	code, out, _ := runCLI(t, "reg", "set", sys, key, "Dw", "--type", "REG_DWORD", "--data", "7", "--dry-run", "--backup")
	if code != exitOK || !strings.Contains(out, "would set "+key+`\Dw: REG_DWORD 0x7 (was REG_DWORD 0x2a)`) {
		t.Errorf("dry run: exit %d, %q", code, out)
	}
	code, out, _ = runCLI(t, "reg", "set", sys, key, "Dw", "--type", "REG_DWORD", "--data", "42")
	if code != exitOK || !strings.Contains(out, "nothing to change") {
		t.Errorf("same data: exit %d, %q", code, out)
	}
	sameSnapshot(t, "dry run and no-op set", before, snapshot(t, dir))

	// --backup keeps the previous file.
	code, _, stderr := runCLI(t, "reg", "delete", sys, key, "--value", "Dw", "--backup")
	if code != exitOK {
		t.Fatalf("delete value: exit %d: %s", code, stderr)
	}
	if bak, err := os.ReadFile(sys + ".bak"); err != nil || string(bak) != before[filepath.Base(sys)] {
		t.Errorf("backup is not the previous hive: %v", err)
	}
	if lookup := peerOutput(t, "reglookup", "-H", "-p", "/ControlSet001/Control/ResealTest", sys); strings.Contains(lookup, "/Dw,") {
		t.Errorf("deleted value still listed:\n%s", lookup)
	}
	code, _, stderr = runCLI(t, "reg", "delete", sys, key, "--value", "Dw")
	if code != exitRefused || !strings.Contains(stderr, "Dw") {
		t.Errorf("deleting a missing value: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runCLI(t, "reg", "delete", sys, `ControlSet001\Control`); code != exitOK {
		t.Fatalf("delete key: exit %d: %s", code, stderr)
	}
	if out, err := exec.Command(testenv.Peer(t, "hivexget"), sys, `\ControlSet001\Control`).CombinedOutput(); err == nil {
		t.Errorf("hivexget still finds the deleted key: %s", out)
	}
	if code, out, _ := runCLI(t, "reg", "check", sys); code != exitOK {
		t.Errorf("check after edits: exit %d\n%s", code, out)
	}
}

func TestRegSetUsageErrors(t *testing.T) {
	sys := testenv.CorpusHiveWithLogs(t, "regipy/SAM")
	for _, args := range [][]string{
		{"reg", "set", sys, "K"},
		{"reg", "set", sys, "K", "N", "--type", "REG_BOGUS", "--data", "1"},
		{"reg", "set", sys, "K", "N", "--type", "REG_DWORD", "--data", "0x100000000"},
		{"reg", "set", sys, "K", "N", "--type", "REG_DWORD"},
		{"reg", "set", sys, "K", "N", "--type", "REG_BINARY", "--data", "xyz"},
		{"reg", "set", sys, "K", "N", "--data", "a", "--data", "b"},
		{"reg", "delete", sys, `\`},
		{"reg", "query"},
		{"reg", "recover", sys},
		{"reg", "recover", sys, "-o", sys},
		{"reg", "import", sys},
	} {
		before := snapshot(t, filepath.Dir(sys))
		if code, _, stderr := runCLI(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args[1:], code, exitUsage, stderr)
		}
		sameSnapshot(t, strings.Join(args, " "), before, snapshot(t, filepath.Dir(sys)))
	}
}

func TestRegExportImport(t *testing.T) {
	sam := testenv.CorpusHiveWithLogs(t, "regipy/SAM")
	dir := t.TempDir()
	regPath := filepath.Join(dir, "sam.reg")
	if code, _, stderr := runCLI(t, "reg", "export", sam, "--prefix", `HKEY_LOCAL_MACHINE\SAM`, "-o", regPath); code != exitOK {
		t.Fatalf("export: exit %d: %s", code, stderr)
	}
	text, err := os.ReadFile(regPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(text, []byte{0xFF, 0xFE, 'W', 0}) {
		t.Errorf("export is not UTF-16LE with a byte order mark: % x", text[:8])
	}

	// Importing a hive's own export changes nothing, and writes nothing.
	before := snapshot(t, filepath.Dir(sam))
	code, out, stderr := runCLI(t, "reg", "import", sam, regPath, "--prefix", `HKLM\SAM`)
	if code != exitOK || !strings.Contains(out, "nothing to change") || !strings.Contains(out, " 0 values set") {
		t.Errorf("self import: exit %d, %q %q", code, out, stderr)
	}
	sameSnapshot(t, "self import", before, snapshot(t, filepath.Dir(sam)))

	// Into another hive: the subtree arrives, as hivex and reglookup see it.
	sys := testenv.CorpusHiveWithLogs(t, "regipy/SYSTEM")
	code, out, stderr = runCLI(t, "reg", "import", sys, regPath, "--prefix", `HKEY_LOCAL_MACHINE\SAM`, "--dry-run")
	if code != exitOK || !strings.Contains(out, "would create key SAM\\Domains\\Account\\Users\\000001F4") || !strings.Contains(out, "dry run") {
		t.Errorf("dry-run import: exit %d %q %q", code, clipOut(out), stderr)
	}
	code, _, stderr = runCLI(t, "reg", "import", sys, regPath, "--prefix", `HKEY_LOCAL_MACHINE\SAM`)
	if code != exitOK {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	lookup := peerOutput(t, "reglookup", "-H", "-p", "/SAM/Domains/Account/Users/Names", sys)
	for _, user := range []string{"Administrator", "Guest", "Preston"} {
		if !strings.Contains(lookup, "/Names/"+user+",KEY") {
			t.Errorf("reglookup does not list user %s after import:\n%s", user, lookup)
		}
	}
	if code, out, _ := runCLI(t, "reg", "check", sys); code != exitOK {
		t.Errorf("check after import: exit %d %s", code, out)
	}
	// And the two exports of the subtree agree.
	var exports [2]string
	for i, h := range []string{sam, sys} {
		key := `SAM`
		if h == sam {
			key = `SAM`
		}
		code, out, stderr := runCLI(t, "reg", "export", h, key, "--utf8", "--prefix", `HKEY_LOCAL_MACHINE\X`)
		if code != exitOK {
			t.Fatalf("export %s: %d %s", h, code, stderr)
		}
		exports[i] = out
	}
	if exports[0] != exports[1] || !strings.HasPrefix(exports[0], "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\X\\SAM]\r\n") {
		t.Errorf("subtree exports differ or are malformed:\n%s\n---\n%s", clipOut(exports[0]), clipOut(exports[1]))
	}
}

func TestRegImportBadFileWritesNothing(t *testing.T) {
	sys := testenv.CorpusHiveWithLogs(t, "regipy/SAM")
	reg := filepath.Join(t.TempDir(), "bad.reg")
	os.WriteFile(reg, []byte("Windows Registry Editor Version 5.00\n\n[\\New]\n\"a\"=dword:1\n\"b\"=hex:zz\n"), 0o644)
	before := snapshot(t, filepath.Dir(sys))
	code, _, stderr := runCLI(t, "reg", "import", sys, reg)
	if code != exitFailure || !strings.Contains(stderr, reg) || !strings.Contains(stderr, "line 5") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("bad .reg: exit %d, %q", code, stderr)
	}
	sameSnapshot(t, "bad .reg", before, snapshot(t, filepath.Dir(sys)))
	code, _, stderr = runCLI(t, "reg", "import", sys, filepath.Join(t.TempDir(), "missing.reg"))
	if code != exitFailure || !strings.Contains(stderr, "missing.reg") {
		t.Errorf("missing .reg: exit %d, %q", code, stderr)
	}
}

// Broken hives: every command fails with one line naming the file, exit 3,
// and writes nothing.
func TestRegHostileHives(t *testing.T) {
	broken := []string{"zimmerman/NotAHive", "dfwinreg/SYSTEM.DAT", "zimmerman/SAN(OTHER)", "zimmerman/SAMBadHBinHeader", "regipy/corrupted_system_hive"}
	type input struct{ name, path string }
	var inputs []input
	for _, b := range broken {
		inputs = append(inputs, input{b, testenv.CorpusHiveWithLogs(t, b)})
	}
	// Truncated copies of a good hive: inside the base block, and mid-bin.
	full, err := os.ReadFile(testenv.Corpus(t, "hives", "regipy", "SAM"))
	if err != nil {
		t.Fatal(err)
	}
	// The base block gives the size of the hive bins (the file may be
	// longer, padded): cut inside them.
	bins := int(binary.LittleEndian.Uint32(full[0x28:]))
	for _, n := range []int{0, 100, 4096 + 1000, 4096 + bins/2, 4096 + bins - 1} {
		p := filepath.Join(t.TempDir(), "SAM")
		os.WriteFile(p, full[:n], 0o644)
		inputs = append(inputs, input{fmt.Sprintf("SAM truncated to %d bytes", n), p})
	}
	reg := filepath.Join(t.TempDir(), "ok.reg")
	os.WriteFile(reg, []byte("Windows Registry Editor Version 5.00\n\n[\\New]\n\"a\"=dword:1\n"), 0o644)
	for _, in := range inputs {
		dir := filepath.Dir(in.path)
		out := filepath.Join(dir, "recovered")
		for _, args := range [][]string{
			{"reg", "query", in.path},
			{"reg", "export", in.path, "-o", filepath.Join(dir, "x.reg")},
			{"reg", "set", in.path, "K", "N", "--data", "x"},
			{"reg", "delete", in.path, "K"},
			{"reg", "import", in.path, reg},
			{"reg", "recover", in.path, "-o", out},
			{"reg", "check", in.path},
		} {
			before := snapshot(t, dir)
			code, stdout, stderr := runCLI(t, args...)
			// check judges the file: a damaged hive's defects, or that it is
			// not a hive at all, are its verdict (exit 1).
			if code != exitFailure && !(args[1] == "check" && code == exitRefused) {
				t.Errorf("%s: %v: exit %d, want %d (%q)", in.name, args[1], code, exitFailure, stderr)
			}
			if code == exitFailure && (!strings.Contains(stderr, in.path) || strings.Count(stderr, "\n") != 1) {
				t.Errorf("%s: %v: error should be one line naming the file: %q", in.name, args[1], stderr)
			}
			if code == exitRefused && !strings.Contains(stdout, "offset 0x") && (!strings.Contains(stderr, in.path) || strings.Count(stderr, "\n") != 1) {
				t.Errorf("%s: check lists no defect: %q %q", in.name, stdout, stderr)
			}
			sameSnapshot(t, in.name+" "+args[1], before, snapshot(t, dir))
		}
	}
}

func TestRegRecoverDirtyHive(t *testing.T) {
	sysb := testenv.CorpusHiveWithLogs(t, "regipy/SYSTEM_B")
	dir := filepath.Dir(sysb)
	before := snapshot(t, dir)
	out := filepath.Join(t.TempDir(), "SYSTEM_B.clean")
	code, stdout, stderr := runCLI(t, "reg", "recover", sysb, "-o", out, "--json")
	if code != exitOK {
		t.Fatalf("recover: exit %d: %s", code, stderr)
	}
	var doc struct {
		Recovery struct {
			Applied    bool `json:"applied"`
			DirtyPages int  `json:"dirty_pages"`
		}
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	// regipy replays 315 dirty pages from SYSTEM_B's logs.
	if !doc.Recovery.Applied || doc.Recovery.DirtyPages != 315 {
		t.Errorf("recovery: %+v", doc.Recovery)
	}
	sameSnapshot(t, "recover", before, snapshot(t, dir))
	clean, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(clean[4:8], clean[8:12]) {
		t.Errorf("recovered copy has sequence numbers % x and % x", clean[4:8], clean[8:12])
	}
	if code, stdout, _ := runCLI(t, "reg", "check", out); code != exitOK {
		t.Errorf("check of the recovered copy: exit %d\n%s", code, stdout)
	}
	// hivex and reglookup read the copy, with no logs beside it.
	if got := strings.TrimSpace(peerOutput(t, "hivexget", out, `\Select`, "Current")); got == "" {
		t.Error("hivexget reads nothing from the recovered copy")
	}
	if lookup := peerOutput(t, "reglookup", "-H", "-p", "/Select", out); !strings.Contains(lookup, "/Select/Current,DWORD,") {
		t.Errorf("reglookup on the recovered copy:\n%s", lookup)
	}
}

func clipOut(s string) string {
	if len(s) > 600 {
		return s[:600] + "..."
	}
	return s
}

// Editing a dirty hive keeps what only its logs held: after `reg set` on
// SYSTEM_B (dirty, with LOG1/LOG2), hivex, which ignores logs, reads the
// committed file exactly as it reads a recovered copy edited the same way.
func TestRegSetOnDirtyHiveKeepsLoggedData(t *testing.T) {
	hivex := testenv.Peer(t, "hivexregedit")
	sysb := testenv.CorpusHiveWithLogs(t, "regipy/SYSTEM_B")
	recovered := filepath.Join(t.TempDir(), "SYSTEM_B")
	if code, _, stderr := runCLI(t, "reg", "recover", sysb, "-o", recovered); code != exitOK {
		t.Fatalf("recover: exit %d: %s", code, stderr)
	}
	before, err := exec.Command(hivex, "--export", recovered, `\`).Output()
	if err != nil {
		t.Fatalf("hivexregedit --export %s: %v", recovered, err)
	}
	// A stale log backup of an earlier --backup must not stay beside the
	// new, self-contained one.
	if err := os.WriteFile(sysb+".LOG1.bak", []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	var setOut string
	for _, h := range []string{recovered, sysb} {
		code, out, stderr := runCLI(t, "reg", "set", h, `ControlSet001\Control\ResealTest`, "Marker", "--type", "REG_DWORD", "--data", "7", "--backup")
		if code != exitOK {
			t.Fatalf("set on %s: exit %d: %s", h, code, stderr)
		}
		setOut = out
	}
	// The output says what was recovered, and the backup is usable alone:
	// hivex, which ignores logs, reads it as the recovered state before
	// the change.
	if !strings.Contains(setOut, "recovered from SYSTEM_B.LOG1") || !strings.Contains(setOut, "usable alone") || !strings.Contains(setOut, "was dirty") {
		t.Errorf("set on a dirty hive says:\n%s", setOut)
	}
	for _, suffix := range []string{".LOG1.bak", ".LOG2.bak"} {
		if _, err := os.Stat(sysb + suffix); !os.IsNotExist(err) {
			t.Errorf("%s beside a self-contained backup (%v)", filepath.Base(sysb+suffix), err)
		}
	}
	bak, err := exec.Command(hivex, "--export", sysb+".bak", `\`).Output()
	if err != nil {
		t.Fatalf("hivexregedit --export %s.bak: %v", sysb, err)
	}
	if string(bak) != string(before) {
		t.Error("hivex reads the backup of the dirty hive differently from its recovered state before the change")
	}
	if code, out, _ := runCLI(t, "reg", "check", sysb+".bak", "--json"); code != exitOK || !strings.Contains(out, `"dirty": false`) {
		t.Errorf("backup check: exit %d\n%s", code, out)
	}
	var exports [2]string
	for i, h := range []string{recovered, sysb} {
		out, err := exec.Command(hivex, "--export", h, `\`).Output()
		if err != nil {
			t.Fatalf("hivexregedit --export %s: %v", h, err)
		}
		exports[i] = string(out)
	}
	if exports[0] != exports[1] {
		t.Error("hivex reads the edited dirty hive differently from the edited recovered copy")
	}
	if !strings.Contains(exports[1], "[\\ControlSet001\\Control\\ResealTest]\n\"Marker\"=dword:00000007\n") {
		t.Error("hivex does not see the new value")
	}
	if code, out, _ := runCLI(t, "reg", "check", sysb); code != exitOK {
		t.Errorf("check: exit %d\n%s", code, out)
	}
}

// A hive that opens but is damaged inside: check lists each defect with
// its offset and exits 1; a clean one exits 0.
func TestRegCheckListsDefects(t *testing.T) {
	path := filepath.Join(t.TempDir(), "NEW")
	h := hive.New()
	for _, name := range []string{"Alpha", "Beta", "Gamma"} {
		if _, err := h.Root().CreateKey(name); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := runCLI(t, "reg", "check", path); code != exitOK || !strings.Contains(out, ": ok") {
		t.Fatalf("new hive: exit %d %q %q", code, out, stderr)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The root's subkey list: "lh", a count, then (offset, hash) pairs.
	// Spoil the first name hash.
	i := bytes.Index(raw[4096:], []byte("lh\x03\x00"))
	if i < 0 {
		t.Fatal("no lh list with 3 entries in the new hive")
	}
	raw[4096+i+8] ^= 0xFF
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCLI(t, "reg", "check", path)
	if code != exitRefused || !strings.Contains(out, path+": offset 0x") || !strings.Contains(stderr, "defect") {
		t.Errorf("damaged hive: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	code, out, _ = runCLI(t, "reg", "check", path, "--json")
	var doc struct {
		OK       bool `json:"ok"`
		Problems []struct {
			Offset  int64  `json:"offset"`
			Message string `json:"message"`
		} `json:"problems"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitRefused || doc.OK || len(doc.Problems) == 0 || doc.Problems[0].Message == "" {
		t.Errorf("check --json: exit %d, %v, %s", code, err, out)
	}
}

func TestRegImportStdinAndExportStdout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "NEW")
	if err := hive.New().SaveAs(path); err != nil {
		t.Fatal(err)
	}
	text := "REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor]\r\n\"Path\"=\"C:\\\\x\"\r\n\"Exp\"=hex(2):41,42,00\r\n"
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"reg", "import", path, "-", "--prefix", `HKLM\SOFTWARE`}, &stdio{In: strings.NewReader(text), Out: &out, Err: &errb})
	if code != exitOK {
		t.Fatalf("import from stdin: exit %d: %s", code, errb.String())
	}
	code, export, stderr := runCLI(t, "reg", "export", path, "Vendor", "--prefix", `HKEY_LOCAL_MACHINE\SOFTWARE`, "--utf8")
	want := "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor]\r\n\"Path\"=\"C:\\\\x\"\r\n\"Exp\"=hex(2):41,00,42,00,00,00\r\n\r\n"
	if code != exitOK || export != want {
		t.Errorf("export: exit %d %q\ngot  %q\nwant %q", code, stderr, export, want)
	}
	if code, _, stderr := runCLI(t, "reg", "export", path, "Missing"); code != exitRefused || !strings.Contains(stderr, "Missing") {
		t.Errorf("export of a missing key: exit %d %q", code, stderr)
	}
}

// TestRegKeyFormsAsUsersTypeThem: reg.exe's and regedit's key forms name
// the same key as the path below the hive's root; CurrentControlSet goes
// through Select\Current; a root naming another hive is refused.
func TestRegKeyFormsAsUsersTypeThem(t *testing.T) {
	vol := sampleVolume(t)
	sys := filepath.Join(vol, "Windows", "System32", "config", "SYSTEM")
	_, want, _ := runCLI(t, "reg", "query", sys, `ControlSet001\Control\ProductOptions`, "--json")
	for _, key := range []string{
		`HKLM\SYSTEM\ControlSet001\Control\ProductOptions`,
		`HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Control\ProductOptions`,
		`hklm\system\CurrentControlSet\Control\ProductOptions`,
		`CurrentControlSet\Control\ProductOptions`,
		`HKLM/SYSTEM/CurrentControlSet/Control/ProductOptions`,
		`\ControlSet001\Control\ProductOptions\`,
	} {
		code, got, stderr := runCLI(t, "reg", "query", sys, key, "--json")
		if code != exitOK || got != want {
			t.Errorf("reg query %s: exit %d %q\n%s", key, code, stderr, got)
		}
	}
	code, _, stderr := runCLI(t, "reg", "query", sys, `HKLM\SOFTWARE\Microsoft`)
	if code != exitRefused || !strings.Contains(stderr, "SOFTWARE hive") {
		t.Errorf("a SOFTWARE key on SYSTEM: exit %d %q", code, stderr)
	}
	// set and delete take the same forms.
	if code, _, stderr := runCLI(t, "reg", "set", sys, `HKLM\SYSTEM\CurrentControlSet\Control\ResealForms`, "V", "--data", "x"); code != exitOK {
		t.Fatalf("set: exit %d %q", code, stderr)
	}
	if code, out, _ := runCLI(t, "reg", "query", sys, `ControlSet001\Control\ResealForms`); code != exitOK || !strings.Contains(out, "V    REG_SZ    x") {
		t.Errorf("value not under ControlSet001: %q", out)
	}
	if code, _, stderr := runCLI(t, "reg", "delete", sys, `CurrentControlSet/Control/ResealForms`); code != exitOK {
		t.Errorf("delete: exit %d %q", code, stderr)
	}
}
