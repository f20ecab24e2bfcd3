package lzms

import (
	"os"
	"testing"

	"github.com/reseal/reseal/wim/internal/wimtest"
)

// BenchmarkDecompressWIM decodes every compressed LZMS chunk of the WIM
// named by $LZMS_WIM (a wimlib --solid or --compress=LZMS capture), for
// profiling the decoder on real data without the container:
//
//	LZMS_WIM=x.wim go test -run '^$' -bench DecompressWIM -cpuprofile cpu.out ./wim/lzms
func BenchmarkDecompressWIM(b *testing.B) {
	path := os.Getenv("LZMS_WIM")
	if path == "" {
		b.Skip("LZMS_WIM is not set")
	}
	w := wimtest.Read(b, path)
	chunks, _ := w.CompressedChunks(b)
	total := 0
	for _, c := range chunks {
		total += c.Size
	}
	b.SetBytes(int64(total))
	decodeChunksLoop(b, chunks)
}
