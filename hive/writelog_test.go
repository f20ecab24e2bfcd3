package hive

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// flushedAndEdited returns a hive and, as a hive of its own, its state
// before the last edits (which also grow it by a bin).
func flushedAndEdited(t *testing.T) (h, flushed *Hive) {
	t.Helper()
	clock := func() time.Time { return time.Date(2025, time.March, 14, 9, 26, 53, 0, time.UTC) }
	h = NewWithOptions(&NewOptions{Clock: clock})
	for i := 0; i < 30; i++ {
		k, err := h.Root().CreateKey(fmt.Sprintf(`Services\S%02d`, i))
		if err != nil {
			t.Fatal(err)
		}
		if err := k.SetDWord("Start", uint32(i)); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if _, err := h.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	flushed, err := Load(&b)
	if err != nil {
		t.Fatal(err)
	}
	k, err := h.Root().CreateKey(`Services\vm3dservice`)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.SetBinary("Blob", bytes.Repeat([]byte{7}, 9000)); err != nil {
		t.Fatal(err)
	}
	s, _ := h.Root().OpenKey(`Services\S07`)
	if err := s.SetDWord("Start", 4); err != nil {
		t.Fatal(err)
	}
	return h, flushed
}

// TestWriteDirty: the dirty primary reads as the flushed state without its
// log (to this package and to hivex) and as the newest state with it; a
// flipped byte in the log entry breaks its hash and nothing is applied.
func TestWriteDirty(t *testing.T) {
	h, flushed := flushedAndEdited(t)
	want, old := ourTree(t, h), ourTree(t, flushed)
	var primary, log bytes.Buffer
	if err := h.WriteDirty(&primary, &log, flushed); err != nil {
		t.Fatal(err)
	}
	pb := baseBlock{primary.Bytes()}
	if pb.seq1() != pb.seq2()+1 {
		t.Fatalf("primary sequence numbers %d/%d, want the first one above", pb.seq1(), pb.seq2())
	}
	write := func(logBytes []byte) string {
		dir := t.TempDir()
		path := filepath.Join(dir, "SYSTEM")
		if err := os.WriteFile(path, primary.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path+".LOG1", logBytes, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	path := write(log.Bytes())

	recovered, err := Open(path, &OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer recovered.Close()
	r := recovered.Recovery()
	if !r.Dirty || !r.Applied || r.Format != "new" || r.DirtyPages == 0 || len(r.Logs) != 1 {
		t.Fatalf("recovery %+v", r)
	}
	if d := diffTrees(want, ourTree(t, recovered)); d != "" {
		t.Fatalf("recovered tree is not the newest state:\n%s", d)
	}
	if ps := recovered.Check(); len(ps) > 0 {
		t.Fatalf("recovered hive fails Check: %v", ps)
	}

	primaryOnly, err := Open(path, &OpenOptions{ReadOnly: true, NoLogs: true})
	if err != nil {
		t.Fatal(err)
	}
	defer primaryOnly.Close()
	if r := primaryOnly.Recovery(); !r.Dirty || r.Applied {
		t.Fatalf("primary without its log: recovery %+v", r)
	}
	if d := diffTrees(old, ourTree(t, primaryOnly)); d != "" {
		t.Fatalf("primary without its log is not the flushed state:\n%s", d)
	}
	if d := diffTrees(old, hivexTree(t, path)); d != "" {
		t.Fatalf("hivex does not read the primary as the flushed state:\n%s", d)
	}

	broken := append([]byte(nil), log.Bytes()...)
	broken[logSectorSize+logEntryHeaderLen+100] ^= 1
	h2, err := Open(write(broken), &OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	if h2.Recovery().Applied {
		t.Fatal("a log entry with a flipped byte was applied: its hashes prove nothing")
	}

	// The next write is numbered above the logged one, so the log can
	// never be replayed over it.
	var next bytes.Buffer
	if _, err := h.WriteTo(&next); err != nil {
		t.Fatal(err)
	}
	if s := (baseBlock{next.Bytes()}).seq1(); s <= pb.seq1() {
		t.Fatalf("write after WriteDirty has sequence number %d, not above the logged %d", s, pb.seq1())
	}
}

// TestWriteDirtyRefuses: states that are not an earlier and a later one
// of the same hive are refused, and nothing is written.
func TestWriteDirtyRefuses(t *testing.T) {
	h, _ := flushedAndEdited(t)
	var b bytes.Buffer
	if _, err := h.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	// The same state with the same clock: not one page differs.
	path := filepath.Join(t.TempDir(), "HIVE")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	same, err := Open(path, &OpenOptions{Clock: h.now})
	if err != nil {
		t.Fatal(err)
	}
	otherRoot, _ := Load(bytes.NewReader(b.Bytes()))
	le.PutUint32(otherRoot.base[36:], baseBlock{otherRoot.base}.root()+8)
	closed := New()
	closed.Close()
	cases := []struct {
		name     string
		h, since *Hive
	}{
		{"itself", h, h},
		{"identical states", h, same},
		{"other root cell", h, otherRoot},
		{"closed", h, closed},
	}
	for _, c := range cases {
		var p, l bytes.Buffer
		if err := c.h.WriteDirty(&p, &l, c.since); err == nil {
			t.Errorf("%s: WriteDirty succeeded", c.name)
		}
		if p.Len() != 0 || l.Len() != 0 {
			t.Errorf("%s: WriteDirty wrote although it failed", c.name)
		}
	}
}
