package hive

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

var dirtyWithLogs = []struct {
	path  string
	logs  []string
	pages int
	large bool
}{
	{"regipy/SYSTEM_B", []string{"SYSTEM_B.LOG1", "SYSTEM_B.LOG2"}, 315, true},
	{"regipy/UsrClass.dat", []string{"UsrClass.dat.LOG1", "UsrClass.dat.LOG2"}, 158, false},
	{"regipy/transactions_NTUSER.DAT", []string{"transactions_ntuser.dat.log1", "transactions_ntuser.dat.log2"}, 132, false},
	{"dfirmuseum/Amcache.hve", []string{"Amcache.hve.LOG1", "Amcache.hve.LOG2"}, 60, false},
}

// copyWithLogs copies a corpus hive and its logs into a fresh directory.
func copyWithLogs(t *testing.T, path string, logs []string) (string, string) {
	t.Helper()
	src := testenv.Corpus(t, "hives", path)
	dir := t.TempDir()
	dst := testenv.CopyInto(t, src, dir)
	for _, l := range logs {
		testenv.CopyInto(t, filepath.Join(filepath.Dir(src), l), dir)
	}
	return dst, dir
}

func snapshotDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = b
	}
	return m
}

// TestRecoveredHivesOpenInPeers recovers the dirty corpus hives from their
// logs (without writing anything), saves them clean, and has hivex read
// exactly the recovered tree and reglookup list every key.
func TestRecoveredHivesOpenInPeers(t *testing.T) {
	for _, c := range dirtyWithLogs {
		t.Run(c.path, func(t *testing.T) {
			if c.large && testing.Short() {
				t.Skip("large hive skipped in -short")
			}
			path, dir := copyWithLogs(t, c.path, c.logs)
			before := snapshotDir(t, dir)
			h, err := Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if after := snapshotDir(t, dir); len(after) != len(before) {
				t.Fatalf("Open changed the directory")
			} else {
				for n, b := range before {
					if !bytes.Equal(after[n], b) {
						t.Fatalf("Open wrote to %s", n)
					}
				}
			}
			rec := h.Recovery()
			if !rec.Dirty || !rec.Applied || rec.Format != "new" || rec.DirtyPages != c.pages {
				t.Fatalf("recovery = %+v, want new-format recovery of %d pages", rec, c.pages)
			}
			if ps := h.Check(); len(ps) > 0 {
				t.Fatalf("recovered hive fails Check: %v", ps[:min(5, len(ps))])
			}
			want := ourTree(t, h)
			out := filepath.Join(t.TempDir(), "recovered")
			if err := h.SaveAs(out); err != nil {
				t.Fatal(err)
			}
			if d := diffTrees(want, hivexTree(t, out)); d != "" {
				t.Fatalf("hivex reads the saved recovered hive differently:\n%s", d)
			}
			testenv.Peer(t, "reglookup")
			res, err := exec.Command("reglookup", "-H", "-t", "KEY", out).Output()
			if err != nil {
				t.Fatalf("reglookup: %v", err)
			}
			if n := strings.Count(string(res), "\n"); n != len(want) {
				t.Fatalf("reglookup lists %d keys, want %d", n, len(want))
			}
		})
	}
}

// TestCommitDefeatsStaleLogs commits a recovered hive and checks that its
// logs are emptied and that the old logs, put back beside the committed
// hive (even one made to look dirty), are never replayed over it.
func TestCommitDefeatsStaleLogs(t *testing.T) {
	c := dirtyWithLogs[1]
	path, dir := copyWithLogs(t, c.path, c.logs)
	oldLogs := map[string][]byte{}
	for _, l := range c.logs {
		b, err := os.ReadFile(filepath.Join(dir, l))
		if err != nil {
			t.Fatal(err)
		}
		oldLogs[l] = b
	}
	h, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	k, err := h.Root().CreateKey(`Reseal\Marker`)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.SetString("Committed", "yes"); err != nil {
		t.Fatal(err)
	}
	if err := h.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, l := range c.logs {
		if st, err := os.Stat(filepath.Join(dir, l)); err != nil || st.Size() != 0 {
			t.Fatalf("log %s not emptied: %v", l, err)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bb := baseBlock{raw[:baseBlockSize]}
	if bb.seq1() != bb.seq2() || !bb.checksumOK() || int(bb.binsSize()) != len(raw)-baseBlockSize {
		t.Fatalf("committed base block not clean: seq %d/%d checksum ok %v", bb.seq1(), bb.seq2(), bb.checksumOK())
	}
	for name, b := range oldLogs {
		if s := (logFile{path: name, raw: b}).maxSeq(); s >= bb.seq1() {
			t.Fatalf("log %s holds sequence %d, not below the committed %d", name, s, bb.seq1())
		}
	}
	wantTree := func(h *Hive) {
		t.Helper()
		v, err := h.Root().OpenKey(`Reseal\Marker`)
		if err != nil {
			t.Fatal(err)
		}
		if s, _ := mustValue(t, v, "Committed").String(); s != "yes" {
			t.Fatalf("marker value %q", s)
		}
	}
	// The stale logs come back (a copy tool, a backup restore...).
	for name, b := range oldLogs {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h2, err := Open(path, &OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if r := h2.Recovery(); r.Dirty || r.Applied {
		t.Fatalf("clean committed hive replayed stale logs: %+v", r)
	}
	wantTree(h2)
	// Even a primary that looks dirty (an interrupted later write) takes
	// no stale entry: none has a sequence number at or after the primary's.
	le.PutUint32(raw[4:], bb.seq1()+1)
	le.PutUint32(raw[508:], xorChecksum(raw[:baseBlockSize]))
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	h3, err := Open(path, &OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if r := h3.Recovery(); !r.Dirty || r.Applied || r.DirtyPages != 0 {
		t.Fatalf("stale log entries applied: %+v", r)
	}
	wantTree(h3)
}

func mustValue(t *testing.T, k *Key, name string) Value {
	t.Helper()
	v, err := k.Value(name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestOldFormatLogRecovery builds an old-format (DIRT) log from two states
// of a real hive and checks that the dirty primary is recovered to the
// second state; a log whose timestamp does not match is not applied.
func TestOldFormatLogRecovery(t *testing.T) {
	src := testenv.Corpus(t, "hives", "regipy", "SAM")
	orig, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	h, err := Open(src, &OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	k, err := h.Root().CreateKey(`SAM\ResealOldLog`)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.SetBinary("Data", bytes.Repeat([]byte{0xAB}, 3000)); err != nil {
		t.Fatal(err)
	}
	want := ourTree(t, h)
	var next bytes.Buffer
	if _, err := h.WriteTo(&next); err != nil {
		t.Fatal(err)
	}
	newer := next.Bytes()
	primary := append([]byte(nil), orig[:baseBlockSize]...)
	primary = append(primary, orig[baseBlockSize:baseBlockSize+int(baseBlock{orig}.binsSize())]...)
	stamp := baseBlock{primary}.timestamp()

	// The log: base block copy (file type 1, the primary's timestamp), the
	// DIRT bitmap of the 512-byte pages that differ, then those pages.
	logBase := append([]byte(nil), newer[:512]...)
	le.PutUint32(logBase[28:], fileTypeLogOld1)
	le.PutUint64(logBase[12:], stamp)
	le.PutUint32(logBase[508:], xorChecksum(append(logBase, make([]byte, baseBlockSize-512)...)))
	data := newer[baseBlockSize:]
	oldData := append(primary[baseBlockSize:], make([]byte, len(data))...)
	bits := len(data) / 512
	bitmap := make([]byte, (bits+7)/8)
	var pages []byte
	for i := 0; i < bits; i++ {
		if !bytes.Equal(data[i*512:(i+1)*512], oldData[i*512:(i+1)*512]) {
			bitmap[i/8] |= 1 << (i % 8)
			pages = append(pages, data[i*512:(i+1)*512]...)
		}
	}
	log := append(logBase, "DIRT"...)
	log = append(log, bitmap...)
	log = append(log, make([]byte, align(len(log), 512)-len(log))...)
	log = append(log, pages...)

	// The primary is dirty: an interrupted write bumped its first number.
	le.PutUint32(primary[4:], baseBlock{primary}.seq1()+1)
	le.PutUint32(primary[508:], xorChecksum(primary))
	dir := t.TempDir()
	path := filepath.Join(dir, "SAM")
	if err := os.WriteFile(path, primary, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".LOG", log, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Open(path, &OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	r := got.Recovery()
	if !r.Applied || r.Format != "old" || r.DirtyPages != len(pages)/512 || r.DirtyPages == 0 {
		t.Fatalf("recovery = %+v, want old-format recovery of %d pages", r, len(pages)/512)
	}
	if d := diffTrees(want, ourTree(t, got)); d != "" {
		t.Fatalf("recovered tree differs:\n%s", d)
	}
	if ps := got.Check(); len(ps) > 0 {
		t.Fatalf("Check: %v", ps)
	}

	// A log whose dirty pages break a bin is abandoned for the next one:
	// here a .LOG1 that zeroes the first bin's header, tried before .LOG.
	broken := append([]byte(nil), log[:512]...)
	broken = append(broken, "DIRT"...)
	broken = append(broken, make([]byte, len(bitmap))...)
	broken[516] = 1 // page 0: the first bin header
	broken = append(broken, make([]byte, align(len(broken), 512)-len(broken))...)
	broken = append(broken, make([]byte, 512)...)
	if err := os.WriteFile(path+".LOG1", broken, 0o644); err != nil {
		t.Fatal(err)
	}
	again, err := Open(path, &OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if r := again.Recovery(); !r.Applied || len(r.Logs) != 1 || !strings.HasSuffix(r.Logs[0], ".LOG") {
		t.Fatalf("recovery with a broken LOG1: %+v", r)
	}
	if d := diffTrees(want, ourTree(t, again)); d != "" {
		t.Fatalf("recovered tree differs:\n%s", d)
	}
	os.Remove(path + ".LOG1")

	// A log written for another state of the primary is ignored.
	le.PutUint64(log[12:], stamp+1)
	le.PutUint32(log[508:], xorChecksum(append(append([]byte(nil), log[:512]...), make([]byte, baseBlockSize-512)...)))
	if err := os.WriteFile(path+".LOG", log, 0o644); err != nil {
		t.Fatal(err)
	}
	stale, err := Open(path, &OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if r := stale.Recovery(); r.Applied || !r.Dirty {
		t.Fatalf("log with another timestamp applied: %+v", r)
	}
	if _, err := stale.Root().OpenKey(`SAM\ResealOldLog`); !errors.Is(err, ErrNotExist) {
		t.Fatalf("key from a non-matching log present: %v", err)
	}
}

// TestDfwinregDotLOG reads the new-format entries of a log named .LOG
// (dfwinreg's NTUSER.DAT.LOG: one HvLE entry, sequence 131, already in the
// clean primary of sequence 132). Clean, the primary ignores it; made to
// look interrupted after write 131, the entry is replayed, and changes
// nothing since its pages are already there.
func TestDfwinregDotLOG(t *testing.T) {
	path, _ := copyWithLogs(t, "dfwinreg/NTUSER.DAT", []string{"NTUSER.DAT.LOG"})
	h, err := Open(path, &OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if r := h.Recovery(); r.Dirty || r.Applied {
		t.Fatalf("clean primary: recovery %+v", r)
	}
	want := ourTree(t, h)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le.PutUint32(raw[8:], 131)
	le.PutUint32(raw[508:], xorChecksum(raw[:baseBlockSize]))
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	h2, err := Open(path, &OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	r := h2.Recovery()
	if !r.Applied || r.Format != "new" || r.DirtyPages != 2 || len(r.Logs) != 1 || !strings.HasSuffix(r.Logs[0], ".LOG") {
		t.Fatalf("recovery %+v, want the 2 pages of entry 131 from NTUSER.DAT.LOG", r)
	}
	if d := diffTrees(want, ourTree(t, h2)); d != "" {
		t.Fatalf("replaying an applied entry changed the tree:\n%s", d)
	}
}

// TestSaveAsOverHiveWithLogs: a hive saved over a file that has logs
// beside it (here opened with NoLogs) still gets a sequence number above
// theirs, and the logs are emptied.
func TestSaveAsOverHiveWithLogs(t *testing.T) {
	c := dirtyWithLogs[1]
	path, dir := copyWithLogs(t, c.path, c.logs)
	var maxSeq uint32
	for _, l := range c.logs {
		b, _ := os.ReadFile(filepath.Join(dir, l))
		maxSeq = max(maxSeq, logFile{path: l, raw: b}.maxSeq())
	}
	h := New()
	if err := h.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if s := (baseBlock{raw}).seq1(); s <= maxSeq {
		t.Fatalf("sequence %d not above the logs' %d", s, maxSeq)
	}
	for _, l := range c.logs {
		if st, err := os.Stat(filepath.Join(dir, l)); err != nil || st.Size() != 0 {
			t.Fatalf("log %s not emptied", l)
		}
	}
}
