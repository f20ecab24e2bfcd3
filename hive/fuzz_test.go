package hive

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

// FuzzOpen feeds arbitrary bytes to the hive reader: opening, walking every
// key and value, and Check must never panic; a hive Check finds sound must
// survive a write and a reopen.
func FuzzOpen(f *testing.F) {
	var small bytes.Buffer
	h := New()
	k, _ := h.Root().CreateKey(`Software\Reseal`)
	k.SetString("S", "text")
	k.SetDWord("D", 1)
	k.SetBinary("B", bytes.Repeat([]byte{1}, 20000))
	h.WriteTo(&small)
	f.Add(small.Bytes())
	if dir := testenv.CorpusDir(); dir != "" {
		for _, name := range []string{"regipy/BCD", "regipy/SECURITY", "zimmerman/SAM", "dfwinreg/SAM", "zimmerman/SAM_hasBigEndianDWord"} {
			raw, err := os.ReadFile(filepath.Join(dir, "hives", name))
			if err != nil || len(raw) < baseBlockSize {
				continue
			}
			// Only the base block and the bins: padding slows fuzzing down.
			if n := baseBlockSize + int(baseBlock{raw}.binsSize()); n <= len(raw) {
				raw = raw[:n]
			}
			f.Add(raw)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := load(data, nil)
		if err != nil {
			return
		}
		walkAll(h.Root(), 0, map[uint32]bool{})
		if len(h.Check()) > 0 {
			return
		}
		var out bytes.Buffer
		if _, err := h.WriteTo(&out); err != nil {
			t.Fatal(err)
		}
		h2, err := load(out.Bytes(), nil)
		if err != nil {
			t.Fatalf("a hive that passed Check does not reopen after WriteTo: %v", err)
		}
		if ps := h2.Check(); len(ps) > 0 {
			t.Fatalf("rewritten hive fails Check: %v", ps)
		}
		// A small edit on a sound hive must keep it sound.
		if k, err := h2.Root().CreateKey(`Fuzz\Key`); err == nil {
			k.SetDWord("v", 1)
			if ps := h2.Check(); len(ps) > 0 {
				t.Fatalf("edit broke a sound hive: %v", ps)
			}
		}
	})
}

func walkAll(k *Key, depth int, seen map[uint32]bool) {
	if depth > maxDepth || seen[k.off] {
		return
	}
	seen[k.off] = true
	k.Values()
	k.ClassName()
	k.SecurityDescriptor()
	k.Path()
	subs, err := k.SubKeys()
	if err != nil {
		return
	}
	for _, s := range subs {
		walkAll(s, depth+1, seen)
	}
}
