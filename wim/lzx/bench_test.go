package lzx

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

// benchCorpus is the data of the benchmarks: the Go tool binaries and some
// Go sources, about 20 MB of what a Windows image mostly holds (code and text).
func benchCorpus(b *testing.B) (dir string, files [][]byte) {
	b.Helper()
	dir = b.TempDir()
	goroot := goroot()
	srcs := map[string][]byte{
		"gofmt": must(os.ReadFile(filepath.Join(goroot, "bin", "gofmt"))),
		"go":    must(os.ReadFile(filepath.Join(goroot, "bin", "go"))),
		"text":  sampleText(b, 4<<20),
	}
	for name, data := range srcs {
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

func compressAll(c *Compressor, files [][]byte, chunkSize int) (in, out int) {
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

func BenchmarkCompress(b *testing.B) {
	_, files := benchCorpus(b)
	for _, cs := range []int{32768, 1 << 20} {
		b.Run(fmt.Sprint(cs), func(b *testing.B) {
			c, _ := NewCompressor(cs)
			var in, out int
			for b.Loop() {
				in, out = compressAll(c, files, cs)
			}
			b.SetBytes(int64(in))
			b.ReportMetric(float64(out)/float64(in), "ratio")
		})
	}
}

func BenchmarkDecompress(b *testing.B) {
	_, files := benchCorpus(b)
	cs := 32768
	c, _ := NewCompressor(cs)
	type chunk struct {
		comp []byte
		size int
	}
	var chunks []chunk
	total := 0
	for _, f := range files {
		for off := 0; off < len(f); off += cs {
			src := f[off:min(off+cs, len(f))]
			dst := make([]byte, len(src))
			if n := c.Compress(dst[:len(src)-1], src); n > 0 {
				chunks = append(chunks, chunk{dst[:n], len(src)})
				total += len(src)
			}
		}
	}
	d := NewDecompressor()
	out := make([]byte, cs)
	b.SetBytes(int64(total))
	for b.Loop() {
		for _, ch := range chunks {
			if err := d.Decompress(out[:ch.size], ch.comp); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkVsWimlib captures the benchmark tree with wimlib-imagex on one
// thread (LZX, and uncompressed to subtract its I/O and hashing), compresses
// the same data with ours, and reports the size and time ratios. Times are
// CPU times (user + system), so that other work on the machine does not
// skew the ratio.
func BenchmarkVsWimlib(b *testing.B) {
	imagex := testenv.Peer(b, "wimlib-imagex")
	dir, files := benchCorpus(b)
	for _, cs := range []int{32768, 1 << 20} {
		b.Run(fmt.Sprint(cs), func(b *testing.B) {
			capture := func(comp string) (time.Duration, *wimtest.File) {
				out := filepath.Join(b.TempDir(), "w.wim")
				args := []string{"capture", dir, out, "--compress=" + comp, "--threads=1", "--no-acls"}
				if comp != "none" {
					args = append(args, fmt.Sprintf("--chunk-size=%d", cs))
				}
				cmd := exec.Command(imagex, args...)
				if msg, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("%v\n%s", err, msg)
				}
				cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
				if comp == "none" {
					return cpu, nil
				}
				return cpu, wimtest.Read(b, out)
			}
			noneTime, _ := capture("none")
			lzxTime, w := capture("lzx")
			wimlibTime := lzxTime - noneTime
			wimlibBytes := 0
			for _, blob := range w.Blobs {
				if blob.Res.Flags&0x02 == 0 { // file data, not metadata
					wimlibBytes += int(blob.Res.Size)
				}
			}
			for level := LevelFast; level <= LevelBest; level++ {
				b.Run(fmt.Sprintf("level%d", level), func(b *testing.B) {
					c, _ := NewCompressorLevel(cs, level)
					var in, out int
					start := cpuTime()
					for b.Loop() {
						in, out = compressAll(c, files, cs)
					}
					ours := (cpuTime() - start) / time.Duration(b.N)
					// Our byte count lacks the chunk tables wimlib's resources hold.
					out += (in/cs + len(files)) * 4
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

// BenchmarkDecompressVsWimlib decodes the chunks of a WIM wimlib wrote and
// compares the CPU time with wimlib-imagex extracting it (less extracting
// the same tree from an uncompressed WIM).
func BenchmarkDecompressVsWimlib(b *testing.B) {
	imagex := testenv.Peer(b, "wimlib-imagex")
	dir, _ := benchCorpus(b)
	cs := 32768
	run := func(args ...string) time.Duration {
		cmd := exec.Command(imagex, args...)
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v: %v\n%s", args, err, msg)
		}
		return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	tmp := b.TempDir()
	lzxWIM, noneWIM := filepath.Join(tmp, "lzx.wim"), filepath.Join(tmp, "none.wim")
	run("capture", dir, lzxWIM, "--compress=lzx", "--threads=1", "--no-acls")
	run("capture", dir, noneWIM, "--compress=none", "--threads=1", "--no-acls")
	wimlibTime := run("apply", lzxWIM, "1", filepath.Join(tmp, "a")) - run("apply", noneWIM, "1", filepath.Join(tmp, "b"))
	w := wimtest.Read(b, lzxWIM)
	type chunk struct {
		comp []byte
		size int
	}
	var chunks []chunk
	total := 0
	for _, blob := range w.Blobs {
		for _, c := range w.Chunks(b, blob.Res) {
			total += c.Size
			if !c.Raw() {
				chunks = append(chunks, chunk{c.Stored, c.Size})
			}
		}
	}
	d := NewDecompressor()
	out := make([]byte, cs)
	start := cpuTime()
	for b.Loop() {
		for _, ch := range chunks {
			if err := d.DecompressChunk(out[:ch.size], ch.comp, cs); err != nil {
				b.Fatal(err)
			}
		}
	}
	ours := (cpuTime() - start) / time.Duration(b.N)
	b.SetBytes(int64(total))
	b.ReportMetric(ours.Seconds()/wimlibTime.Seconds(), "cputime/wimlib")
	b.ReportMetric(float64(total)/ours.Seconds()/1e6, "oursCPU-MB/s")
	b.ReportMetric(float64(total)/wimlibTime.Seconds()/1e6, "wimlibCPU-MB/s")
}

// BenchmarkCompressRuns compresses long single-byte runs (a file of zeros,
// the sparse tails of disk images): the case a tree search handles worst.
func BenchmarkCompressRuns(b *testing.B) {
	zeros := make([]byte, 8<<20)
	mixed := sampleMixed(b, 8<<20)
	for _, in := range []struct {
		name string
		data []byte
	}{{"zeros", zeros}, {"mixed", mixed}} {
		for _, cs := range []int{32768, 1 << 20} {
			b.Run(fmt.Sprintf("%s/%d", in.name, cs), func(b *testing.B) {
				c, _ := NewCompressor(cs)
				var n, out int
				for b.Loop() {
					n, out = compressAll(c, [][]byte{in.data}, cs)
				}
				b.SetBytes(int64(n))
				b.ReportMetric(float64(out)/float64(n), "ratio")
			})
		}
	}
}
