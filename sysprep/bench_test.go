package sysprep

import (
	"context"
	"path/filepath"
	"testing"
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
