//go:build linux

package xpress

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// threadCPU is the CPU time of the calling thread
// (CLOCK_THREAD_CPUTIME_ID: exact to the scheduler's clock, unlike
// getrusage's per-thread figure, which can lag behind by a tick).
func threadCPU() time.Duration {
	var ts syscall.Timespec
	const clockThreadCPUTime = 3
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0
	}
	return time.Duration(ts.Nano())
}

// TestCompressAB compares the encoder with the previous one (kept below as
// compressOld) on the chunks of $RESEAL_XPRESS_CHUNKS, alternating chunk by
// chunk on one locked thread (the order swapped every chunk) and summing
// that thread's CPU time per encoder, so that a busy machine weighs on both
// alike. $RESEAL_XPRESS_AB_ROUNDS sets the rounds (default 5);
// RESEAL_XPRESS_AB_OLD=go compares with this encoder searching in Go
// (bestMatch, not the assembly search) instead of the previous encoder. It only
// measures and logs: the new/old CPU ratio of each round and their median,
// and both sizes.
func TestCompressAB(t *testing.T) {
	if os.Getenv("RESEAL_XPRESS_CHUNKS") == "" {
		t.Skip("set RESEAL_XPRESS_CHUNKS to a chunk file")
	}
	chunks := chunkFileT(t)
	rounds := 5
	if s := os.Getenv("RESEAL_XPRESS_AB_ROUNDS"); s != "" {
		if _, err := fmt.Sscan(s, &rounds); err != nil {
			t.Fatal(err)
		}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var cOld interface{ Compress(dst, src []byte) int }
	cOld, _ = oldNewCompressor(MaxChunkSize)
	if os.Getenv("RESEAL_XPRESS_AB_OLD") == "go" {
		// "old" is this encoder with bestMatch, not the assembly search.
		c, _ := NewCompressor(MaxChunkSize)
		c.goSearch = true
		cOld = c
	}
	cNew, _ := NewCompressor(MaxChunkSize)
	dst := make([]byte, MaxChunkSize)
	stored := func(n int, ch []byte) int {
		if n == 0 {
			return len(ch)
		}
		return n
	}
	var ratios []float64
	total := 0
	for _, ch := range chunks {
		total += len(ch)
	}
	for r := range rounds {
		var tOld, tNew time.Duration
		sizeOld, sizeNew := 0, 0
		for k, ch := range chunks {
			for pass := range 2 {
				t0 := threadCPU()
				if (k+pass)%2 == 0 {
					sizeOld += stored(cOld.Compress(dst[:len(ch)-1], ch), ch)
					tOld += threadCPU() - t0
				} else {
					sizeNew += stored(cNew.Compress(dst[:len(ch)-1], ch), ch)
					tNew += threadCPU() - t0
				}
			}
		}
		ratios = append(ratios, tNew.Seconds()/tOld.Seconds())
		t.Logf("round %d: old %v (%.1f MB/s) %d bytes, new %v (%.1f MB/s) %d bytes (%.5f): CPU new/old %.3f",
			r, tOld, float64(total)/tOld.Seconds()/1e6, sizeOld, tNew, float64(total)/tNew.Seconds()/1e6, sizeNew,
			float64(sizeNew)/float64(sizeOld), ratios[len(ratios)-1])
	}
	slices.Sort(ratios)
	t.Logf("median CPU new/old %.3f (min %.3f, max %.3f)", ratios[len(ratios)/2], ratios[0], ratios[len(ratios)-1])
}
