package hive

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

// BenchmarkOpenRecoverCommitSYSTEMB opens a copy of the dirty SYSTEM_B
// (12 MB), replays its 315 log pages in memory, and commits it atomically
// (fsync and rename, logs emptied). Copying the files is not timed.
func BenchmarkOpenRecoverCommitSYSTEMB(b *testing.B) {
	src := testenv.Corpus(b, "hives", "regipy", "SYSTEM_B")
	files := []string{src, src + ".LOG1", src + ".LOG2"}
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		for _, f := range files {
			testenv.CopyInto(b, f, dir)
		}
		path := filepath.Join(dir, "SYSTEM_B")
		b.StartTimer()
		h, err := Open(path, nil)
		if err != nil {
			b.Fatal(err)
		}
		if !h.Recovery().Applied {
			b.Fatal("no recovery")
		}
		if err := h.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	if st, err := os.Stat(src); err == nil {
		b.SetBytes(st.Size())
	}
}

// BenchmarkSetValues10k sets 10,000 values under 100 new keys of a copy of
// SYSTEM and commits: the in-memory editing cost behind `reseal reg import`.
func BenchmarkSetValues10k(b *testing.B) {
	src := testenv.Corpus(b, "hives", "regipy", "SYSTEM")
	for b.Loop() {
		b.StopTimer()
		path := testenv.CopyToTemp(b, src)
		b.StartTimer()
		h, err := Open(path, nil)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < 10000; i++ {
			k, err := h.Root().CreateKey(fmt.Sprintf(`Reseal\Bench%03d`, i%100))
			if err != nil {
				b.Fatal(err)
			}
			if err := k.SetString(fmt.Sprintf("Value%05d", i), "some string data for the benchmark"); err != nil {
				b.Fatal(err)
			}
		}
		if err := h.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenRecoverSYSTEMB is the in-memory half of the above: read and
// replay the logs, no write.
func BenchmarkOpenRecoverSYSTEMB(b *testing.B) {
	src := testenv.Corpus(b, "hives", "regipy", "SYSTEM_B")
	for b.Loop() {
		h, err := Open(src, &OpenOptions{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		if h.Recovery().DirtyPages != 315 {
			b.Fatal("recovery differs")
		}
	}
}
