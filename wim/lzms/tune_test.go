package lzms

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reseal/reseal/wim/internal/wimtest"
)

// TestTune prints, per blob of the sample tree, wimlib's LZMS size and ours
// (run with LZMS_TUNE=1; it judges nothing).
func TestTune(t *testing.T) {
	if os.Getenv("LZMS_TUNE") == "" {
		t.Skip("set LZMS_TUNE=1")
	}
	dir := sampleTree(t, true)
	names := map[string]string{}
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			names[fmt.Sprint(info.Size())] = p[len(dir)+1:]
		}
		return nil
	})
	w := captureLZMS(t, dir, "--compress=LZMS")
	for _, level := range []int{LevelFast, LevelDefault, LevelBest} {
		c, _ := NewCompressorLevel(w.ChunkSize, level)
		tuneOverrides(c, level)
		d := NewDecompressor()
		buf := make([]byte, w.ChunkSize)
		type row struct {
			name         string
			theirs, ours int
		}
		rows := map[int]*row{}
		var totT, totO int
		var spent time.Duration
		for bi, b := range w.Blobs {
			if !b.Res.Compressed() {
				continue
			}
			r := &row{name: names[fmt.Sprint(b.Res.Orig)]}
			rows[bi] = r
			for _, ch := range w.Chunks(t, b.Res) {
				plain := ch.Stored
				if !ch.Raw() {
					plain = make([]byte, ch.Size)
					if err := d.Decompress(plain, ch.Stored); err != nil {
						t.Fatal(err)
					}
				}
				start := time.Now()
				n := c.Compress(buf[:ch.Size-1], plain)
				spent += time.Since(start)
				if n == 0 {
					n = ch.Size
				}
				r.theirs += len(ch.Stored)
				r.ours += n
			}
			totT += r.theirs
			totO += r.ours
		}
		keys := make([]int, 0, len(rows))
		for k := range rows {
			keys = append(keys, k)
		}
		sort.Ints(keys)
		for _, k := range keys {
			r := rows[k]
			if r.theirs > 2000 && os.Getenv("LZMS_ROWS") != "" {
				t.Logf("level %d %-20s wimlib %8d ours %8d  %.4f", level, r.name, r.theirs, r.ours, float64(r.ours)/float64(r.theirs))
			}
		}
		t.Logf("level %d total wimlib %d ours %d %.4f (%v)", level, totT, totO, float64(totO)/float64(totT), spent)
	}
	_ = wimtest.ResSolid
}

// TestTuneSolid compares ours with wimlib on the sample tree as one solid
// chunk (run with LZMS_TUNE=1; it judges nothing).
func TestTuneSolid(t *testing.T) {
	if os.Getenv("LZMS_TUNE") == "" {
		t.Skip("set LZMS_TUNE=1")
	}
	w := captureLZMS(t, sampleTree(t, true), "--solid")
	d := NewDecompressor()
	for _, b := range w.Blobs {
		if !b.Res.IsSolidResource() {
			continue
		}
		_, cs, chunks := w.SolidChunks(t, b.Res)
		for _, level := range []int{LevelFast, LevelDefault, LevelBest} {
			c, _ := NewCompressorLevel(cs, level)
			tuneOverrides(c, level)
			var theirs, ours int
			var spent time.Duration
			for _, ch := range chunks {
				plain := make([]byte, ch.Size)
				if err := d.Decompress(plain, ch.Stored); err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, ch.Size)
				start := time.Now()
				n := c.Compress(buf, plain)
				spent += time.Since(start)
				theirs += len(ch.Stored)
				ours += n
			}
			t.Logf("solid level %d: %d chunks, wimlib %d ours %d %.4f (%v)", level, len(chunks), theirs, ours, float64(ours)/float64(theirs), spent)
		}
	}
}

// tuneOverrides sets the default level's parameters from the environment.
func tuneOverrides(c *Compressor, level int) {
	if level != LevelDefault {
		return
	}
	if v, err := strconv.Atoi(os.Getenv("LZMS_DEPTH")); err == nil {
		c.depth = v
	}
	if v, err := strconv.Atoi(os.Getenv("LZMS_NICE")); err == nil {
		c.niceLen = v
	}
	if v, err := strconv.Atoi(os.Getenv("LZMS_DELTA")); err == nil {
		c.deltaPowers = v
	}
	if v, err := strconv.Atoi(os.Getenv("LZMS_DBELOW")); err == nil {
		c.deltaBelow = v
	}
	if v, err := strconv.Atoi(os.Getenv("LZMS_WINDOW")); err == nil {
		c.window = v
	}
	if v, err := strconv.Atoi(os.Getenv("LZMS_LONGINS")); err == nil {
		c.longInsert = v
	}
	if v, err := strconv.Atoi(os.Getenv("LZMS_HASHBITS")); err == nil {
		c.hashShift = uint(32 - v)
		c.head = make([]int32, 1<<v)
		c.deltaHead = make([][]int32, c.deltaPowers)
		for p := range c.deltaHead {
			c.deltaHead[p] = make([]int32, 1<<deltaHashBits)
		}
	}
}

func BenchmarkCompressBig(b *testing.B) {
	_, files := benchCorpus(b)
	var all []byte
	for _, f := range files {
		all = append(all, f...)
	}
	all = all[:min(len(all), 16<<20)]
	c, _ := NewCompressor(len(all))
	dst := make([]byte, len(all))
	b.SetBytes(int64(len(all)))
	start := cpuTime()
	n := 0
	for b.Loop() {
		n = c.Compress(dst, all)
	}
	b.ReportMetric((cpuTime()-start).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(n), "bytes")
}

// TestTuneFile compresses the file named by LZMS_FILE as one chunk at the
// default level (with the LZMS_* overrides) and logs size and CPU time,
// checking that it decodes back (it judges nothing else).
func TestTuneFile(t *testing.T) {
	name := os.Getenv("LZMS_FILE")
	if name == "" {
		t.Skip("set LZMS_FILE")
	}
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	level := LevelDefault
	if v, err := strconv.Atoi(os.Getenv("LZMS_LEVEL")); err == nil {
		level = v
	}
	c, err := NewCompressorLevel(len(data), level)
	if err != nil {
		t.Fatal(err)
	}
	tuneOverrides(c, level)
	dst := make([]byte, len(data))
	start := cpuTime()
	n := c.Compress(dst, data)
	spent := cpuTime() - start
	got := make([]byte, len(data))
	if err := Decompress(got, dst[:n]); err != nil || string(got) != string(data) {
		t.Fatalf("round trip failed: %v", err)
	}
	t.Logf("level %d: %d -> %d bytes, CPU %.2f s", level, len(data), n, spent.Seconds())
}

// TestTuneConfigs compresses the file named by LZMS_FILE as one chunk with
// each configuration of LZMS_CONFIGS ("depth/nice/deltaBelow" separated by
// spaces; a 0 keeps the default level's value), alternating them
// LZMS_REPS times, and logs size and CPU time of each run, so that configurations
// are compared at the same load (it judges nothing beyond the round trip).
func TestTuneConfigs(t *testing.T) {
	name, configs := os.Getenv("LZMS_FILE"), strings.Fields(os.Getenv("LZMS_CONFIGS"))
	if name == "" || len(configs) == 0 {
		t.Skip("set LZMS_FILE and LZMS_CONFIGS")
	}
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	reps := 1
	if v, err := strconv.Atoi(os.Getenv("LZMS_REPS")); err == nil {
		reps = v
	}
	dst := make([]byte, len(data))
	got := make([]byte, len(data))
	for rep := 0; rep < reps; rep++ {
		for _, cfg := range configs {
			c, err := NewCompressor(len(data))
			if err != nil {
				t.Fatal(err)
			}
			var v [3]int
			for k, f := range strings.Split(cfg, "/") {
				if k < len(v) {
					v[k], _ = strconv.Atoi(f)
				}
			}
			if v[0] > 0 {
				c.depth = v[0]
			}
			if v[1] > 0 {
				c.niceLen = v[1]
			}
			if v[2] > 0 {
				c.deltaBelow = v[2]
			}
			runtime.GC()
			start := cpuTime()
			n := c.Compress(dst, data)
			spent := cpuTime() - start
			if err := Decompress(got, dst[:n]); err != nil || string(got) != string(data) {
				t.Fatalf("%s: round trip failed: %v", cfg, err)
			}
			load, _ := os.ReadFile("/proc/loadavg")
			t.Logf("rep %d %-10s %d -> %d bytes, CPU %.2f s (load %s)", rep, cfg, len(data), n, spent.Seconds(), strings.Fields(string(load) + " ?")[0])
		}
	}
}
