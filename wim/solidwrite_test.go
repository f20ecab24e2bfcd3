package wim

import "testing"

// TestSolidWorkersBudget: LZMS solid writers run no more compressors at
// once than solidMemoryBudget holds (two at 64 MiB chunks), small chunks
// and the other codecs as many as asked.
func TestSolidWorkersBudget(t *testing.T) {
	for _, c := range []struct {
		comp           Compression
		chunk, threads int
		want           int
	}{
		{CompressLZMS, 64 << 20, 8, 2},
		{CompressLZMS, 32 << 20, 8, 4},
		{CompressLZMS, 64 << 20, 2, 2},
		{CompressLZMS, 64 << 20, 0, 1},
		{CompressLZMS, 1 << 20, 8, 8},
		{CompressLZX, 2 << 20, 16, 16},
		{CompressXPRESS, 64 << 10, 4, 4},
	} {
		got := solidWorkers(c.comp, c.chunk, c.threads)
		if got != c.want {
			t.Errorf("solidWorkers(%v, %d, %d) = %d, want %d", c.comp, c.chunk, c.threads, got, c.want)
		}
		if mem := int64(got) * solidWorkerMemory(c.comp, c.chunk); got > 1 && mem > solidMemoryBudget {
			t.Errorf("%v %d: %d workers hold %d MiB", c.comp, c.chunk, got, mem>>20)
		}
	}
	if m := SolidMemory(CompressLZMS, 0, 8); m < 1300<<20 || m > 1600<<20 {
		t.Errorf("SolidMemory(LZMS, 64 MiB, 2 threads) = %d MiB", m>>20)
	}
}
