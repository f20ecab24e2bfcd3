package sysprep

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseal/reseal/hive"
	"github.com/reseal/reseal/internal/testenv"
)

// hivexDump prints a hive as JSON with python3-hivex:
// {"KEY\\PATH": {"value name": [type, "hex data"]}}; the root key is "".
const hivexDump = `
import hivex, json, sys
h = hivex.Hivex(sys.argv[1])
out = {}
def walk(node, path):
    vals = {}
    for v in h.node_values(node):
        t, data = h.value_value(v)
        vals[h.value_key(v)] = [t, data.hex()]
    out[path] = vals
    for c in h.node_children(node):
        name = h.node_name(c)
        walk(c, name if path == "" else path + "\\" + name)
walk(h.root(), "")
json.dump(out, sys.stdout)
`

type peerHive map[string]map[string][2]any // upper-case key path -> value name -> [type, hex]

func dumpWithHivex(t *testing.T, py, path string) peerHive {
	t.Helper()
	out, err := exec.Command(py, "-c", hivexDump, path).Output()
	if err != nil {
		t.Fatalf("hivex on %s: %v", path, err)
	}
	var raw map[string]map[string][2]any
	must(t, json.Unmarshal(out, &raw))
	dump := peerHive{}
	for k, vals := range raw {
		up := map[string][2]any{}
		for n, v := range vals {
			up[strings.ToUpper(n)] = v
		}
		dump[strings.ToUpper(k)] = up
	}
	return dump
}

// reglookupDump lists keys and values as reglookup prints them: upper-case
// "KEY\PATH" for keys, "KEY\PATH\\VALUE" -> type for values.
func reglookupDump(t *testing.T, bin, path string) (keys map[string]bool, values map[string]string) {
	t.Helper()
	out, err := exec.Command(bin, "-H", "-i", path).Output()
	if err != nil {
		t.Fatalf("reglookup on %s: %v", path, err)
	}
	keys, values = map[string]bool{}, map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		fields := strings.SplitN(sc.Text(), ",", 4)
		if len(fields) < 3 {
			continue
		}
		parts := strings.Split(strings.TrimPrefix(fields[0], "/"), "/")
		for i, p := range parts {
			if u, err := url.PathUnescape(p); err == nil {
				parts[i] = u
			}
		}
		if fields[1] == "KEY" {
			keys[strings.ToUpper(strings.Join(parts, `\`))] = true
			continue
		}
		name := parts[len(parts)-1]
		key := strings.Join(parts[:len(parts)-1], `\`)
		values[strings.ToUpper(key+`\\`+name)] = fields[1]
	}
	return keys, values
}

var reglookupTypes = map[hive.ValueType]string{
	hive.TypeString: "SZ", hive.TypeExpandString: "EXPAND_SZ", hive.TypeBinary: "BINARY",
	hive.TypeDWord: "DWORD", hive.TypeMultiString: "MULTI_SZ", hive.TypeQWord: "QWORD", hive.TypeNone: "NONE",
}

// TestGeneralizeJudgedByPeers generalizes the sample and checks every
// registry action's effect with python3-hivex (keys, values, types and
// data) and reglookup (keys, values and types), every file action on the
// file system, and that everything no action touched is still there.
func TestGeneralizeJudgedByPeers(t *testing.T) {
	py := testenv.PythonHivex(t)
	rl := testenv.Peer(t, "reglookup")
	// The domain blocker is a warning: the volume generalizes, and the
	// domain provider has work to do.
	root := writeSample(t, "10", "domain")
	config := filepath.Join(root, "Windows", "System32", "config")
	before := map[string]peerHive{}
	for _, n := range []string{"SYSTEM", "SOFTWARE", "SAM", "SECURITY", "DEFAULT"} {
		before[n] = dumpWithHivex(t, py, filepath.Join(config, n))
	}
	r, err := Generalize(context.Background(), root, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	after := map[string]peerHive{}
	rlKeys := map[string]map[string]bool{}
	rlValues := map[string]map[string]string{}
	for n := range before {
		after[n] = dumpWithHivex(t, py, filepath.Join(config, n))
		rlKeys[n], rlValues[n] = reglookupDump(t, rl, filepath.Join(config, n))
	}

	deletedKeys := map[string][]string{}
	touched := map[string]bool{} // HIVE|KEY|VALUE
	checked := map[string]int{}
	for _, a := range r.Actions {
		ref := a.op.key
		key := strings.ToUpper(ref.Path)
		switch a.Kind {
		case KindSetValue:
			touched[ref.Hive+"|"+key+"|"+strings.ToUpper(a.op.value)] = true
			got, ok := after[ref.Hive][key][strings.ToUpper(a.op.value)]
			if !ok {
				t.Errorf("hivex: %s: value %q missing after set", a.Target, a.op.value)
				continue
			}
			if int(got[0].(float64)) != int(a.op.vtype) || got[1].(string) != hex.EncodeToString(a.op.data) {
				t.Errorf("hivex: %s\\%s = %v, want type %d data %x", a.Target, a.op.value, got, a.op.vtype, a.op.data)
			}
			if typ := rlValues[ref.Hive][key+`\\`+strings.ToUpper(a.op.value)]; typ != reglookupTypes[a.op.vtype] {
				t.Errorf("reglookup: %s\\%s has type %q, want %q", a.Target, a.op.value, typ, reglookupTypes[a.op.vtype])
			}
		case KindDeleteValue:
			touched[ref.Hive+"|"+key+"|"+strings.ToUpper(a.op.value)] = true
			if _, ok := after[ref.Hive][key][strings.ToUpper(a.op.value)]; ok {
				t.Errorf("hivex: %s\\%s survived its deletion", a.Target, a.op.value)
			}
			if _, ok := rlValues[ref.Hive][key+`\\`+strings.ToUpper(a.op.value)]; ok {
				t.Errorf("reglookup: %s\\%s survived its deletion", a.Target, a.op.value)
			}
		case KindDeleteKey:
			deletedKeys[ref.Hive] = append(deletedKeys[ref.Hive], key)
			if _, ok := after[ref.Hive][key]; ok {
				t.Errorf("hivex: %s survived its deletion", a.Target)
			}
			if rlKeys[ref.Hive][key] {
				t.Errorf("reglookup: %s survived its deletion", a.Target)
			}
		case KindDeleteFile, KindDeleteDir:
			if _, err := os.Lstat(filepath.Join(root, filepath.FromSlash(a.op.path))); err == nil {
				t.Errorf("%s survived its deletion", a.Target)
			}
		case KindWriteFile:
			data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(a.op.path)))
			if err != nil {
				t.Errorf("%s: %v", a.Target, err)
			} else if a.op.log == "" && !bytes.Equal(data, a.op.content) {
				t.Errorf("%s: content differs from the plan", a.Target)
			}
		}
		checked[a.Kind]++
	}
	// Everything no action touched is unchanged.
	under := func(h, key string) bool {
		for _, d := range deletedKeys[h] {
			if key == d || strings.HasPrefix(key, d+`\`) {
				return true
			}
		}
		return false
	}
	kept := 0
	for h, keys := range before {
		for key, vals := range keys {
			if under(h, key) {
				continue
			}
			if _, ok := after[h][key]; !ok {
				t.Errorf("hivex: %s\\%s disappeared though no action deleted it", h, key)
				continue
			}
			for name, v := range vals {
				if touched[h+"|"+key+"|"+name] {
					continue
				}
				if got := after[h][key][name]; fmt.Sprint(got) != fmt.Sprint(v) {
					t.Errorf("hivex: %s\\%s\\%s changed from %v to %v though no action touched it", h, key, name, v, got)
				}
				kept++
			}
		}
	}
	t.Logf("checked with hivex and reglookup: %v; %d untouched values kept", checked, kept)
	again, err := Preflight(context.Background(), root, Options{Now: fixedNow})
	must(t, err)
	for _, f := range again.Findings {
		if f.ID == "domain-member" {
			t.Errorf("still a domain member after generalize: %s", f.Message)
		}
	}
	if checked[KindSetValue] == 0 || checked[KindDeleteKey] == 0 || checked[KindDeleteValue] == 0 || checked[KindDeleteFile] == 0 {
		t.Errorf("the sample exercised too few kinds of action: %v", checked)
	}
}

// TestBuiltinAdministratorJudgedByChntpw checks the built-in Administrator
// with chntpw: enabled after generalizing to audit mode, disabled after
// generalizing to OOBE.
func TestBuiltinAdministratorJudgedByChntpw(t *testing.T) {
	chntpw := testenv.Peer(t, "chntpw")
	root := writeSample(t, "10")
	sam := filepath.Join(root, "Windows", "System32", "config", "SAM")
	adminLocked := func() bool {
		out, err := exec.Command(chntpw, "-l", sam).CombinedOutput()
		if err != nil {
			t.Fatalf("chntpw: %v\n%s", err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "| 01f4 |") {
				return strings.Contains(line, "dis/lock")
			}
		}
		t.Fatalf("chntpw lists no RID 500:\n%s", out)
		return false
	}
	for _, step := range []struct {
		mode   Mode
		locked bool
	}{{ModeAudit, false}, {ModeOOBE, true}} {
		if _, err := Generalize(context.Background(), root, Options{Now: fixedNow, Mode: step.mode}); err != nil {
			t.Fatal(err)
		}
		if got := adminLocked(); got != step.locked {
			t.Errorf("after generalize to %s, chntpw says Administrator disabled = %v", step.mode, got)
		}
	}
}
