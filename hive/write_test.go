package hive

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestNewHiveEditsReadByHivex(t *testing.T) {
	h := New()
	r := h.Root()
	k, err := r.CreateKey(`A\B\C`)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.SetString("s", "hello"); err != nil {
		t.Fatal(err)
	}
	k.SetDWord("d", 7)
	k.SetBinary("big", make([]byte, 100000))
	for i := 0; i < 2000; i++ {
		if _, err := r.CreateKey(fmt.Sprintf(`Many\k%05d`, (i*7919)%2000)); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range h.Check() {
		t.Error(p)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "NEW")
	if err := h.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	tree := hivexTree(t, p)
	fmt.Fprintln(os.Stderr, len(tree), tree[:3])
	h2, err := Open(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffTrees(tree, ourTree(t, h2)); d != "" {
		t.Fatal(d)
	}
	if err := r.DeleteKey("Many"); err != nil {
		t.Fatal(err)
	}
	for _, p := range h.Check() {
		t.Error(p)
	}
}
