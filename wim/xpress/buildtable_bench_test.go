package xpress

import "testing"

// BenchmarkBuildDecodeTable measures the per-chunk table build alone, over
// the Huffman tables of real chunks (RESEAL_XPRESS_CHUNKS).
func BenchmarkBuildDecodeTable(b *testing.B) {
	chunks := chunkFile(b)
	c, _ := NewCompressor(MaxChunkSize)
	var hdrs [][]byte
	for _, ch := range chunks {
		buf := make([]byte, len(ch))
		if n := c.Compress(buf[:len(ch)-1], ch); n > 0 {
			hdrs = append(hdrs, buf[:tableBytes])
		}
	}
	d := NewDecompressor()
	b.ResetTimer()
	for b.Loop() {
		for _, h := range hdrs {
			if err := buildDecodeTable(&d.table, h); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(hdrs)), "ns/table")
}
