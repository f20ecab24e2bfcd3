package regfile

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/reseal/reseal/hive"
	"github.com/reseal/reseal/internal/testenv"
)

// FuzzParse feeds arbitrary text to the parser. Whatever it accepts must
// survive a trip through the Encoder: written back and parsed again, the
// same operations come out.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ops, _, err := Parse(bytes.NewReader(data), &ParseOptions{MaxValueSize: 1 << 16})
		if err != nil {
			return
		}
		text, err := encodeOps(ops, UTF8)
		if err != nil {
			return // a key name with a line break has no .reg form
		}
		again, _, err := Parse(bytes.NewReader(text), &ParseOptions{MaxValueSize: 1 << 16})
		if err != nil {
			t.Fatalf("our own output does not parse: %v\n%q", err, text)
		}
		if len(again) != len(ops) {
			t.Fatalf("%d ops became %d\n%q", len(ops), len(again), text)
		}
		for i := range ops {
			a, b := ops[i], again[i]
			if a.Kind != b.Kind || a.Key != b.Key || a.Name != b.Name || a.Type != b.Type || !bytes.Equal(a.Data, b.Data) {
				t.Fatalf("op %d changed:\n%+v\n%+v\n%q", i, a, b, text)
			}
		}
	})
}

// fuzzSeeds returns small hand-made files and, when the corpus and hivex
// are present, pieces of real exports of corpus hives (hivexregedit's, and
// regedit-layout ones made by our own encoder from them).
func fuzzSeeds(tb testing.TB) [][]byte {
	seeds := [][]byte{
		[]byte("Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\A]\r\n\"s\"=\"x\\\\y\\\"z\"\r\n@=dword:00000001\r\n\"b\"=hex:01,02,\\\r\n  03\r\n\"m\"=hex(7):61,00,00,00,00,00\r\n\"d\"=-\r\n\r\n[-HKEY_LOCAL_MACHINE\\SOFTWARE\\B]\r\n"),
		[]byte("REGEDIT4\n\n[HKEY_CURRENT_USER\\x]\n\"e\"=hex(2):41,42,00\n\"q\"=hex(b):01,00,00,00,00,00,00,00\n"),
		toUTF16LE("Windows Registry Editor Version 5.00\r\n[K]\r\n\"\u00e9\"=\"\U0001F600\"\r\n", true),
	}
	root := testenv.CorpusDir()
	hivex, err := exec.LookPath("hivexregedit")
	if root == "" || err != nil {
		return seeds
	}
	for _, name := range []string{"regipy/BCD", "zimmerman/SAM", "regipy/SECURITY"} {
		src := filepath.Join(root, "hives", name)
		if _, err := os.Stat(src); err != nil {
			continue
		}
		out, err := exec.Command(hivex, "--export", "--prefix", `HKEY_LOCAL_MACHINE\X`, src, `\`).Output()
		if err != nil {
			continue
		}
		ops, _, err := Parse(bytes.NewReader(out), nil)
		if err != nil {
			tb.Fatalf("hivexregedit's export of %s: %v", name, err)
		}
		regedit, err := encodeOps(ops, UTF8)
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, pieces(out)...)
		seeds = append(seeds, pieces(regedit)...)
	}
	return seeds
}

// pieces cuts a large .reg text into seeds of a few kilobytes, each with
// the header, cut at key lines.
func pieces(text []byte) [][]byte {
	header, body, _ := bytes.Cut(text, []byte("\n"))
	var out [][]byte
	for len(body) > 0 && len(out) < 16 {
		n := min(len(body), 4096)
		if i := bytes.Index(body[n:], []byte("\n[")); i >= 0 {
			n += i + 1
		} else {
			n = len(body)
		}
		seed := append(append(append([]byte(nil), header...), '\n'), body[:n]...)
		out = append(out, seed)
		body = body[n:]
	}
	return out
}

// FuzzImport applies arbitrary .reg text to a new hive. Whatever imports
// must export, import into another new hive and export again to the same
// text: names the hive refuses are errors, never panics or a hive that
// exports differently.
func FuzzImport(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := &ImportOptions{Prefix: `HKEY_LOCAL_MACHINE\X`, Parse: &ParseOptions{MaxValueSize: 1 << 16}}
		h := hive.New()
		if _, err := Import(context.Background(), h.Root(), bytes.NewReader(data), opts); err != nil {
			return
		}
		var first, second bytes.Buffer
		if err := Export(context.Background(), &first, h.Root(), &ExportOptions{Prefix: opts.Prefix, Encoding: UTF8}); err != nil {
			return // a key name with a line break has no .reg form
		}
		again := hive.New()
		if _, err := Import(context.Background(), again.Root(), bytes.NewReader(first.Bytes()), opts); err != nil {
			t.Fatalf("our export does not import: %v\n%q", err, first.Bytes())
		}
		if err := Export(context.Background(), &second, again.Root(), &ExportOptions{Prefix: opts.Prefix, Encoding: UTF8}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first.Bytes(), second.Bytes()) {
			t.Fatalf("export changed after a round trip:\n%q\n%q", first.Bytes(), second.Bytes())
		}
	})
}
