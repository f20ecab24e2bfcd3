package regfile

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"testing"

	"github.com/reseal/reseal/hive"
	"github.com/reseal/reseal/internal/testenv"
)

// benchReg is a .reg file of n values over keys of 100 values each.
func benchReg(tb testing.TB, n int) []byte {
	var buf bytes.Buffer
	e := NewEncoder(&buf, UTF16LE)
	for i := 0; i < n; i++ {
		if i%100 == 0 {
			e.WriteKey(fmt.Sprintf(`HKEY_LOCAL_MACHINE\SYSTEM\Bench\Key%04d`, i/100))
		}
		switch i % 3 {
		case 0:
			e.WriteValue(fmt.Sprintf("v%d", i), hive.TypeString, utf16z(fmt.Sprintf(`C:\Program Files\App %d`, i)))
		case 1:
			e.WriteValue(fmt.Sprintf("v%d", i), hive.TypeDWord, binary.LittleEndian.AppendUint32(nil, uint32(i)))
		case 2:
			e.WriteValue(fmt.Sprintf("v%d", i), hive.TypeBinary, make([]byte, 100))
		}
	}
	if err := e.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func BenchmarkParse10k(b *testing.B) {
	text := benchReg(b, 10000)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		p, err := NewParser(bytes.NewReader(text), nil)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := p.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkImport10k(b *testing.B) {
	text := benchReg(b, 10000)
	for b.Loop() {
		h := hive.New()
		if _, err := Import(context.Background(), h.Root(), bytes.NewReader(text), &ImportOptions{Prefix: `HKLM\SYSTEM`}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExport10k(b *testing.B) {
	h := hive.New()
	if _, err := Import(context.Background(), h.Root(), bytes.NewReader(benchReg(b, 10000)), &ImportOptions{Prefix: `HKLM\SYSTEM`}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := Export(context.Background(), io.Discard, h.Root(), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImport10kSYSTEM is `reseal reg import` in process: open a copy
// of the corpus SYSTEM (11 MB), import 10,000 values in 100 new keys, and
// commit (atomic replace, fsync). Copying the hive is not timed.
func BenchmarkImport10kSYSTEM(b *testing.B) {
	src := testenv.Corpus(b, "hives", "regipy", "SYSTEM")
	text := benchReg(b, 10000)
	for b.Loop() {
		b.StopTimer()
		path := testenv.CopyToTemp(b, src)
		b.StartTimer()
		h, err := hive.Open(path, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Import(context.Background(), h.Root(), bytes.NewReader(text), &ImportOptions{Prefix: `HKLM\SYSTEM`}); err != nil {
			b.Fatal(err)
		}
		if err := h.Commit(); err != nil {
			b.Fatal(err)
		}
		h.Close()
	}
}
