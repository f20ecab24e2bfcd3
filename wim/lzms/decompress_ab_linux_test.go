package lzms

import (
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/reseal/reseal/wim/internal/wimtest"
)

func adviseHuge(b []byte) {
	start := uintptr(unsafe.Pointer(&b[0]))
	first := (start + 4095) &^ 4095
	last := (start + uintptr(len(b))) &^ 4095
	if err := syscall.Madvise(b[first-start:last-start], syscall.MADV_HUGEPAGE); err != nil {
		panic(err)
	}
}

// threadCPU is the CPU time of the calling thread (Linux RUSAGE_THREAD).
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestDecodeAB compares decoder variants on the chunks of $LZMS_WIM,
// alternating chunk by chunk on one locked thread and summing that
// thread's CPU time per variant, so that a busy machine weighs on every
// variant alike.
func TestDecodeAB(t *testing.T) {
	path := os.Getenv("LZMS_WIM")
	if path == "" {
		t.Skip("LZMS_WIM is not set")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	w := wimtest.Read(t, path)
	var chunks []wimtest.Chunk
	for _, blob := range w.Blobs {
		if blob.Res.IsSolidResource() {
			_, _, cs := w.SolidChunks(t, blob.Res)
			for _, c := range cs {
				if !c.Raw() {
					chunks = append(chunks, c)
				}
			}
		}
	}
	// The decoder asks for huge pages for its output; the reference gets
	// them too (adviseHuge) and without them (plain).
	plain, huge, ours := make([]byte, MaxChunkSize), make([]byte, MaxChunkSize), make([]byte, MaxChunkSize)
	adviseHuge(huge)
	d, ref := NewDecompressor(), new(refDecompressor)
	variants := []struct {
		name string
		run  func(c wimtest.Chunk) error
	}{
		{"reference", func(c wimtest.Chunk) error { return ref.Decompress(plain[:c.Size], c.Stored) }},
		{"reference+huge", func(c wimtest.Chunk) error { return ref.Decompress(huge[:c.Size], c.Stored) }},
		{"new", func(c wimtest.Chunk) error { return d.Decompress(ours[:c.Size], c.Stored) }},
	}
	// Touch both buffers once so that page faults are not counted.
	for _, v := range variants {
		if err := v.run(chunks[0]); err != nil {
			t.Fatal(err)
		}
	}
	times := make([]time.Duration, len(variants))
	reps := 2
	total := 0
	for r := range reps {
		for i, c := range chunks {
			total += c.Size
			for k := range variants {
				v := (k + i + r) % len(variants)
				start := threadCPU()
				if err := variants[v].run(c); err != nil {
					t.Fatal(err)
				}
				times[v] += threadCPU() - start
			}
		}
	}
	for v := range variants {
		t.Logf("%-14s %7.2f s CPU  %6.1f MB/s  %.3fx reference", variants[v].name, times[v].Seconds(), float64(total)/times[v].Seconds()/1e6, times[v].Seconds()/times[0].Seconds())
	}
}
