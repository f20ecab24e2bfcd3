package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCorpusFoundAndCopied(t *testing.T) {
	readme := Corpus(t, "README.md")
	cp := CopyToTemp(t, readme)
	a, _ := os.ReadFile(readme)
	b, _ := os.ReadFile(cp)
	if len(a) == 0 || string(a) != string(b) {
		t.Fatalf("copy of %s differs", readme)
	}
	if filepath.Dir(cp) == filepath.Dir(readme) {
		t.Fatal("copy landed beside the original")
	}
}

func TestCorpusEnvOverride(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("RESEAL_CORPUS", dir)
	if got := CorpusDir(); got != dir {
		t.Fatalf("CorpusDir = %q, want %q", got, dir)
	}
	t.Setenv("RESEAL_CORPUS", filepath.Join(dir, "absent"))
	if got := CorpusDir(); got != "" {
		t.Fatalf("CorpusDir = %q for a missing directory", got)
	}
}
