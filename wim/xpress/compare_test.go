package xpress

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/reseal/reseal/internal/testenv"
	"github.com/reseal/reseal/wim/internal/wimtest"
)

// chunkSizes decodes every chunk of the WIM and returns the total bytes
// wimlib stored for them (raw chunks at their raw size) and the total we
// store for the same chunks with our compressor.
func compareChunkSizes(t testing.TB, w *wimtest.File) (wimlibBytes, ourBytes, rawBytes int, ourTime time.Duration) {
	t.Helper()
	d := NewDecompressor()
	c, err := NewCompressor(w.ChunkSize)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, w.ChunkSize)
	var chunks [][]byte
	for _, b := range w.Blobs {
		if !b.Res.Compressed() {
			continue
		}
		stored, sizes := chunksOf(t, w, b)
		for i, s := range stored {
			plain := make([]byte, sizes[i])
			if len(s) == sizes[i] {
				copy(plain, s)
			} else if err := d.Decompress(plain, s); err != nil {
				t.Fatal(err)
			}
			wimlibBytes += len(s)
			rawBytes += len(plain)
			chunks = append(chunks, plain)
		}
	}
	start := cpuTime(t, false)
	for _, plain := range chunks {
		// Like the WIM writer: keep the chunk raw unless compression wins.
		n := c.Compress(buf[:len(plain)-1], plain)
		if n == 0 {
			n = len(plain)
		}
		ourBytes += n
	}
	ourTime = cpuTime(t, false) - start
	return
}

// TestCompressedSizeVersusWimlib compresses the chunks wimlib compressed
// and requires our total to stay within 5% of wimlib's.
func TestCompressedSizeVersusWimlib(t *testing.T) {
	imagex := testenv.Peer(t, "wimlib-imagex")
	dir := writeTestTree(t)
	for _, chunk := range []int{4096, 32768, 65536} {
		w := wimtest.Read(t, wimtest.Capture(t, imagex, dir, "--compress=xpress", "--chunk-size="+strconv.Itoa(chunk)))
		theirs, ours, raw, _ := compareChunkSizes(t, w)
		ratio := float64(ours) / float64(theirs)
		t.Logf("chunk %5d: raw %d, wimlib %d, ours %d: size ratio %.4f", chunk, raw, theirs, ours, ratio)
		if ratio > 1.05 {
			t.Errorf("chunk %d: our XPRESS output is %.1f%% larger than wimlib's", chunk, 100*(ratio-1))
		}
	}
}

// TestCompareRealTree reports size and time against wimlib on a directory
// of real files named by RESEAL_XPRESS_TREE (for example a copy of
// /usr/local/go); it only measures and logs.
func TestCompareRealTree(t *testing.T) {
	dir := os.Getenv("RESEAL_XPRESS_TREE")
	if dir == "" {
		t.Skip("set RESEAL_XPRESS_TREE to a directory to compare with wimlib")
	}
	imagex := testenv.Peer(t, "wimlib-imagex")
	for _, chunk := range []int{32768} {
		// CPU time, not wall time: the machine is shared, and CPU time is what
		// the compressors cost.
		start := cpuTime(t, true)
		path := wimtest.Capture(t, imagex, dir, "--compress=xpress", "--threads=1", "--chunk-size="+strconv.Itoa(chunk))
		wimlibCompressed := cpuTime(t, true) - start
		start = cpuTime(t, true)
		nonePath := wimtest.Capture(t, imagex, dir, "--compress=none", "--threads=1")
		wimlibNone := cpuTime(t, true) - start
		// Decompression: wimlib's apply of the XPRESS WIM minus its apply of
		// the uncompressed one (user time: writing files is system time), the
		// fastest of two runs each, against our decoding of the same chunks.
		applyCPU := func(path string) time.Duration {
			best := time.Duration(1 << 62)
			for range 2 {
				dest := filepath.Join(t.TempDir(), "apply")
				start := userTime(t, true)
				if out, err := exec.Command(imagex, "apply", path, "1", dest).CombinedOutput(); err != nil {
					t.Fatalf("wimlib-imagex apply: %v\n%s", err, out)
				}
				best = min(best, userTime(t, true)-start)
			}
			return best
		}
		wimlibDecode := applyCPU(path) - applyCPU(nonePath)
		w := wimtest.Read(t, path)
		theirs, ours, raw, ourTime := compareChunkSizes(t, w)
		ourDecode := decodeAllChunks(t, w)
		t.Logf("chunk %d: raw %d, wimlib %d (%.4f), ours %d (%.4f): size ratio %.4f", chunk, raw, theirs,
			float64(theirs)/float64(raw), ours, float64(ours)/float64(raw), float64(ours)/float64(theirs))
		wimlibCost := wimlibCompressed - wimlibNone
		t.Logf("CPU time: wimlib capture 1 thread: xpress %v, none %v, so compression ~%v (%.0f MB/s); ours %v (%.0f MB/s); time ratio ~%.2f",
			wimlibCompressed, wimlibNone, wimlibCost, float64(raw)/wimlibCost.Seconds()/1e6,
			ourTime, float64(raw)/ourTime.Seconds()/1e6, ourTime.Seconds()/wimlibCost.Seconds())
		t.Logf("CPU time: decompression: wimlib apply xpress-none ~%v (%.0f MB/s); ours %v (%.0f MB/s); time ratio ~%.2f",
			wimlibDecode, float64(raw)/wimlibDecode.Seconds()/1e6, ourDecode, float64(raw)/ourDecode.Seconds()/1e6,
			ourDecode.Seconds()/wimlibDecode.Seconds())
	}
}

// decodeAllChunks returns the CPU time our decoder takes for every
// compressed chunk of w.
func decodeAllChunks(t testing.TB, w *wimtest.File) time.Duration {
	d := NewDecompressor()
	dst := make([]byte, w.ChunkSize)
	var stored [][]byte
	var sizes []int
	for _, b := range w.Blobs {
		if b.Res.Compressed() {
			s, z := chunksOf(t, w, b)
			stored, sizes = append(stored, s...), append(sizes, z...)
		}
	}
	start := cpuTime(t, false)
	for i, s := range stored {
		if len(s) < sizes[i] {
			if err := d.Decompress(dst[:sizes[i]], s); err != nil {
				t.Fatal(err)
			}
		}
	}
	return cpuTime(t, false) - start
}
