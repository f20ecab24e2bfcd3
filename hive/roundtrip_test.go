package hive

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

// modelKey mirrors one key in the round-trip test: what the tree must be
// after the edits, independent of the hive code.
type modelKey struct {
	name     string
	values   []Value
	children map[string]*modelKey // by foldKey(name)
}

func (m *modelKey) value(name string) int {
	for i, v := range m.values {
		if foldKey(v.Name) == foldKey(name) {
			return i
		}
	}
	return -1
}

func (m *modelKey) sortedChildren() []*modelKey {
	out := make([]*modelKey, 0, len(m.children))
	for _, c := range m.children {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		return compareUnits(upperUnits(out[i].name), upperUnits(out[j].name)) < 0
	})
	return out
}

func modelFromHive(t testing.TB, k *Key) *modelKey {
	t.Helper()
	vs, err := k.Values()
	if err != nil {
		t.Fatal(err)
	}
	m := &modelKey{name: k.Name(), values: vs, children: map[string]*modelKey{}}
	subs, err := k.SubKeys()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subs {
		m.children[foldKey(s.Name())] = modelFromHive(t, s)
	}
	return m
}

func (m *modelKey) tree() []treeKey {
	var out []treeKey
	var walk func(k *modelKey, path string)
	walk = func(k *modelKey, path string) {
		tk := treeKey{Path: path, Values: []treeValue{}}
		for _, v := range k.values {
			tk.Values = append(tk.Values, treeValue{Name: v.Name, Type: uint32(v.Type), Hex: hex.EncodeToString(v.Data)})
		}
		out = append(out, tk)
		for _, c := range k.sortedChildren() {
			walk(c, joinPath(path, c.name))
		}
	}
	walk(m, "")
	return out
}

// editor applies seeded random edits to a hive and to the model alike.
type editor struct {
	t     testing.TB
	rng   *rand.Rand
	h     *Hive
	model *modelKey
	paths []string // known key paths (may include deleted ones: checked on use)
	big   int      // 1 MB values written so far
	// protected keys are never edited, nor their ancestors deleted: the
	// SAM's accounts, which chntpw must still list afterwards.
	protected []string
	// kept keys are never deleted (nor their ancestors), so that the
	// 5,000 subkeys stay in the final tree.
	kept []string
}

// isProtected reports whether path is a protected key, lies inside one,
// or (when ancestors is set) is an ancestor of one.
func (e *editor) isProtected(path string, ancestors bool) bool {
	p := foldKey(path)
	for _, q := range e.protected {
		q := foldKey(q)
		if p == q || strings.HasPrefix(p, q+foldKey(`\`)) {
			return true
		}
		if ancestors && (p == "" || strings.HasPrefix(q, p+foldKey(`\`))) {
			return true
		}
	}
	return false
}

var namePool = []string{
	"Alpha", "alpha", "ALPHA", "Beta", "gamma", "Ünïcødé", "ünïcødé", "Größe", "中文键", "キー",
	"Ελληνικά", "ελληνικά", "emoji😀", "Tab\tName", "With Space", "dot.name", "x", "X",
	"Résumé", "RÉSUMÉ", "name_with_a_rather_long_tail_0123456789",
}

func (e *editor) randomName() string {
	if e.rng.IntN(3) == 0 {
		return fmt.Sprintf("K%d", e.rng.IntN(400))
	}
	return namePool[e.rng.IntN(len(namePool))]
}

// lookup finds the model key of a path, or nil.
func (e *editor) lookup(path string) *modelKey {
	m := e.model
	if path == "" {
		return m
	}
	for _, p := range strings.Split(path, `\`) {
		m = m.children[foldKey(p)]
		if m == nil {
			return nil
		}
	}
	return m
}

// isKept reports whether path is a kept key or an ancestor of one.
func (e *editor) isKept(path string) bool {
	p := foldKey(path)
	for _, q := range e.kept {
		q := foldKey(q)
		if p == q || strings.HasPrefix(q, p+foldKey(`\`)) {
			return true
		}
	}
	return false
}

func (e *editor) randomKeyPath() string {
	for {
		p := e.paths[e.rng.IntN(len(e.paths))]
		if e.lookup(p) != nil && !e.isProtected(p, false) {
			return p
		}
	}
}

func (e *editor) randomData() (ValueType, []byte) {
	r := e.rng.IntN(100)
	var n int
	switch {
	case r < 30:
		n = e.rng.IntN(5)
	case r < 80:
		n = 5 + e.rng.IntN(300)
	case r < 95:
		n = 20*1024 + e.rng.IntN(100)
	case e.big < 3:
		e.big++
		n = 1 << 20
	default:
		n = 16344 + e.rng.IntN(3) // around the big data threshold
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(e.rng.UintN(256))
	}
	types := []ValueType{TypeBinary, TypeString, TypeDWord, TypeNone, TypeMultiString, TypeQWord, 0x12345}
	return types[e.rng.IntN(len(types))], b
}

func (e *editor) must(err error, what string) {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
}

func (e *editor) step() {
	switch r := e.rng.IntN(100); {
	case r < 30: // create key
		parent := e.randomKeyPath()
		name := e.randomName()
		k, err := e.h.Root().OpenKey(parent)
		e.must(err, "open "+parent)
		_, err = k.CreateKey(name)
		e.must(err, "create "+name)
		pm := e.lookup(parent)
		if c := pm.children[foldKey(name)]; c == nil {
			pm.children[foldKey(name)] = &modelKey{name: name, children: map[string]*modelKey{}}
		}
		e.paths = append(e.paths, joinPath(parent, pm.children[foldKey(name)].name))
	case r < 70: // set value
		path := e.randomKeyPath()
		k, err := e.h.Root().OpenKey(path)
		e.must(err, "open "+path)
		name := e.randomName()
		if e.rng.IntN(10) == 0 {
			name = ""
		}
		typ, data := e.randomData()
		e.must(k.SetValue(name, typ, data), "set "+name)
		m := e.lookup(path)
		if i := m.value(name); i >= 0 {
			m.values[i].Type, m.values[i].Data = typ, data
		} else {
			m.values = append(m.values, Value{Name: name, Type: typ, Data: data})
		}
	case r < 85: // delete value
		path := e.randomKeyPath()
		m := e.lookup(path)
		if len(m.values) == 0 {
			return
		}
		i := e.rng.IntN(len(m.values))
		k, err := e.h.Root().OpenKey(path)
		e.must(err, "open "+path)
		// a name differing only in case deletes the same value
		name := m.values[i].Name
		if e.rng.IntN(2) == 0 {
			name = strings.ToUpper(name)
		}
		e.must(k.DeleteValue(name), "delete value "+name)
		m.values = append(m.values[:i], m.values[i+1:]...)
	default: // delete key (not the root)
		path := e.randomKeyPath()
		if path == "" || e.isProtected(path, true) || e.isKept(path) {
			return
		}
		if err := e.h.Root().DeleteKey(strings.ToLower(path)); err != nil {
			e.t.Fatalf("delete key %s: %v", path, err)
		}
		i := strings.LastIndex(path, `\`)
		parent := ""
		if i >= 0 {
			parent = path[:i]
		}
		delete(e.lookup(parent).children, foldKey(path[i+1:]))
	}
}

// manySubkeys creates n subkeys under one key in random order and deletes
// a fifth of them again.
func (e *editor) manySubkeys(n int) {
	k, err := e.h.Root().CreateKey(`ResealStress\Many`)
	e.must(err, "create stress key")
	stress := e.model.children[foldKey("ResealStress")]
	if stress == nil {
		stress = &modelKey{name: "ResealStress", children: map[string]*modelKey{}}
		e.model.children[foldKey("ResealStress")] = stress
	}
	many := stress.children[foldKey("Many")]
	if many == nil {
		many = &modelKey{name: "Many", children: map[string]*modelKey{}}
		stress.children[foldKey("Many")] = many
	}
	order := e.rng.Perm(n)
	for _, i := range order {
		name := fmt.Sprintf("Sub%05d-%s", i, namePool[i%len(namePool)])
		_, err := k.CreateKey(name)
		e.must(err, "create "+name)
		if many.children[foldKey(name)] == nil {
			many.children[foldKey(name)] = &modelKey{name: name, children: map[string]*modelKey{}}
		}
	}
	for _, i := range order[:n/5] {
		name := fmt.Sprintf("Sub%05d-%s", i, namePool[i%len(namePool)])
		e.must(k.DeleteKey(name), "delete "+name)
		delete(many.children, foldKey(name))
	}
	e.paths = append(e.paths, `ResealStress\Many`)
	e.kept = append(e.kept, `ResealStress\Many`)
}

func allPaths(m *modelKey, prefix string, out *[]string) {
	*out = append(*out, prefix)
	for _, c := range m.sortedChildren() {
		allPaths(c, joinPath(prefix, c.name), out)
	}
}

// TestRandomEditsRoundTrip edits copies of real hives at random, mirrored
// in a model, commits, and has hivex and reglookup read the result back.
func TestRandomEditsRoundTrip(t *testing.T) {
	cases := []struct {
		path  string
		logs  []string
		ops   int
		large bool
	}{
		{"regipy/SAM", nil, 3000, false},
		{"regipy/NTUSER.DAT", nil, 3000, false},
		{"zimmerman/BCD", nil, 2000, false},
		{"dfwinreg/UsrClass.dat", nil, 2000, false}, // version 1.3: lf lists, no big data
		{"regipy/SYSTEM_B", []string{"SYSTEM_B.LOG1", "SYSTEM_B.LOG2"}, 3000, true},
	}
	for i, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			if c.large && testing.Short() {
				t.Skip("large hive skipped in -short")
			}
			// The peers run as processes: hives in parallel keep the cores busy.
			t.Parallel()
			src := testenv.Corpus(t, "hives", c.path)
			dir := t.TempDir()
			path := testenv.CopyInto(t, src, dir)
			for _, l := range c.logs {
				testenv.CopyInto(t, filepath.Join(filepath.Dir(src), l), dir)
			}
			h, err := Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			e := &editor{t: t, rng: rand.New(rand.NewPCG(uint64(i+1), 42)), h: h}
			if strings.HasSuffix(c.path, "SAM") {
				e.protected = []string{`SAM\Domains\Account`}
			}
			e.model = modelFromHive(t, h.Root())
			allPaths(e.model, "", &e.paths)
			ops := c.ops
			if testing.Short() {
				ops /= 3
			}
			for j := 0; j < ops/2; j++ {
				e.step()
			}
			e.manySubkeys(5000)
			for j := 0; j < ops/2; j++ {
				e.step()
			}
			if ps := h.Check(); len(ps) > 0 {
				t.Fatalf("Check before commit: %v", ps[:min(5, len(ps))])
			}
			if err := h.Commit(); err != nil {
				t.Fatal(err)
			}
			for _, l := range c.logs {
				if st, err := os.Stat(filepath.Join(dir, l)); err != nil || st.Size() != 0 {
					t.Errorf("log %s not emptied after commit (%v)", l, err)
				}
			}
			want := e.model.tree()
			if d := diffTrees(want, hivexTree(t, path)); d != "" {
				t.Fatalf("hivex reads a different tree:\n%s", d)
			}
			h2, err := Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if r := h2.Recovery(); r.Dirty || r.Applied {
				t.Fatalf("committed hive is not clean: %+v", r)
			}
			if d := diffTrees(want, ourTree(t, h2)); d != "" {
				t.Fatalf("reopened hive differs:\n%s", d)
			}
			if ps := h2.Check(); len(ps) > 0 {
				t.Fatalf("Check after commit: %v", ps[:min(5, len(ps))])
			}
			compareReglookup(t, path, want)
			if strings.HasSuffix(c.path, "SAM") {
				chntpwLists(t, path)
			}
		})
	}
}

// reglookupQuote quotes bytes as reglookup prints them.
func reglookupQuote(b []byte, special string) string {
	var s strings.Builder
	for _, c := range b {
		if c < 0x20 || c > 0x7e || strings.IndexByte(special, c) >= 0 {
			fmt.Fprintf(&s, "%%%02X", c)
		} else {
			s.WriteByte(c)
		}
	}
	return s.String()
}

func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// compareReglookup has reglookup read the hive: the number of keys must
// match, and every key and value whose path is plain ASCII must appear as
// expected (reglookup cannot print other names faithfully), with the data
// of integer and binary values.
func compareReglookup(t *testing.T, path string, want []treeKey) {
	t.Helper()
	testenv.Peer(t, "reglookup")
	var stderr bytes.Buffer
	cmd := exec.Command("reglookup", "-H", path)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("reglookup: %v\n%s", err, stderr.String())
	}
	got := map[string]bool{}
	keys := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, ",")
		if len(f) == 4 && f[1] == "KEY" {
			keys++
			got[f[0]+",KEY"] = true
			continue
		}
		if len(f) >= 3 {
			got[strings.Join(f[:3], ",")] = true
		}
	}
	if keys != len(want) {
		t.Fatalf("reglookup lists %d keys, want %d", keys, len(want))
	}
	checked := 0
	for _, k := range want {
		if !isPlainASCII(k.Path) {
			continue
		}
		kp := "/" + strings.Join(mapQuote(strings.Split(k.Path, `\`)), "/")
		if k.Path == "" {
			kp = "/"
		}
		if !got[kp+",KEY"] {
			t.Errorf("reglookup misses key %s", kp)
		}
		for _, v := range k.Values {
			if !isPlainASCII(v.Name) {
				continue
			}
			data, _ := hex.DecodeString(v.Hex)
			var line string
			vp := kp + "/" + reglookupQuote([]byte(v.Name), `,%"/`)
			switch ValueType(v.Type) {
			case TypeDWord:
				if len(data) != 4 {
					continue
				}
				line = fmt.Sprintf("%s,DWORD,0x%08X", vp, le.Uint32(data))
			case TypeQWord:
				if len(data) != 8 {
					continue
				}
				line = fmt.Sprintf("%s,QWORD,0x%016X", vp, le.Uint64(data))
			case TypeBinary:
				if len(data) == 0 {
					continue
				}
				line = vp + ",BINARY," + reglookupQuote(data, `,%"`)
			default:
				continue
			}
			checked++
			if !got[line] {
				t.Errorf("reglookup misses %.200s (%d bytes)", line, len(data))
				for g := range got {
					if strings.HasPrefix(g, vp+",") {
						t.Logf("reglookup has %.200s (%d chars, want %d)", g, len(g), len(line))
					}
				}
			}
		}
	}
	t.Logf("reglookup: %d keys, %d values compared", keys, checked)
}

func mapQuote(parts []string) []string {
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = reglookupQuote([]byte(p), `,%"/`)
	}
	return out
}

// chntpwLists checks that chntpw still lists the users of an edited SAM.
func chntpwLists(t *testing.T, path string) {
	t.Helper()
	testenv.Peer(t, "chntpw")
	out, err := exec.Command("chntpw", "-l", path).CombinedOutput()
	if err != nil {
		t.Fatalf("chntpw -l: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("Administrator")) {
		t.Fatalf("chntpw lists no Administrator:\n%s", out)
	}
}
