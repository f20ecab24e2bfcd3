package hive

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// logEntrySpec describes one HvLE entry to build: the pages of next that
// differ from prev, under a sequence number.
type logEntrySpec struct {
	seq        uint32
	prev, next []byte // hive bins data before and after
	breakHash  bool
}

// buildNewLog writes a new-format log: a base block copy (file type 6)
// and HvLE entries with Marvin32 hashes, as the specification describes.
func buildNewLog(base []byte, seq uint32, entries []logEntrySpec) []byte {
	out := logBaseSector(base, seq)
	for _, e := range entries {
		start := len(out)
		out, _ = appendLogEntry(out, e.seq, 0, e.prev, e.next)
		if e.breakHash {
			ent := out[start:]
			ent[24] ^= 1
			le.PutUint64(ent[32:], marvin32(marvinSeed, ent[:32]))
		}
	}
	return out
}

// threeStates returns a small hive serialized three times: as is, after a
// first edit, and after a second edit that also grows it by a bin.
func threeStates(t testing.TB) (p0, p1, p2 []byte, trees [3][]treeKey) {
	t.Helper()
	h := New()
	for i := 0; i < 30; i++ {
		k, _ := h.Root().CreateKey(fmt.Sprintf(`Base\K%02d`, i))
		k.SetDWord("v", uint32(i))
	}
	snap := func(i int) []byte {
		var b bytes.Buffer
		if _, err := h.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		trees[i] = ourTree(t, h)
		return b.Bytes()
	}
	p0 = snap(0)
	k, _ := h.Root().CreateKey(`Edit\One`)
	k.SetString("s", "first")
	p1 = snap(1)
	k2, _ := h.Root().CreateKey(`Edit\Two`)
	k2.SetBinary("b", bytes.Repeat([]byte{7}, 9000))
	p2 = snap(2)
	return
}

// TestNewFormatLogRules checks the replay rules on built logs: LOG1 and
// LOG2 together in sequence order, stop at a gap or a bad hash.
func TestNewFormatLogRules(t *testing.T) {
	p0, p1, p2, trees := threeStates(t)
	d0, d1, d2 := p0[baseBlockSize:], p1[baseBlockSize:], p2[baseBlockSize:]
	seq := baseBlock{p0}.seq1()
	// The primary is state 0 with an interrupted write: first number bumped.
	primary := append([]byte(nil), p0...)
	le.PutUint32(primary[4:], seq+1)
	le.PutUint32(primary[508:], xorChecksum(primary[:baseBlockSize]))

	e1 := logEntrySpec{seq: seq, prev: d0, next: d1}
	e2 := logEntrySpec{seq: seq + 1, prev: d1, next: d2}
	cases := []struct {
		name       string
		log1, log2 []logEntrySpec
		want       int // state expected after recovery
	}{
		{"both logs in order", []logEntrySpec{e1}, []logEntrySpec{e2}, 2},
		{"LOG2 older than LOG1", []logEntrySpec{e2}, []logEntrySpec{e1}, 2},
		{"one log", []logEntrySpec{e1, e2}, nil, 2},
		{"bad hash stops", []logEntrySpec{e1, {seq: seq + 1, prev: d1, next: d2, breakHash: true}}, nil, 1},
		{"gap stops", []logEntrySpec{e1, {seq: seq + 2, prev: d1, next: d2}}, nil, 1},
		{"old entries skipped", []logEntrySpec{{seq: seq - 5, prev: d0, next: d2}, e1}, nil, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "HIVE")
			os.WriteFile(path, primary, 0o644)
			if c.log1 != nil {
				os.WriteFile(path+".LOG1", buildNewLog(p0, seq+1, c.log1), 0o644)
			}
			if c.log2 != nil {
				os.WriteFile(path+".log2", buildNewLog(p0, seq+2, c.log2), 0o644)
			}
			h, err := Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if r := h.Recovery(); !r.Applied || r.Format != "new" {
				t.Fatalf("recovery %+v", r)
			}
			if d := diffTrees(trees[c.want], ourTree(t, h)); d != "" {
				t.Fatalf("recovered tree is not state %d:\n%s", c.want, d)
			}
			if ps := h.Check(); len(ps) > 0 {
				t.Fatalf("Check: %v", ps)
			}
		})
	}
	// A primary with a wrong checksum is repaired from the log's base block.
	bad := append([]byte(nil), primary...)
	bad[100] ^= 0xFF
	dir := t.TempDir()
	path := filepath.Join(dir, "HIVE")
	os.WriteFile(path, bad, 0o644)
	os.WriteFile(path+".LOG1", buildNewLog(p0, seq, []logEntrySpec{e1, e2}), 0o644)
	h, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffTrees(trees[2], ourTree(t, h)); d != "" {
		t.Fatalf("hive with a bad checksum not recovered:\n%s", d)
	}
}

// FuzzRecover feeds arbitrary logs beside a dirty primary: recovery must
// never panic, and what it opens must be walkable.
func FuzzRecover(f *testing.F) {
	p0, p1, p2, _ := threeStates(f)
	seq := baseBlock{p0}.seq1()
	primary := append([]byte(nil), p0...)
	le.PutUint32(primary[4:], seq+1)
	le.PutUint32(primary[508:], xorChecksum(primary[:baseBlockSize]))
	e1 := logEntrySpec{seq: seq, prev: p0[baseBlockSize:], next: p1[baseBlockSize:]}
	e2 := logEntrySpec{seq: seq + 1, prev: p1[baseBlockSize:], next: p2[baseBlockSize:]}
	f.Add(primary, buildNewLog(p0, seq, []logEntrySpec{e1}), buildNewLog(p0, seq+1, []logEntrySpec{e2}))
	f.Add(primary, buildNewLog(p0, seq, []logEntrySpec{e1, e2}), []byte{})
	// An old-format log: DIRT bitmap and 512-byte pages.
	old := append([]byte(nil), p0[:512]...)
	le.PutUint32(old[28:], fileTypeLogOld1)
	le.PutUint32(old[508:], xorChecksum(append(append([]byte(nil), old...), make([]byte, baseBlockSize-512)...)))
	old = append(old, "DIRT"...)
	old = append(old, 0xFF, 0)
	old = append(old, make([]byte, align(len(old), 512)-len(old))...)
	old = append(old, p1[baseBlockSize:baseBlockSize+8*512]...)
	f.Add(primary, []byte{}, old)
	f.Fuzz(func(t *testing.T, primary, log1, log2 []byte) {
		var logs []logFile
		if len(log1) > 0 {
			logs = append(logs, logFile{path: "HIVE.LOG1", raw: log1})
		}
		if len(log2) > 0 {
			logs = append(logs, logFile{path: "HIVE.LOG2", raw: log2})
		}
		h, err := load(primary, logs)
		if err != nil {
			return
		}
		walkAll(h.Root(), 0, map[uint32]bool{})
		h.Check()
	})
}
