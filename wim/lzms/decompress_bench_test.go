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

// BenchmarkDecompressWIM decodes every compressed LZMS chunk of the WIM
// named by $LZMS_WIM (a wimlib --solid or --compress=LZMS capture), for
// profiling the decoder on real data without the container:
//
//	LZMS_WIM=x.wim go test -run '^$' -bench DecompressWIM -cpuprofile cpu.out ./wim/lzms
func BenchmarkDecompressWIM(b *testing.B) {
	path := os.Getenv("LZMS_WIM")
	if path == "" {
		b.Skip("LZMS_WIM is not set")
	}
	w := wimtest.Read(b, path)
	var chunks []wimtest.Chunk
	total := 0
	for _, blob := range w.Blobs {
		var cs []wimtest.Chunk
		switch {
		case blob.Res.IsSolidResource():
			_, _, cs = w.SolidChunks(b, blob.Res)
		case blob.Res.Flags&(wimtest.ResSolid|0x02) == 0 && blob.Res.Compressed():
			cs = w.Chunks(b, blob.Res)
		}
		for _, c := range cs {
			if !c.Raw() {
				chunks = append(chunks, c)
				total += c.Size
			}
		}
	}
	d := NewDecompressor()
	var out []byte
	b.SetBytes(int64(total))
	for b.Loop() {
		for _, ch := range chunks {
			if cap(out) < ch.Size {
				out = make([]byte, ch.Size)
			}
			if err := d.Decompress(out[:ch.Size], ch.Stored); err != nil {
				b.Fatal(err)
			}
		}
	}
}

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
