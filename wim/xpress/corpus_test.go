package xpress

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var edgeSizes = []int{1, 2, 3, 100, 4095, 4096, 4097, 32767, 32768, 32769, 65535, 65536, 65537}

// testInputs returns named sample inputs: text, executables, zeros, random
// bytes and repetitive patterns, drawn from the Go installation when present.
func testInputs(t testing.TB) map[string][]byte {
	t.Helper()
	in := map[string][]byte{}
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 300_000)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	in["random"] = random
	in["zeros"] = make([]byte, 200_000)
	pattern := make([]byte, 150_000)
	for i := range pattern {
		pattern[i] = "abcabcabdxyz"[i%12] + byte(i/5000)
	}
	in["pattern"] = pattern
	skewed := make([]byte, 100_000)
	for i := range skewed {
		// Geometric-like distribution: exercises long Huffman codes.
		v := 0
		for v < 255 && rng.IntN(3) != 0 {
			v++
		}
		skewed[i] = byte(v)
	}
	in["skewed"] = skewed
	goroot := "/usr/local/go"
	if b, err := os.ReadFile(filepath.Join(goroot, "src", "net", "http", "server.go")); err == nil {
		in["text"] = b
	}
	if b, err := os.ReadFile(filepath.Join(goroot, "bin", "gofmt")); err == nil {
		if len(b) > 1_500_000 {
			b = b[:1_500_000]
		}
		in["binary"] = b
	}
	return in
}

// writeTestTree writes the sample inputs, plus small and edge-sized files,
// to a new directory and returns it.
func writeTestTree(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range testInputs(t) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	text := testInputs(t)["text"]
	if text == nil {
		text = testInputs(t)["pattern"]
	}
	if err := os.MkdirAll(filepath.Join(dir, "edge"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range edgeSizes {
		data := make([]byte, n)
		for i := range data {
			data[i] = text[(i*7+n)%len(text)] // a different mix per size, so no deduplication
		}
		copy(data, text)
		if err := os.WriteFile(filepath.Join(dir, "edge", "size"+strconv.Itoa(n)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
