package sysprep

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/reseal/reseal/hive"
	"github.com/reseal/reseal/winimage"
)

// BenchmarkGeneralize times a whole generalize (journal check, inspect,
// preflight, plan, commit) of the sample Windows 10 volume; copying the
// volume for each iteration is not timed. docs/generalize.md has the figure.
func BenchmarkGeneralize(b *testing.B) {
	golden := writeSample(b, "10")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		vol := filepath.Join(b.TempDir(), "vol")
		copyTree(b, golden, vol)
		b.StartTimer()
		if _, err := Generalize(context.Background(), vol, Options{Now: fixedNow}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPreflight times the checks alone on the same volume.
func BenchmarkPreflight(b *testing.B) {
	golden := writeSample(b, "10")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Preflight(context.Background(), golden, Options{Now: fixedNow}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGeneralizeCorpus times generalize on the target built from the
// real hives (a 12 MB dirty SYSTEM recovered from its logs, ~500 actions).
func BenchmarkGeneralizeCorpus(b *testing.B) {
	golden := corpusTarget(b)
	opts := Options{Now: fixedNow, accept: map[string]bool{"pending-servicing": true}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		vol := filepath.Join(b.TempDir(), "vol")
		copyTree(b, golden, vol)
		b.StartTimer()
		if _, err := Generalize(context.Background(), vol, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// withExtraActions adds n registry actions to the sample volume's
// Generalize.xml, in one more <imaging> element as Windows writes them,
// over keys it first creates in SOFTWARE under ResealBench: 80% setValue
// of a REG_DWORD (in 100 keys), 10% deleteValue of an existing value, 10%
// deleteKey of an existing key (each with a subkey and a value).
func withExtraActions(tb testing.TB, root string, n int) {
	tb.Helper()
	h, err := hive.Open(filepath.Join(root, "Windows", "System32", "config", "SOFTWARE"), nil)
	if err != nil {
		tb.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(`  <imaging exclude="">
    <assemblyIdentity buildType="release" language="neutral" name="Reseal-Bench" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" version="10.0.19045.1" versionScope="nonSxS"/>
    <sysprepOrder order="0x1F00"/>
    <registryActions>
`)
	const base = `HKEY_LOCAL_MACHINE\Software\ResealBench`
	for i := 0; i < n; i++ {
		var err error
		switch i % 10 {
		case 8:
			var k *hive.Key
			if k, err = h.Root().CreateKey(fmt.Sprintf(`ResealBench\Old%03d`, i%100)); err == nil {
				err = k.SetDWord(fmt.Sprintf("Old%05d", i), uint32(i))
			}
			fmt.Fprintf(&b, "      <deleteValue path=\"%s\\Old%03d\" name=\"Old%05d\"/>\n", base, i%100, i)
		case 9:
			var k *hive.Key
			if k, err = h.Root().CreateKey(fmt.Sprintf(`ResealBench\Gone%05d\Sub`, i)); err == nil {
				err = k.SetDWord("v", uint32(i))
			}
			fmt.Fprintf(&b, "      <deleteKey path=\"%s\\Gone%05d\"/>\n", base, i)
		default:
			fmt.Fprintf(&b, "      <setValue path=\"%s\\K%03d\" name=\"V%05d\" type=\"REG_DWORD\" value=\"%d\"/>\n", base, i%100, i, i)
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	b.WriteString("    </registryActions>\n  </imaging>\n</sysprepInformation>")
	if err := h.Commit(); err != nil {
		tb.Fatal(err)
	}
	h.Close()
	p := filepath.Join(root, filepath.FromSlash(winimage.ActionFilesDir), "Generalize.xml")
	data, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	out := strings.Replace(string(data), "</sysprepInformation>", b.String(), 1)
	if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkGeneralizeActions times generalize of the sample Windows 10
// volume with 0, 1,000 and 10,000 extra action-file entries, reporting
// the CPU time per run (user + system of the whole process, so that the
// collector counts too; on a shared machine wall time is mostly waiting)
// and, beyond the plain volume's cost, per extra action: linear scaling
// keeps the last figure flat.
func BenchmarkGeneralizeActions(b *testing.B) {
	var baseCPU float64
	for _, n := range []int{0, 1000, 10000} {
		b.Run(fmt.Sprintf("actions=%d", n), func(b *testing.B) {
			golden := writeSample(b, "10")
			withExtraActions(b, golden, n)
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				vol := filepath.Join(b.TempDir(), "vol")
				copyTree(b, golden, vol)
				runtime.GC()
				before := processCPU()
				b.StartTimer()
				r, err := Generalize(context.Background(), vol, Options{Now: fixedNow})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				cpu += processCPU() - before
				if len(r.Actions) < n {
					b.Fatalf("%d actions planned, want at least %d", len(r.Actions), n)
				}
				b.StartTimer()
			}
			perRun := float64(cpu.Nanoseconds()) / float64(b.N) / 1e6
			b.ReportMetric(perRun, "cpu-ms/op")
			if n == 0 {
				baseCPU = perRun
			} else if baseCPU > 0 {
				b.ReportMetric((perRun-baseCPU)*1e3/float64(n), "cpu-us/extra-action")
			}
		})
	}
}
