package wimtest

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// GOROOT is the Go installation whose sources and binaries serve the codec
// tests as real data ("" when the go command cannot say).
var GOROOT = sync.OnceValue(func() string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
})

// GoText returns n bytes of real text: Go sources of the toolchain,
// repeated when there are fewer. It skips the test when there are none.
func GoText(tb testing.TB, n int) []byte {
	tb.Helper()
	var out []byte
	root := filepath.Join(GOROOT(), "src")
	for _, pkg := range []string{"net/http", "runtime", "go/types", "cmd/compile/internal/ssa", "encoding/json", "fmt"} {
		files, _ := filepath.Glob(filepath.Join(root, pkg, "*.go"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			out = append(out, b...)
			if len(out) >= n {
				return out[:n]
			}
		}
	}
	if len(out) == 0 {
		tb.Skip("no Go sources found under GOROOT")
	}
	for len(out) < n {
		out = append(out, out...)
	}
	return out[:n]
}

// GoBinary returns up to n bytes of an x86-64 executable (gofmt), taken
// from 1/skipDiv of the way in when the file is longer than n (past the
// headers, into code). Callers keep their own skipDiv: their size
// thresholds were measured on that part of the file.
func GoBinary(tb testing.TB, n, skipDiv int) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(GOROOT(), "bin", "gofmt"))
	if err != nil {
		tb.Skipf("no gofmt binary: %v", err)
	}
	if len(b) > n {
		b = b[len(b)/skipDiv:]
		b = b[:min(n, len(b))]
	}
	return b
}

// Random returns n pseudo-random bytes, the same for the same seed.
func Random(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}
