package lzx

import (
	"fmt"
	"testing"
)

var testChunkSizes = []int{32768, 65536, 131072, 1 << 20, 1 << 21}

// TestDecodeWimlibChunks decodes every LZX chunk wimlib writes, for each chunk
// size, and checks each blob against the SHA-1 wimlib recorded.
func TestDecodeWimlibChunks(t *testing.T) {
	dir := writeTree(t)
	for _, cs := range testChunkSizes {
		t.Run(fmt.Sprint(cs), func(t *testing.T) {
			w := captureLZX(t, dir, cs)
			n := checkDecodesAll(t, w, true)
			if n == 0 {
				t.Fatal("wimlib compressed no chunk: nothing was tested")
			}
			// Without the chunk size, Decompress must find the window itself.
			checkDecodesAll(t, w, false)
			t.Logf("chunk size %d: %d LZX chunks decoded", cs, n)
		})
	}
}
