package xpress

import (
	"strconv"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
	"github.com/reseal/reseal/wim/internal/wimtest"
)

// TestDecodeWimlibChunks decodes every XPRESS chunk of WIMs that wimlib
// captured with each chunk size, and checks each blob's SHA-1.
func TestDecodeWimlibChunks(t *testing.T) {
	imagex := testenv.Peer(t, "wimlib-imagex")
	dir := writeTestTree(t)
	dec := NewDecompressor()
	for _, chunk := range []int{4096, 8192, 16384, 32768, 65536} {
		t.Run(strconv.Itoa(chunk), func(t *testing.T) {
			w := wimtest.Read(t, wimtest.Capture(t, imagex, dir, "--compress=xpress", "--chunk-size="+strconv.Itoa(chunk)))
			if w.Flags&wimtest.FlagCompressXPRESS == 0 || w.ChunkSize != chunk {
				t.Fatalf("header flags %#x chunk size %d: not an XPRESS WIM with %d-byte chunks", w.Flags, w.ChunkSize, chunk)
			}
			total := 0
			for _, b := range w.Blobs {
				n, err := decodeBlob(t, w, b, dec.Decompress)
				if err != nil {
					t.Fatal(err)
				}
				total += n
			}
			if total < 10 {
				t.Fatalf("only %d compressed chunks decoded", total)
			}
			t.Logf("%d blobs, %d compressed chunks decoded", len(w.Blobs), total)
		})
	}
}
