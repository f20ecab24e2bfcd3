package xpress

import (
	"bytes"
	"os"
	"testing"
)

// compressBoth compresses src with the assembly match search (where there
// is one) and with bestMatch, and fails unless the outputs are the same
// bytes.
func compressBoth(t testing.TB, cAsm, cGo *Compressor, src []byte) {
	t.Helper()
	bufAsm := make([]byte, 2*len(src)+512)
	bufGo := make([]byte, 2*len(src)+512)
	nAsm := cAsm.Compress(bufAsm, src)
	nGo := cGo.Compress(bufGo, src)
	if !bytes.Equal(bufAsm[:nAsm], bufGo[:nGo]) {
		t.Fatalf("%d input bytes: assembly search wrote %d bytes, bestMatch %d, and they differ", len(src), nAsm, nGo)
	}
}

func newCompressorPair(t testing.TB) (cAsm, cGo *Compressor) {
	cAsm, err := NewCompressor(MaxChunkSize)
	if err != nil {
		t.Fatal(err)
	}
	cGo, _ = NewCompressor(MaxChunkSize)
	cGo.goSearch = true
	return cAsm, cGo
}

// TestBestMatchAsmSameOutput holds the assembly match search to bestMatch:
// the same compressed bytes for the test inputs at many chunk sizes and
// offsets (and for the chunks of $RESEAL_XPRESS_CHUNKS, when set).
func TestBestMatchAsmSameOutput(t *testing.T) {
	if !haveBestMatchAsm {
		t.Skip("no assembly match search on this architecture")
	}
	cAsm, cGo := newCompressorPair(t)
	chunks := 0
	for name, data := range testInputs(t) {
		for _, n := range []int{1, 3, 4, 5, 7, 8, 9, 17, 300, 4096, 32768, MaxChunkSize} {
			for _, start := range []int{0, 1, 4099} {
				if start+n > len(data) {
					continue
				}
				t.Run("", func(t *testing.T) {
					t.Logf("%s[%d:%d]", name, start, start+n)
					compressBoth(t, cAsm, cGo, data[start:start+n])
				})
				chunks++
			}
		}
	}
	if os.Getenv("RESEAL_XPRESS_CHUNKS") != "" {
		for _, ch := range chunkFileT(t) {
			compressBoth(t, cAsm, cGo, ch)
			chunks++
		}
	}
	t.Logf("%d chunks compressed alike", chunks)
}

// FuzzXpressBestMatchAsm holds the assembly match search to bestMatch on fuzzed
// chunks. The input is repeated up to n bytes (n from the fuzzer) so that
// small inputs still make long chains and long matches reaching the chunk's
// end; a second pass flips one byte per period to break matches late.
func FuzzXpressBestMatchAsm(f *testing.F) {
	if !haveBestMatchAsm {
		f.Skip("no assembly match search on this architecture")
	}
	for _, data := range testInputs(f) {
		f.Add(data[:min(len(data), 3000)], uint16(len(data)))
	}
	f.Add([]byte("abcabcabdxyz"), uint16(65535))
	f.Add([]byte{0}, uint16(8))
	cAsm, cGo := newCompressorPair(f)
	f.Fuzz(func(t *testing.T, seed []byte, n uint16) {
		if len(seed) > MaxChunkSize {
			seed = seed[:MaxChunkSize]
		}
		compressBoth(t, cAsm, cGo, seed)
		if len(seed) == 0 {
			return
		}
		src := make([]byte, int(n)+1)
		for i := range src {
			src[i] = seed[i%len(seed)]
		}
		compressBoth(t, cAsm, cGo, src)
		for i := len(seed) - 1; i < len(src); i += len(seed) + 1 {
			src[i] ^= byte(i)
		}
		compressBoth(t, cAsm, cGo, src)
	})
}
