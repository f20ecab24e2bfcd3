package lzx

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"

	"fmt"
	"github.com/reseal/reseal/internal/testenv"
	"testing"
)

var testChunkSizes = []int{32768, 65536, 131072, 262144, 524288, 1 << 20, 1 << 21}

// TestDecodeWimlibChunks decodes every LZX chunk wimlib writes, for each chunk
// size, and checks each blob against the SHA-1 wimlib recorded.
func TestDecodeWimlibChunks(t *testing.T) {
	dir := writeTree(t)
	for _, cs := range testChunkSizes {
		t.Run(fmt.Sprint(cs), func(t *testing.T) {
			w := captureLZX(t, dir, cs)
			n, multi := checkDecodesAll(t, w, true)
			if n == 0 {
				t.Fatal("wimlib compressed no chunk: nothing was tested")
			}
			// Chunks of several blocks show that code lengths are deltas
			// from the previous block's, not reset per block.
			if multi == 0 {
				t.Error("no chunk of several blocks: the delta across blocks was not tested")
			}
			// Without the chunk size, Decompress must find the window itself.
			checkDecodesAll(t, w, false)
			t.Logf("chunk size %d: %d LZX chunks decoded, %d of several blocks", cs, n, multi)
		})
	}
}

// TestWimlibAcceptsOurChunks replaces every chunk of wimlib's WIM with ours
// and has wimlib verify the result and extract it identically.
func TestWimlibAcceptsOurChunks(t *testing.T) {
	imagex := testenv.Peer(t, "wimlib-imagex")
	dir := writeTree(t)
	type config struct{ level, chunkSize int }
	var configs []config
	for _, cs := range testChunkSizes {
		configs = append(configs, config{LevelDefault, cs})
	}
	configs = append(configs, config{LevelFast, 32768}, config{LevelBest, 32768}, config{LevelFast, 1 << 21})
	for _, cfg := range configs {
		cs := cfg.chunkSize
		t.Run(fmt.Sprintf("level%d/%d", cfg.level, cs), func(t *testing.T) {
			w := captureLZX(t, dir, cs)
			c, err := NewCompressorLevel(cs, cfg.level)
			if err != nil {
				t.Fatal(err)
			}
			ours, stats := rewrite(t, w, c.Compress)
			t.Logf("%+v", stats)
			if cfg.level == LevelDefault && cs == 32768 && (stats.aligned == 0 || stats.verbatim == 0 || stats.emptyLengthCode == 0) {
				t.Errorf("aligned and verbatim blocks and an empty length code should all occur: %+v", stats)
			}
			if cfg.level == LevelBest && (stats.multiBlock == 0 || stats.uncompressed == 0) {
				// LevelBest splits a chunk where its data changes: from
				// text to random data that one block stores.
				t.Errorf("LevelBest should split some 32 KiB chunks, storing a random part: %+v", stats)
			}
			if cfg.level == LevelDefault && cs >= 1<<20 && stats.uncompressed == 0 {
				t.Errorf("a random stretch inside a large chunk should be an uncompressed block: %+v", stats)
			}
			tmp := t.TempDir()
			path := filepath.Join(tmp, "ours.wim")
			if err := os.WriteFile(path, ours, 0o644); err != nil {
				t.Fatal(err)
			}
			if b, err := exec.Command(imagex, "verify", path).CombinedOutput(); err != nil {
				t.Fatalf("wimlib-imagex verify: %v\n%s", err, b)
			}
			out := filepath.Join(tmp, "x")
			if b, err := exec.Command(imagex, "apply", path, "1", out).CombinedOutput(); err != nil {
				t.Fatalf("wimlib-imagex apply: %v\n%s", err, b)
			}
			compareTrees(t, dir, out)
			t.Logf("wimlib %d bytes, ours %d bytes (%.4fx)", len(w.Data), len(ours), float64(len(ours))/float64(len(w.Data)))
		})
	}
}

func compareTrees(t *testing.T, want, got string) {
	t.Helper()
	entries, err := os.ReadDir(want)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		a, err := os.ReadFile(filepath.Join(want, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(got, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs after extraction", e.Name())
		}
	}
}
