package lzms

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
	"github.com/reseal/reseal/wim/internal/wimtest"
)

// goroot, sampleText, sampleBinary and sampleRandom are wimtest's shared
// test data under this package's names.
var goroot = wimtest.GOROOT

func sampleText(tb testing.TB, n int) []byte { return wimtest.GoText(tb, n) }

// sampleBinary is gofmt's code from 1/8 of the way in, whose calls and RIP-relative operands exercise the x86 filter.
func sampleBinary(tb testing.TB, n int) []byte { return wimtest.GoBinary(tb, n, 8) }

func sampleRandom(n int, seed uint64) []byte { return wimtest.Random(n, seed) }

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
