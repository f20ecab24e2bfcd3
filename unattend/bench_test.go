package unattend

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reseal/reseal/internal/testenv"
)

func corpusBytes(b *testing.B) ([][]byte, int64) {
	var all [][]byte
	var total int64
	for _, p := range corpusFiles(b) {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		all = append(all, data)
		total += int64(len(data))
	}
	return all, total
}

// BenchmarkParseValidateWrite: the whole corpus, parsed, validated and
// written back, per iteration.
func BenchmarkParseValidateWrite(b *testing.B) {
	all, total := corpusBytes(b)
	b.SetBytes(total)
	for b.Loop() {
		for _, data := range all {
			f, err := Parse(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			f.Validate()
			f.WriteTo(&bytes.Buffer{})
		}
	}
}

// BenchmarkParseVersusExpat parses the corpus with Parse and, in the same
// run, with Python's ElementTree (C expat), and reports how many times
// faster Parse is (below 1: slower). Python's start-up is not counted.
func BenchmarkParseVersusExpat(b *testing.B) {
	python := testenv.Peer(b, "python3")
	all, total := corpusBytes(b)
	const rounds = 200
	script := `
import sys, time, xml.etree.ElementTree as ET
data = [open(p, "rb").read() for p in sys.argv[2:]]
t = time.perf_counter()
for _ in range(int(sys.argv[1])):
    for d in data:
        ET.fromstring(d)
print(time.perf_counter() - t)
`
	out, err := exec.Command(python, append([]string{"-c", script, strconv.Itoa(rounds)}, corpusFiles(b)...)...).Output()
	if err != nil {
		b.Fatal(err)
	}
	expatSec, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(total)
	start := time.Now()
	n := 0
	for b.Loop() {
		for _, data := range all {
			if _, err := Parse(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
		n++
	}
	ours := time.Since(start).Seconds() / float64(n)
	b.ReportMetric((expatSec/rounds)/ours, "x_vs_expat")
}
