package lzms

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/reseal/reseal/internal/testenv"
	"github.com/reseal/reseal/wim/internal/wimtest"
)

// benchCorpus is the data of the benchmarks: two Go tool binaries, Go
// sources and a Windows SYSTEM hive from the corpus, about 25 MB of what a
// Windows image mostly holds (code, text, registry).
func benchCorpus(b *testing.B) (dir string, files [][]byte) {
	b.Helper()
	dir = b.TempDir()
	srcs := map[string][]byte{
		"gofmt": must(os.ReadFile(filepath.Join(goroot(), "bin", "gofmt"))),
		"go":    must(os.ReadFile(filepath.Join(goroot(), "bin", "go"))),
		"text":  sampleText(b, 4<<20),
	}
	if hive, err := os.ReadFile(filepath.Join(testenv.CorpusDir(), "hives", "regipy", "SYSTEM")); err == nil {
		srcs["SYSTEM"] = hive
	}
	for _, name := range []string{"SYSTEM", "go", "gofmt", "text"} {
		data, ok := srcs[name]
		if !ok {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			b.Fatal(err)
		}
		files = append(files, data)
	}
	return dir, files
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// compressAll compresses every file in chunks (solid: all files as one
// stream, as a solid resource holds them).
func compressAll(c *Compressor, files [][]byte, chunkSize int, solid bool) (in, out int) {
	if solid {
		var all []byte
		for _, f := range files {
			all = append(all, f...)
		}
		files = [][]byte{all}
	}
	dst := make([]byte, chunkSize)
	for _, f := range files {
		for off := 0; off < len(f); off += chunkSize {
			chunk := f[off:min(off+chunkSize, len(f))]
			n := c.Compress(dst[:len(chunk)-1], chunk)
			if n == 0 {
				n = len(chunk)
			}
			in += len(chunk)
			out += n
		}
	}
	return in, out
}

// BenchmarkVsWimlib captures the benchmark tree with wimlib-imagex on one
// thread (LZMS with 128 KiB chunks, and --solid with its 64 MiB chunks; and
// uncompressed to subtract its I/O and hashing), compresses the same data
// with ours at every level, and reports the size and time ratios. Times
// are CPU times (user + system), so that other work on the machine skews
// the ratio less.
func BenchmarkVsWimlib(b *testing.B) {
	imagex := testenv.Peer(b, "wimlib-imagex")
	dir, files := benchCorpus(b)
	capture := func(args ...string) (time.Duration, *wimtest.File) {
		out := filepath.Join(b.TempDir(), "w.wim")
		cmd := exec.Command(imagex, append([]string{"capture", dir, out, "--threads=1", "--no-acls"}, args...)...)
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v\n%s", err, msg)
		}
		return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), wimtest.Read(b, out)
	}
	noneTime, _ := capture("--compress=none")
	for _, mode := range []struct {
		name  string
		args  []string
		chunk int
		solid bool
	}{
		{"128KiB", []string{"--compress=LZMS"}, 128 << 10, false},
		{"solid", []string{"--solid"}, 64 << 20, true},
	} {
		b.Run(mode.name, func(b *testing.B) {
			t, w := capture(mode.args...)
			wimlibTime := t - noneTime
			wimlibBytes := 0
			for _, blob := range w.Blobs {
				if blob.Res.Flags&0x02 == 0 && (!mode.solid || blob.Res.IsSolidResource()) { // file data
					wimlibBytes += int(blob.Res.Size)
				}
			}
			for level := LevelFast; level <= LevelBest; level++ {
				b.Run(fmt.Sprintf("level%d", level), func(b *testing.B) {
					c, _ := NewCompressorLevel(mode.chunk, level)
					var in, out int
					start := cpuTime()
					for b.Loop() {
						in, out = compressAll(c, files, mode.chunk, mode.solid)
					}
					ours := (cpuTime() - start) / time.Duration(b.N)
					// Our byte count lacks the chunk tables wimlib's resources hold.
					out += (in/mode.chunk + len(files)) * 4
					b.SetBytes(int64(in))
					b.ReportMetric(float64(out)/float64(wimlibBytes), "size/wimlib")
					b.ReportMetric(ours.Seconds()/wimlibTime.Seconds(), "cputime/wimlib")
					b.ReportMetric(float64(in)/ours.Seconds()/1e6, "oursCPU-MB/s")
					b.ReportMetric(float64(in)/wimlibTime.Seconds()/1e6, "wimlibCPU-MB/s")
				})
			}
		})
	}
}

// BenchmarkDecompressVsWimlib decodes the chunks of LZMS WIMs wimlib wrote
// (128 KiB chunks, and solid) and compares the CPU time with wimlib-imagex
// extracting them (less extracting the same tree from an uncompressed WIM).
func BenchmarkDecompressVsWimlib(b *testing.B) {
	imagex := testenv.Peer(b, "wimlib-imagex")
	dir, _ := benchCorpus(b)
	run := func(args ...string) time.Duration {
		cmd := exec.Command(imagex, args...)
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v: %v\n%s", args, err, msg)
		}
		return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	tmp := b.TempDir()
	noneWIM := filepath.Join(tmp, "none.wim")
	run("capture", dir, noneWIM, "--compress=none", "--threads=1", "--no-acls")
	noneApply := run("apply", noneWIM, "1", filepath.Join(tmp, "none"))
	for _, mode := range []struct {
		name string
		args []string
	}{{"128KiB", []string{"--compress=LZMS"}}, {"solid", []string{"--solid"}}} {
		b.Run(mode.name, func(b *testing.B) {
			wimPath := filepath.Join(b.TempDir(), "lzms.wim")
			run(append([]string{"capture", dir, wimPath, "--threads=1", "--no-acls"}, mode.args...)...)
			wimlibTime := run("apply", wimPath, "1", filepath.Join(b.TempDir(), "a")) - noneApply
			w := wimtest.Read(b, wimPath)
			chunks, total := w.CompressedChunks(b)
			start := cpuTime()
			decodeChunksLoop(b, chunks)
			ours := (cpuTime() - start) / time.Duration(b.N)
			b.SetBytes(int64(total))
			b.ReportMetric(ours.Seconds()/wimlibTime.Seconds(), "cputime/wimlib")
			b.ReportMetric(float64(total)/ours.Seconds()/1e6, "oursCPU-MB/s")
			b.ReportMetric(float64(total)/wimlibTime.Seconds()/1e6, "wimlibCPU-MB/s")
		})
	}
}

// decodeChunksLoop decodes every chunk of chunks in each iteration of b's
// loop, with one decompressor and one output buffer.
func decodeChunksLoop(b *testing.B, chunks []wimtest.Chunk) {
	d := NewDecompressor()
	var out []byte
	for b.Loop() {
		for _, ch := range chunks {
			if cap(out) < ch.Size {
				out = make([]byte, ch.Size)
			}
			if err := d.Decompress(out[:ch.Size], ch.Stored); err != nil {
				b.Fatal(err)
			}
		}
	}
}
