package hive

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

// treeKey is one key of a hive as a flat, comparable record: the oracle
// (hivex) and this package are both reduced to a list of these.
type treeKey struct {
	Path   string      `json:"path"`
	Values []treeValue `json:"values"`
}

type treeValue struct {
	Name string `json:"name"`
	Type uint32 `json:"type"`
	Hex  string `json:"hex"`
}

// hivexDumpScript walks a hive with hivex's Python binding and prints the
// tree as JSON (data as hex), children and values in stored order.
const hivexDumpScript = `
import hivex, json, sys
h = hivex.Hivex(sys.argv[1])
out = []
def walk(node, path):
    vals = []
    for v in h.node_values(node):
        t, data = h.value_value(v)
        vals.append({"name": h.value_key(v), "type": t, "hex": data.hex()})
    out.append({"path": path, "values": vals})
    for c in h.node_children(node):
        name = h.node_name(c)
        walk(c, name if path == "" else path + "\\" + name)
sys.setrecursionlimit(10000)
walk(h.root(), "")
json.dump(out, sys.stdout)
`

// hivexPython returns a python3 that can import hivex, skipping (or failing
// under RESEAL_REQUIRE_PEERS=1) when there is none.
func hivexPython(t testing.TB) string {
	t.Helper()
	testenv.Peer(t, "hivexsh") // the hivex package is installed
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import hivex").Run() == nil {
			return p
		}
	}
	testenv.Peer(t, "python3-hivex") // not a command: skips or fails with a clear message
	return ""
}

func hivexTree(t testing.TB, path string) []treeKey {
	t.Helper()
	py := hivexPython(t)
	script := filepath.Join(t.TempDir(), "dump.py")
	if err := os.WriteFile(script, []byte(hivexDumpScript), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(py, script, path)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hivex could not read %s: %v\n%s", path, err, stderr.String())
	}
	var tree []treeKey
	if err := json.Unmarshal(out, &tree); err != nil {
		t.Fatalf("hivex dump of %s: %v", path, err)
	}
	return tree
}

// ourTree walks a hive with this package into the same shape.
func ourTree(t testing.TB, h *Hive) []treeKey {
	t.Helper()
	var out []treeKey
	var walk func(k *Key, path string, depth int)
	walk = func(k *Key, path string, depth int) {
		if depth > maxDepth {
			t.Fatalf("key %q: nesting deeper than %d", path, maxDepth)
		}
		vs, err := k.Values()
		if err != nil {
			t.Fatalf("values of %q: %v", path, err)
		}
		tk := treeKey{Path: path, Values: []treeValue{}}
		for _, v := range vs {
			tk.Values = append(tk.Values, treeValue{Name: v.Name, Type: uint32(v.Type), Hex: hex.EncodeToString(v.Data)})
		}
		out = append(out, tk)
		subs, err := k.SubKeys()
		if err != nil {
			t.Fatalf("subkeys of %q: %v", path, err)
		}
		for _, s := range subs {
			walk(s, joinPath(path, s.Name()), depth+1)
		}
	}
	walk(h.Root(), "", 0)
	return out
}

// diffTrees reports the first differences between two trees.
func diffTrees(want, got []treeKey) string {
	var b strings.Builder
	n := 0
	report := func(format string, args ...any) {
		if n < 10 {
			fmt.Fprintf(&b, format+"\n", args...)
		}
		n++
	}
	if len(want) != len(got) {
		report("%d keys, want %d", len(got), len(want))
	}
	for i := 0; i < min(len(want), len(got)); i++ {
		w, g := want[i], got[i]
		if w.Path != g.Path {
			report("key %d is %q, want %q", i, g.Path, w.Path)
			break
		}
		if len(w.Values) != len(g.Values) {
			report("key %q has %d values, want %d", w.Path, len(g.Values), len(w.Values))
			continue
		}
		for j := range w.Values {
			if w.Values[j] != g.Values[j] {
				wv, gv := w.Values[j], g.Values[j]
				report("key %q value %d: got %q %d %.40s…(%d), want %q %d %.40s…(%d)", w.Path, j,
					gv.Name, gv.Type, gv.Hex, len(gv.Hex)/2, wv.Name, wv.Type, wv.Hex, len(wv.Hex)/2)
			}
		}
	}
	if n > 10 {
		fmt.Fprintf(&b, "... %d differences in all\n", n)
	}
	return b.String()
}
