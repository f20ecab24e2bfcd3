package xpress

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// benchData is about 4 MB of Go sources and executables, in 32 KiB chunks.
func benchData(b *testing.B) [][]byte {
	b.Helper()
	var all []byte
	for _, dir := range []string{"/usr/local/go/src/net/http", "/usr/local/go/src/runtime"} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if data, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil && e.Type().IsRegular() {
				all = append(all, data...)
			}
		}
	}
	if bin, err := os.ReadFile("/usr/local/go/bin/gofmt"); err == nil {
		all = append(all, bin[:min(len(bin), 2<<20)]...)
	}
	if len(all) == 0 {
		b.Skip("no Go installation to read sample data from")
	}
	var chunks [][]byte
	for off := 0; off < len(all); off += 32768 {
		chunks = append(chunks, all[off:min(off+32768, len(all))])
	}
	return chunks
}

func BenchmarkCompress(b *testing.B) {
	chunks := benchData(b)
	c, _ := NewCompressor(32768)
	dst := make([]byte, 32768)
	total, out := 0, 0
	for _, ch := range chunks {
		total += len(ch)
	}
	b.SetBytes(int64(total))
	b.ResetTimer()
	for b.Loop() {
		out = 0
		for _, ch := range chunks {
			out += c.Compress(dst[:len(ch)-1], ch)
		}
	}
	b.ReportMetric(float64(out)/float64(total), "ratio")
}

func BenchmarkDecompress(b *testing.B) {
	chunks := benchData(b)
	c, _ := NewCompressor(32768)
	d := NewDecompressor()
	var comp [][]byte
	total := 0
	for _, ch := range chunks {
		buf := make([]byte, len(ch)+1024)
		n := c.Compress(buf, ch)
		comp = append(comp, buf[:n])
		total += len(ch)
	}
	dst := make([]byte, 32768)
	b.SetBytes(int64(total))
	b.ResetTimer()
	for b.Loop() {
		for i, ch := range chunks {
			if err := d.Decompress(dst[:len(ch)], comp[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// chunkFile reads the chunks of RESEAL_XPRESS_CHUNKS, a file of
// (uint32 little-endian length, bytes) records, for measuring the codec on
// the same chunks a harness feeds to another compressor.
func chunkFile(b *testing.B) [][]byte { return chunkFileT(b) }

func chunkFileT(b testing.TB) [][]byte {
	path := os.Getenv("RESEAL_XPRESS_CHUNKS")
	if path == "" {
		b.Skip("set RESEAL_XPRESS_CHUNKS to a chunk file")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var chunks [][]byte
	for len(data) >= 4 {
		n := int(binary.LittleEndian.Uint32(data))
		if n == 0 || n > MaxChunkSize || 4+n > len(data) {
			b.Fatalf("%s: bad record", path)
		}
		chunks = append(chunks, data[4:4+n])
		data = data[4+n:]
	}
	return chunks
}

// BenchmarkCompressChunkFile reports the compressed size the WIM writer
// would store (raw when compression does not win) over the raw size.
func BenchmarkCompressChunkFile(b *testing.B) {
	chunks := chunkFile(b)
	c, _ := NewCompressor(MaxChunkSize)
	dst := make([]byte, MaxChunkSize)
	total, out := 0, 0
	for _, ch := range chunks {
		total += len(ch)
	}
	b.SetBytes(int64(total))
	b.ResetTimer()
	start := cpuTime(b, false)
	for b.Loop() {
		out = 0
		for _, ch := range chunks {
			n := c.Compress(dst[:len(ch)-1], ch)
			if n == 0 {
				n = len(ch)
			}
			out += n
		}
	}
	reportCPU(b, start, total)
	b.ReportMetric(float64(out), "bytes")
	b.ReportMetric(float64(out)/float64(total), "ratio")
}

// reportCPU reports throughput by CPU time, steadier than wall time on a
// shared machine.
func reportCPU(b *testing.B, start time.Duration, total int) {
	b.ReportMetric(float64(total)*float64(b.N)/(cpuTime(b, false)-start).Seconds()/1e6, "cpuMB/s")
}

func BenchmarkDecompressChunkFile(b *testing.B) {
	chunks := chunkFile(b)
	c, _ := NewCompressor(MaxChunkSize)
	d := NewDecompressor()
	var comp, plain [][]byte
	total := 0
	for _, ch := range chunks {
		buf := make([]byte, len(ch))
		if n := c.Compress(buf[:len(ch)-1], ch); n > 0 {
			comp = append(comp, buf[:n])
			plain = append(plain, ch)
			total += len(ch)
		}
	}
	dst := make([]byte, MaxChunkSize)
	b.SetBytes(int64(total))
	b.ResetTimer()
	start := cpuTime(b, false)
	for b.Loop() {
		for i, ch := range plain {
			if err := d.Decompress(dst[:len(ch)], comp[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportCPU(b, start, total)
}
