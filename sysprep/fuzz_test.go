package sysprep

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// FuzzRecoverJournal hands RecoverJournal arbitrary journal.json contents
// beside a staging area: it must never panic, never touch anything outside
// the volume, and leave the volume alone when it refuses the journal.
func FuzzRecoverJournal(f *testing.F) {
	f.Add([]byte(`{"version":1,"state":"committed","steps":[{"op":"replace","path":"a.txt","staged":"staged/0000"},{"op":"delete","path":"b.txt","trash":"trash/0001"}]}`))
	f.Add([]byte(`{"version":1,"state":"done","steps":[]}`))
	f.Add([]byte(`{"version":1,"state":"committed","steps":[{"op":"replace","path":"../outside.txt","staged":"staged/0000"}]}`))
	f.Add([]byte(`{"version":1,"state":"committed","steps":[{"op":"delete","path":"dir","trash":"../../x"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		base := t.TempDir()
		outside := filepath.Join(base, "outside.txt")
		must(t, os.WriteFile(outside, []byte("keep"), 0o644))
		root := filepath.Join(base, "vol")
		jdir := filepath.Join(root, journalDir)
		must(t, os.MkdirAll(filepath.Join(jdir, stagedDir), 0o755))
		must(t, os.MkdirAll(filepath.Join(root, "dir"), 0o755))
		must(t, os.WriteFile(filepath.Join(root, "a.txt"), []byte("old"), 0o644))
		must(t, os.WriteFile(filepath.Join(root, "b.txt"), []byte("b"), 0o644))
		must(t, os.WriteFile(filepath.Join(jdir, stagedDir, "0000"), []byte("new"), 0o644))
		// Bound to the volume, so that recovery gets past the binding.
		run := bindTestJournal(t, root)
		var j map[string]any
		if json.Unmarshal(data, &j) == nil && j != nil {
			j["run"] = run
			data, _ = json.Marshal(j)
		}
		must(t, os.WriteFile(filepath.Join(jdir, journalFile), data, 0o644))
		before := treeHash(t, root)
		_, err := RecoverJournal(root)
		if b, rerr := os.ReadFile(outside); rerr != nil || string(b) != "keep" {
			t.Fatalf("a file outside the volume was touched (%v)", rerr)
		}
		if entries, _ := os.ReadDir(base); len(entries) != 2 {
			t.Fatalf("recovery created or removed entries beside the volume: %d", len(entries))
		}
		if err != nil && treeHash(t, root) != before {
			t.Fatalf("refused journal (%v) but the volume changed", err)
		}
	})
}

// FuzzLockFile hands the volume lock arbitrary lock file contents: it must
// never panic, and it may take over (remove) a lock only when the lock
// names this host and a process that does not exist (gone, from an earlier
// boot, its pid reused); every other lock stays
// byte for byte, with an ErrLocked error.
func FuzzLockFile(f *testing.F) {
	host, _ := os.Hostname()
	f.Add([]byte(`{"pid":4242,"host":"elsewhere","started":"2026-11-24T07:00:00Z"}`))
	f.Add([]byte(`{"pid":` + strconv.Itoa(os.Getpid()) + `,"host":"` + host + `","started":"2026-11-24T07:00:00Z"}`))
	f.Add([]byte(`{"pid":2147483000,"host":"` + host + `","started":"2026-11-24T07:00:00Z"}`))
	f.Add([]byte(`{"pid":-1,"host":"` + host + `"}`))
	f.Add([]byte(`{"pid":1,"host":"` + host + `","boot":"an-earlier-boot","proc_start":"1"}`))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		root := t.TempDir()
		path := filepath.Join(root, LockFile)
		must(t, os.WriteFile(path, data, 0o644))
		holder, _ := readLock(path)
		stale := holder != nil && holder.Host == host && !holderRuns(*holder, bootID())
		lock, err := lockVolume(root)
		if stale {
			if err != nil {
				t.Fatalf("stale lock %+v not taken over: %v", holder, err)
			}
			must(t, lock.release())
			if entries, _ := os.ReadDir(root); len(entries) != 0 {
				t.Fatalf("left %d entries after release", len(entries))
			}
			return
		}
		if !errors.Is(err, ErrLocked) {
			t.Fatalf("lock %q: got %v, want ErrLocked", data, err)
		}
		if b, rerr := os.ReadFile(path); rerr != nil || !bytes.Equal(b, data) {
			t.Fatalf("a live or foreign lock was changed (%v)", rerr)
		}
		if _, err := os.Lstat(filepath.Join(root, takeoverFile)); err == nil {
			t.Fatal("takeover file left behind")
		}
	})
}

// FuzzRecoverJournalLinks plants a bound journal (the fuzzer's bytes) in a
// volume where some of the names a journal can use are symbolic links to
// a directory outside it (chosen by the fuzzer's mask): recovery must
// never change anything outside the volume, whatever it does inside.
func FuzzRecoverJournalLinks(f *testing.F) {
	f.Add([]byte(`{"version":1,"state":"committed","steps":[{"op":"delete","path":"evil/victim.txt","trash":"trash/0000"}]}`), uint8(1))
	f.Add([]byte(`{"version":1,"state":"committed","steps":[{"op":"replace","path":"evil/victim.txt","staged":"staged/0000"}]}`), uint8(1))
	f.Add([]byte(`{"version":1,"state":"committed","steps":[{"op":"delete","path":"dir/x","trash":"trash/a/b"}]}`), uint8(2))
	f.Add([]byte(`{"version":1,"state":"committed","steps":[{"op":"replace","path":"y","staged":"staged/victim.txt"}]}`), uint8(4))
	f.Add([]byte(`{"version":1,"state":"done","steps":[]}`), uint8(6))
	f.Add([]byte(`{"version":1,"state":"committed","steps":[{"op":"replace","path":"dir/sub/z","staged":"staged/0000"}]}`), uint8(8))
	links := []struct{ name, target string }{
		{"evil", "../outside"},
		{journalDir + "/trash", "../../outside"},
		{journalDir + "/staged", "../../outside"},
		{"dir/sub", "../../outside"},
		{journalDir + "/staged/0000", "../../../outside/victim.txt"},
		{"dir/x", "../../outside/victim.txt"},
	}
	f.Fuzz(func(t *testing.T, data []byte, mask uint8) {
		base := t.TempDir()
		outside := filepath.Join(base, "outside")
		must(t, os.MkdirAll(outside, 0o755))
		must(t, os.WriteFile(filepath.Join(outside, "victim.txt"), []byte("keep"), 0o644))
		root := filepath.Join(base, "vol")
		jdir := filepath.Join(root, journalDir)
		must(t, os.MkdirAll(jdir, 0o755))
		must(t, os.MkdirAll(filepath.Join(root, "dir"), 0o755))
		for i, l := range links {
			p := filepath.Join(root, filepath.FromSlash(l.name))
			must(t, os.MkdirAll(filepath.Dir(p), 0o755))
			if mask&(1<<i) != 0 {
				must(t, os.Symlink(l.target, p))
			}
		}
		if mask&(1<<2) == 0 {
			must(t, os.MkdirAll(filepath.Join(jdir, stagedDir), 0o755))
			if mask&(1<<4) == 0 {
				must(t, os.WriteFile(filepath.Join(jdir, stagedDir, "0000"), []byte("new"), 0o644))
			}
		}
		// Bind it, and write the fuzzer's journal under the bound run.
		run := bindTestJournal(t, root)
		var j map[string]any
		if json.Unmarshal(data, &j) == nil && j != nil {
			j["run"] = run
			data, _ = json.Marshal(j)
		}
		must(t, os.WriteFile(filepath.Join(jdir, journalFile), data, 0o644))
		before := treeHash(t, outside)
		RecoverJournal(root)
		if treeHash(t, outside) != before {
			t.Fatal("a file outside the volume changed")
		}
		if entries, _ := os.ReadDir(base); len(entries) != 2 {
			t.Fatalf("recovery created or removed entries beside the volume: %d", len(entries))
		}
	})
}
