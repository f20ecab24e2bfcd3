package xpress

import (
	"os"
	"path/filepath"
	"testing"
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
