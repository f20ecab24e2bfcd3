//go:build linux

package wim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// compressedChunks counts the chunks of c that are stored compressed (the
// ones a decode is counted for).
func compressedChunks(c *chunkedData) int64 {
	var n int64
	for i := 0; i < c.numChunks(); i++ {
		if c.offs[i+1]-c.offs[i] < c.chunkLen(i) {
			n++
		}
	}
	return n
}

// TestSolidReadAhead: with chunks decoded ahead on other goroutines, verify
// and apply of a solid WIM with many small chunks and files of every size
// (small ones sharing chunks, large ones spanning many) decode every
// compressed chunk exactly once, give the files back as they were, and
// stop the read-ahead when apply fails half-way.
func TestSolidReadAhead(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	src := filepath.Join(t.TempDir(), "src")
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 300 {
		dir := filepath.Join(src, fmt.Sprintf("d%d", i%7))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		n := rng.IntN(3000)
		switch i % 50 {
		case 0:
			n = 300_000 + rng.IntN(300_000) // spans many chunks
		case 1:
			n = 2 << 20 // larger than smallFileSize: written by the reader itself
		}
		data := make([]byte, n)
		for k := range data {
			// Compressible, not trivially: a few symbols, random runs.
			data[k] = "abcdefgh"[rng.IntN(8)]
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d", i)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "solid.wim")
	ctx := context.Background()
	opts := CaptureOptions{Name: "x", Compression: CompressXPRESS, Solid: true, SolidCompression: CompressXPRESS, SolidChunkSize: 1 << 15}
	if err := Capture(ctx, src, path, opts); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	checkOnce := func(what string) {
		t.Helper()
		for _, g := range r.solids {
			for _, p := range g.parts {
				if n, want := p.decoded.Swap(0), compressedChunks(p); n != want {
					t.Errorf("%s: %d chunk decodes for %d compressed chunks (%d in all)", what, n, want, p.numChunks())
				}
				// How many the reader decodes itself, because it caught up
				// with the read-ahead, depends on the scheduling.
				if n := p.decodedAhead.Swap(0); n == 0 {
					t.Errorf("%s: no chunk decoded ahead", what)
				} else {
					t.Logf("%s: %d of %d compressed chunks decoded ahead", what, n, compressedChunks(p))
				}
			}
		}
	}
	problems, err := r.Verify(ctx, nil)
	if err != nil || len(problems) > 0 {
		t.Fatalf("verify: %v %v", problems, err)
	}
	checkOnce("verify")
	dest := filepath.Join(t.TempDir(), "out")
	if err := r.Apply(ctx, 1, dest, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	checkOnce("apply")
	compareTrees(t, src, dest)

	// Cancelled half-way: the read-ahead goroutines end with the apply.
	before := runtime.NumGoroutine()
	cctx, cancel := context.WithCancel(ctx)
	err = r.Apply(cctx, 1, filepath.Join(t.TempDir(), "out2"), ApplyOptions{Progress: func(d, total int64) {
		if d > total/3 {
			cancel()
		}
	}})
	cancel()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled apply: %v", err)
	}
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after a cancelled apply, %d before", n, before)
	}
}
