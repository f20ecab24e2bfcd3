package lzx

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"
)

// wimlibChunk is one chunk wimlib compressed, with its plain bytes.
type wimlibChunk struct{ plain, comp []byte }

// wimlibChunkFile reads the file testdata/wimlib_chunks.py writes, named by
// RESEAL_LZX_CHUNKS: 32 KiB chunks of a real tree that wimlib compressed.
func wimlibChunkFile(tb testing.TB) []wimlibChunk {
	path := os.Getenv("RESEAL_LZX_CHUNKS")
	if path == "" {
		tb.Skip("set RESEAL_LZX_CHUNKS to the output of testdata/wimlib_chunks.py")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var chunks []wimlibChunk
	for len(data) >= 8 {
		p, c := int(binary.LittleEndian.Uint32(data)), int(binary.LittleEndian.Uint32(data[4:]))
		if p == 0 || p > MaxChunkSize || c > p || 8+p+c > len(data) {
			tb.Fatalf("%s: bad record", path)
		}
		chunks = append(chunks, wimlibChunk{data[8 : 8+p], data[8+p : 8+p+c]})
		data = data[8+p+c:]
	}
	return chunks
}

// BenchmarkDecompressWimlibChunkFile decodes the chunks wimlib compressed
// (testdata/wimlib_chunks.py prints wimlib's own decoding rate of the same
// chunks) and reports the rate by CPU time, steadier than wall time on a
// shared machine.
func BenchmarkDecompressWimlibChunkFile(b *testing.B) {
	chunks := wimlibChunkFile(b)
	d := NewDecompressor()
	dst := make([]byte, MaxChunkSize)
	total := 0
	for _, ch := range chunks {
		out := dst[:len(ch.plain)]
		if err := d.DecompressChunk(out, ch.comp, 32768); err != nil || !bytes.Equal(out, ch.plain) {
			b.Fatalf("chunk decodes wrong: %v", err)
		}
		total += len(ch.plain)
	}
	b.SetBytes(int64(total))
	b.ResetTimer()
	start := cpuTime()
	for b.Loop() {
		for _, ch := range chunks {
			if err := d.DecompressChunk(dst[:len(ch.plain)], ch.comp, 32768); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(total)*float64(b.N)/(cpuTime()-start).Seconds()/1e6, "cpuMB/s")
}
