package sample

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

// hivexQuery is one value to read with python3-hivex.
type hivexQuery struct {
	Hive  string `json:"hive"`
	Key   string `json:"key"`
	Value string `json:"value"`
}

// hivexScript reads the queries from stdin and prints, for each, the value
// type and its data as hex (or an error string), using hivex's own parser.
const hivexScript = `
import hivex, json, sys
out = []
for q in json.load(sys.stdin):
    try:
        h = hivex.Hivex(q["hive"])
        node = h.root()
        for part in [p for p in q["key"].split("\\") if p]:
            node = h.node_get_child(node, part)
            if node is None:
                raise KeyError("no key " + part)
        val = h.node_get_value(node, q["value"])
        typ, data = h.value_value(val)
        out.append({"type": typ, "data": data.hex()})
    except Exception as e:
        out.append({"error": str(e)})
print(json.dumps(out))
`

type hivexAnswer struct {
	Type  uint32 `json:"type"`
	Data  string `json:"data"`
	Error string `json:"error"`
}

func runHivex(t *testing.T, queries []hivexQuery) []hivexAnswer {
	t.Helper()
	py := testenv.PythonHivex(t)
	in, _ := json.Marshal(queries)
	cmd := exec.Command(py, "-c", hivexScript)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3-hivex: %v", err)
	}
	var answers []hivexAnswer
	if err := json.Unmarshal(out, &answers); err != nil {
		t.Fatalf("python3-hivex output: %v\n%s", err, out)
	}
	return answers
}

// TestHivexReadsSampleHives: hivex (an independent parser) opens every
// hive and reads the values the engine contract names, with the bytes the
// sample meant to write.
func TestHivexReadsSampleHives(t *testing.T) {
	for _, w := range WindowsVersions() {
		t.Run(w, func(t *testing.T) {
			v, err := build(Options{Windows: w, Seed: 21, Now: testNow, Blockers: []string{"domain"}})
			if err != nil {
				t.Fatal(err)
			}
			dir := writeSample(t, Options{Windows: w, Seed: 21, Blockers: []string{"domain"}})
			type want struct {
				hivexQuery
				typ  uint32
				data []byte
			}
			var wants []want
			add := func(hivePath, key, value string) {
				rv, ok := v.hives[hivePath].value(key, value)
				if !ok {
					t.Fatalf("test asks for %s %s\\%s, which the sample does not write", hivePath, key, value)
				}
				wants = append(wants, want{hivexQuery{filepath.Join(dir, filepath.FromSlash(hivePath)), key, value}, rv.typ, rv.data})
			}
			lease := cs + `\Services\Tcpip\Parameters\Interfaces\` + strings.ToLower(v.id.ifGUID)
			for _, q := range [][3]string{
				{systemHive, "Select", "Current"},
				{systemHive, "Select", "LastKnownGood"},
				{systemHive, cs + `\Control\ComputerName\ComputerName`, "ComputerName"},
				{systemHive, cs + `\Control\ComputerName\ActiveComputerName`, "ComputerName"},
				{systemHive, cs + `\Control\Session Manager\Environment`, "PROCESSOR_ARCHITECTURE"},
				{systemHive, cs + `\Control\Session Manager\Environment`, "Path"},
				{systemHive, cs + `\Control\Session Manager\Memory Management`, "PagingFiles"},
				{systemHive, cs + `\Services\Tcpip\Parameters`, "NV Hostname"},
				{systemHive, cs + `\Services\Tcpip\Parameters`, "Domain"},
				{systemHive, lease, "DhcpIPAddress"},
				{systemHive, lease, "LeaseObtainedTime"},
				{systemHive, lease, "DhcpInterfaceOptions"},
				{systemHive, cs + `\Services\Tcpip6\Parameters`, "Dhcpv6DUID"},
				{systemHive, cs + `\Enum\PCI\VEN_15AD&DEV_07B0&SUBSYS_07B015AD&REV_01\FF565000A2B4F5FE00`, "HardwareID"},
				{systemHive, cs + `\Control\Class\` + classNet + `\0000`, "NetCfgInstanceId"},
				{systemHive, "Setup", "SetupType"},
				{systemHive, "Setup", "CmdLine"},
				{softwareHive, cvNT, "ProductName"},
				{softwareHive, cvNT, "CurrentBuild"},
				{softwareHive, cvNT, "InstallTime"},
				{softwareHive, cv + `\Setup\State`, "ImageState"},
				{softwareHive, `Microsoft\Cryptography`, "MachineGuid"},
				{softwareHive, cv + `\WindowsUpdate`, "SusClientIDValidation"},
				{softwareHive, cvNT + `\NetworkList\Profiles\` + v.id.profileGUID, "DateCreated"},
				{softwareHive, allUserStore + `\Applications\Microsoft.VCLibs.140.00_14.0.30704.0_x64__8wekyb3d8bbwe`, "Path"},
				{samHive, `SAM\Domains\Account\Users\000001F4`, "F"},
				{samHive, `SAM\Domains\Account\Users\000001F4`, "V"},
				{samHive, `SAM\Domains\Account\Users\Names\Administrator`, ""},
				{samHive, `SAM\Domains\Account\Users\Names\Guest`, ""},
				{securityHive, `Policy\PolPrDmS`, ""},
				{securityHive, `Policy\PolAcDmS`, ""},
				{defaultHive, `Control Panel\International`, "LocaleName"},
				{"Users/" + v.id.userName + "/NTUSER.DAT", `Software\Microsoft\Windows\CurrentVersion\Run`, "OneDrive"},
				{"Users/Default/NTUSER.DAT", `Environment`, "TEMP"},
			} {
				add(q[0], q[1], q[2])
			}
			queries := make([]hivexQuery, len(wants))
			for i, w := range wants {
				queries[i] = w.hivexQuery
			}
			for i, a := range runHivex(t, queries) {
				w := wants[i]
				if a.Error != "" {
					t.Errorf("hivex %s %s\\%s: %s", filepath.Base(w.Hive), w.Key, w.Value, a.Error)
					continue
				}
				if a.Type != w.typ || a.Data != hexOf(w.data) {
					t.Errorf("hivex %s %s\\%s: type %d data %s, want type %d data %s", filepath.Base(w.Hive), w.Key, w.Value, a.Type, a.Data, w.typ, hexOf(w.data))
				}
			}
		})
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// TestReglookupListsEveryKey: reglookup walks each hive and finds exactly
// the keys and values the sample described, with no parse errors.
func TestReglookupListsEveryKey(t *testing.T) {
	reglookup := testenv.Peer(t, "reglookup")
	v, err := build(Options{Windows: "server2022", Seed: 4, Now: testNow, Blockers: []string{"role"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := writeSample(t, Options{Windows: "server2022", Seed: 4, Blockers: []string{"role"}})
	for _, rel := range sortedKeys(v.hives) {
		tree := v.hives[rel]
		cmd := exec.Command(reglookup, "-H", filepath.Join(dir, filepath.FromSlash(rel)))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("reglookup %s: %v\n%s", rel, err, stderr.String())
		}
		for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
			// SAM stores counts in value types (a member's index entry has
			// type = number of groups): reglookup warns that such data
			// "could not be interpreted", as it does on real SAM hives.
			if line != "" && !strings.Contains(line, "quoting raw buffer") {
				t.Errorf("reglookup %s: %s", rel, line)
			}
		}
		keys, values := map[string]bool{}, 0
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Split(line, ",")
			if len(f) < 2 {
				continue
			}
			if f[1] == "KEY" {
				keys[strings.ToLower(strings.TrimPrefix(f[0], "/"))] = true
			} else {
				values++
			}
		}
		wantValues := 0
		for _, k := range tree.keys {
			wantValues += len(k.values)
			p := strings.ToLower(reglookupPath(k.path))
			if !keys[p] {
				t.Errorf("reglookup %s: key %s not listed", rel, k.path)
			}
		}
		if len(keys) != len(tree.keys)+1 { // + the root
			t.Errorf("reglookup %s: %d keys, want %d", rel, len(keys), len(tree.keys)+1)
		}
		if values != wantValues {
			t.Errorf("reglookup %s: %d values, want %d", rel, values, wantValues)
		}
	}
}

// reglookupPath spells a key path as reglookup prints it: "/" separators,
// with "/" and "," inside names quoted as %2F and %2C.
func reglookupPath(p string) string {
	r := strings.NewReplacer("%", "%25", "/", "%2F", ",", "%2C", `\`, "/")
	return r.Replace(p)
}

// TestChntpwListsAccounts: chntpw, which reads SAM's F and V records, the
// domain SID and the Administrators group to list accounts, finds every
// account with its RID, state and administrator membership.
func TestChntpwListsAccounts(t *testing.T) {
	chntpw := testenv.Peer(t, "chntpw")
	dir := writeSample(t, Options{Seed: 12})
	sam := testenv.CopyToTemp(t, filepath.Join(dir, filepath.FromSlash(samHive)))
	out, err := exec.Command(chntpw, "-l", sam).CombinedOutput()
	if err != nil {
		t.Fatalf("chntpw -l: %v\n%s", err, out)
	}
	text := string(out)
	if strings.Contains(text, "WARNING") || strings.Contains(text, "DEBUG") {
		t.Errorf("chntpw complains:\n%s", text)
	}
	v, err := build(Options{Seed: 12, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		rid         string
		name, state string
	}{
		{"01f4", "Administrator", "dis/lock"},
		{"01f5", "Guest", "dis/lock"},
		{"01f7", "DefaultAccount", "dis/lock"},
		{"01f8", "WDAGUtilityAccount", "dis/lock"},
		{"03e9", v.id.userName, "*BLANK*"},
	} {
		admin := want.rid == "01f4" || want.rid == "03e9" // members of Administrators
		found := false
		for _, line := range strings.Split(text, "\n") {
			f := strings.Split(line, "|")
			if len(f) >= 5 && strings.TrimSpace(f[1]) == want.rid {
				found = true
				if strings.TrimSpace(f[2]) != want.name || strings.TrimSpace(f[4]) != want.state || (strings.TrimSpace(f[3]) == "ADMIN") != admin {
					t.Errorf("chntpw: %q, want %s %s %s admin=%v", line, want.rid, want.name, want.state, admin)
				}
			}
		}
		if !found {
			t.Errorf("chntpw does not list RID %s (%s):\n%s", want.rid, want.name, text)
		}
	}
}
