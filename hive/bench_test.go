package hive

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// BenchmarkOpenCommitVsHivex opens the clean 12 MB SYSTEM and commits it,
// with this package (atomic: temporary file, fsync, rename) and with
// `hivexsh -w` + `commit` (hivex rewrites the file in place), on copies of
// the same file, and reports hivex's time over ours.
func BenchmarkOpenCommitVsHivex(b *testing.B) {
	src := testenv.Corpus(b, "hives", "regipy", "SYSTEM")
	hivexsh := testenv.Peer(b, "hivexsh")
	var ours, theirs time.Duration
	for b.Loop() {
		b.StopTimer()
		mine := testenv.CopyToTemp(b, src)
		peer := testenv.CopyToTemp(b, src)
		os.Chmod(peer, 0o644)
		b.StartTimer()
		start := time.Now()
		h, err := Open(mine, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := h.Commit(); err != nil {
			b.Fatal(err)
		}
		ours += time.Since(start)
		b.StopTimer()
		start = time.Now()
		cmd := exec.Command(hivexsh, "-w", peer)
		cmd.Stdin = strings.NewReader("commit\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("hivexsh: %v\n%s", err, out)
		}
		theirs += time.Since(start)
		b.StartTimer()
	}
	b.ReportMetric(float64(theirs)/float64(ours), "hivex/reseal")
}
