package lzx

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/reseal/reseal/wim/internal/wimtest"
)

// goroot, sampleText, sampleBinary and sampleRandom are wimtest's shared
// test data under this package's names.
var goroot = wimtest.GOROOT

func sampleText(tb testing.TB, n int) []byte { return wimtest.GoText(tb, n) }

// sampleBinary is gofmt's code from 1/4 of the way in, whose E8 calls exercise the call translation.
func sampleBinary(tb testing.TB, n int) []byte { return wimtest.GoBinary(tb, n, 4) }

func sampleRandom(n int, seed uint64) []byte { return wimtest.Random(n, seed) }

// sampleE8 is compressible data full of E8 bytes at every alignment, so that
// the call translation matters right up to the end of every chunk.
func sampleE8(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		b.WriteByte(0xE8)
		binary.Write(&b, binary.LittleEndian, int32(i%300-100))
		b.WriteString("abcdefg"[:i%7])
	}
	return b.Bytes()[:n]
}

// sampleMixed mixes text, binary, runs and noise, with long repeats far apart.
func sampleMixed(tb testing.TB, n int) []byte {
	tb.Helper()
	var out []byte
	text := sampleText(tb, n/2)
	bin := sampleBinary(tb, n/4)
	out = append(out, text[:len(text)/2]...)
	out = append(out, bytes.Repeat([]byte{0}, 3000)...)
	out = append(out, bin...)
	out = append(out, sampleRandom(2000, 7)...)
	out = append(out, text...)
	for len(out) < n {
		out = append(out, out[:min(len(out), n-len(out))]...)
	}
	return out[:n]
}

// writeTree writes a tree of sample files for wimlib to capture.
func writeTree(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	files := map[string][]byte{
		"text.txt":      sampleText(tb, 400_000),
		"gofmt":         sampleBinary(tb, 1_500_000),
		"random.bin":    sampleRandom(100_000, 1),
		"zeros.bin":     make([]byte, 300_000),
		"e8.bin":        sampleE8(200_000),
		"small.txt":     []byte("hello, hello, hello, hello world\n"),
		"mixed.bin":     sampleMixed(tb, 600_000),
		"odd-chunk.bin": sampleText(tb, 32768*3+12345),
		"letters.txt":   sampleLetters(3000),
		"part-random":   slices.Concat(sampleText(tb, 100_000), sampleRandom(150_000, 4), sampleText(tb, 100_000)),
		"random-tail":   slices.Concat(sampleText(tb, 65536), sampleRandom(40_001, 5)),
		"e8-tails":      sampleE8Tails(),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// sampleLetters is random text over 16 letters: it compresses, but has no
// match long enough to need the length code.
func sampleLetters(n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(r.IntN(16))
	}
	return b
}

// sampleE8Tails is ten 32 KiB chunks of zeros, chunk k with a call (E8 and a
// small positive operand, which translation changes) starting 5+k bytes
// before its end: it pins down where translation stops.
func sampleE8Tails() []byte {
	b := make([]byte, 10*32768)
	for k := range 10 {
		at := (k+1)*32768 - (5 + k)
		b[at] = 0xE8
		b[at+1] = 0x10
	}
	return b
}
