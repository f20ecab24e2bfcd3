package lzms

import (
	"encoding/binary"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

// goroot is the Go installation whose sources and binaries serve as data.
var goroot = sync.OnceValue(func() string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
})

// sampleText returns n bytes of real text: Go sources of the toolchain.
func sampleText(tb testing.TB, n int) []byte {
	tb.Helper()
	var out []byte
	root := filepath.Join(goroot(), "src")
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

// sampleBinary returns up to n bytes of an x86-64 executable (gofmt), whose
// calls and RIP-relative operands exercise the x86 filter.
func sampleBinary(tb testing.TB, n int) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(goroot(), "bin", "gofmt"))
	if err != nil {
		tb.Skipf("no gofmt binary: %v", err)
	}
	if len(b) > n {
		b = b[len(b)/8:]
		b = b[:min(n, len(b))]
	}
	return b
}

func sampleRandom(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// sampleTable is a table of records whose fields grow linearly, the kind
// of data delta matches are for.
func sampleTable(n int) []byte {
	var b []byte
	for i := 0; len(b) < n; i++ {
		b = binary.LittleEndian.AppendUint32(b, uint32(1000+7*i))
		b = binary.LittleEndian.AppendUint16(b, uint16(3*i))
		b = binary.LittleEndian.AppendUint16(b, 0x4242)
		b = binary.LittleEndian.AppendUint64(b, uint64(i)*0x10001)
	}
	return b[:n]
}

// sampleTree writes a directory of varied files: text, an executable,
// registry hives from the corpus when present (the 11.7 MB SYSTEM hive only
// when big), a delta-friendly table, random bytes, tiny files and an empty
// one.
func sampleTree(tb testing.TB, big bool) string {
	const scale = 1
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "tree")
	files := map[string][]byte{
		"text.go":        sampleText(tb, 300_000*scale),
		"prog.exe":       sampleBinary(tb, 900_000*scale),
		"table.bin":      sampleTable(200_000 * scale),
		"noise.bin":      sampleRandom(70_000, 7),
		"sub/small.txt":  []byte("a small file\n"),
		"sub/three":      []byte("abc"),
		"sub/empty":      nil,
		"sub/short.go":   sampleText(tb, 5000),
		"sub/mixed.bin":  append(sampleText(tb, 40_000), sampleBinary(tb, 40_000)...),
		"sub/deep/x.txt": sampleText(tb, 131_073),
	}
	if c := testenv.CorpusDir(); c != "" {
		hives := []string{"NTUSER.DAT", "SAM"}
		if big {
			hives = append(hives, "SYSTEM")
		}
		for _, h := range hives {
			if b, err := os.ReadFile(filepath.Join(c, "hives", "regipy", h)); err == nil {
				files["hives/"+h] = b
			}
		}
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}
