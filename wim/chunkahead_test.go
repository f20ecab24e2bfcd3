//go:build linux

package wim

import (
	"context"
	"crypto/sha1"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestBigBlobParallel: a blob of many chunks in a plain resource (a few
// MiB, with the threshold lowered) is decoded
// partly on helpers, for every compression, each chunk once; verify and
// apply give it back whole, and a damaged chunk in its middle is reported
// and leaves no file, as when one goroutine decodes it.
func TestBigBlobParallel(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	src := filepath.Join(t.TempDir(), "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for i, n := range []int{5<<20 + 12345, 3 << 20, 100} {
		data := make([]byte, n)
		for k := range data {
			data[k] = "0123456789abcdef"[rng.IntN(16)]
		}
		if err := os.WriteFile(filepath.Join(src, fmt.Sprintf("f%d", i)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	for _, comp := range []Compression{CompressXPRESS, CompressLZX, CompressLZMS} {
		t.Run(comp.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.wim")
			if err := Capture(ctx, src, path, CaptureOptions{Name: "x", Compression: comp}); err != nil {
				t.Fatal(err)
			}
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			// Blobs of a few MiB stand for the big ones here.
			r.helpers.minBatches = 2
			var big *blob
			for _, b := range r.order {
				if big == nil || b.size > big.size {
					big = b
				}
			}
			pr, psize, ph := r.partFile(0)
			cd, err := openResource(pr, big.res, psize, ph.Compression(), int64(ph.ChunkSize))
			if err != nil {
				t.Fatal(err)
			}
			// The counters are per chunkedData: read the blob through this one.
			rd := newParallelReader(&r.helpers, cd, newDecoders())
			if rd == nil {
				t.Fatalf("no parallel reader for %d chunks", cd.numChunks())
			}
			cr := &checkedReader{r: rd, h: sha1.New(), want: big.hash, left: big.size, what: "big"}
			buf := make([]byte, 100_000)
			var total int64
			for {
				n, err := cr.Read(buf)
				total += int64(n)
				if err != nil {
					if err != io.EOF {
						t.Fatal(err)
					}
					break
				}
			}
			if total != big.size {
				t.Fatalf("read %d bytes of %d", total, big.size)
			}
			if n, want := cd.decoded.Load(), compressedChunks(cd); n != want {
				t.Errorf("%d decodes for %d compressed chunks", n, want)
			}
			if cd.decodedAhead.Load() == 0 {
				t.Errorf("no chunk decoded by a helper")
			}
			problems, err := r.Verify(ctx, nil)
			if err != nil || len(problems) > 0 {
				t.Fatalf("verify: %v %v", problems, err)
			}
			dest := filepath.Join(t.TempDir(), "out")
			if err := r.Apply(ctx, 1, dest, ApplyOptions{}); err != nil {
				t.Fatal(err)
			}
			compareTrees(t, src, dest)
			r.Close()

			// A damaged chunk in the middle of the big blob.
			mid := cd.numChunks() / 2
			flipByte(t, path, cd.base+cd.offs[mid]+(cd.offs[mid+1]-cd.offs[mid])/2)
			expectRefused(t, path, big.hash.String())
			r2, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r2.Close()
			r2.helpers.minBatches = 2
			dest = filepath.Join(t.TempDir(), "damaged")
			if err := r2.Apply(ctx, 1, dest, ApplyOptions{}); err == nil {
				t.Fatal("apply of a damaged big blob succeeded")
			}
			if _, err := os.Stat(filepath.Join(dest, "f0")); err == nil {
				t.Error("apply left the damaged file")
			}
		})
	}
}
