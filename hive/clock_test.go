package hive

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// walkLastWrites returns the last-write time of k and of every key below it.
func walkLastWrites(t *testing.T, k *Key) []time.Time {
	t.Helper()
	out := []time.Time{k.LastWrite()}
	subs, err := k.SubKeys()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subs {
		out = append(out, walkLastWrites(t, s)...)
	}
	return out
}

// TestClockStampsEverything: with a fixed clock, the root key, every key
// created or edited and the base block carry its time, so two hives built
// by the same edits are the same bytes.
func TestClockStampsEverything(t *testing.T) {
	fixed := time.Date(2025, time.March, 14, 9, 26, 53, 0, time.UTC)
	build := func() []byte {
		h := NewWithOptions(&NewOptions{Clock: func() time.Time { return fixed }})
		defer h.Close()
		k, err := h.Root().CreateKey(`ControlSet001\Control\ComputerName`)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.SetString("ComputerName", "DESKTOP-1"); err != nil {
			t.Fatal(err)
		}
		for _, lw := range walkLastWrites(t, h.Root()) {
			if !lw.Equal(fixed) {
				t.Fatalf("a key was stamped %v, want the clock's %v", lw, fixed)
			}
		}
		var b bytes.Buffer
		if _, err := h.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, b := build(), build()
	if !bytes.Equal(a, b) {
		t.Fatal("two hives built by the same edits at the same clock differ")
	}
	if got := filetimeToTime(baseBlock{a}.timestamp()); !got.Equal(fixed) {
		t.Errorf("base block stamped %v, want %v", got, fixed)
	}
	if got := filetimeToTime(le.Uint64(a[baseBlockSize+20:])); !got.Equal(fixed) {
		t.Errorf("first hive bin stamped %v, want %v", got, fixed)
	}

	// Open takes a clock too: an edit and the commit carry its time.
	path := filepath.Join(t.TempDir(), "HIVE")
	if err := os.WriteFile(path, a, 0o644); err != nil {
		t.Fatal(err)
	}
	later := fixed.Add(time.Hour)
	h, err := Open(path, &OpenOptions{Clock: func() time.Time { return later }})
	if err != nil {
		t.Fatal(err)
	}
	k, err := h.Root().OpenKey(`ControlSet001\Control`)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.SetDWord("Edited", 1); err != nil {
		t.Fatal(err)
	}
	if !k.LastWrite().Equal(later) {
		t.Errorf("edited key stamped %v, want %v", k.LastWrite(), later)
	}
	if err := h.Commit(); err != nil {
		t.Fatal(err)
	}
	h.Close()
	again, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got := filetimeToTime(baseBlock{again.base}.timestamp()); !got.Equal(later) {
		t.Errorf("committed base block stamped %v, want %v", got, later)
	}
}
