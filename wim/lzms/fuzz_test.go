package lzms

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// FuzzDecompress feeds arbitrary input to the decoder: it must return an
// error or exactly len(dst) bytes, never panic, never allocate by what the
// input says.
func FuzzDecompress(f *testing.F) {
	f.Add(unhex(f, "1c 65 d0 8f 00 00 00 18 9e 86 55 63 62 61"), uint32(100))
	f.Add(unhex(f, "cb 33 71 00 20 30 00 00 88 5f 09 7e 02 8b 60 e3 65 6f fd ef 00 00 03 e8"), uint32(256))
	f.Add(vectorECompressed(f), uint32(9000))
	f.Add([]byte{0, 0, 0, 0}, uint32(5))
	d := NewDecompressor()
	f.Fuzz(func(t *testing.T, src []byte, size uint32) {
		size %= 70000
		dst := make([]byte, size)
		err := d.Decompress(dst, src)
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error not wrapping ErrCorrupt: %v", err)
		}
	})
}

func TestCorruptInputs(t *testing.T) {
	d := NewDecompressor()
	good := unhex(t, "1c 65 d0 8f 00 00 00 18 9e 86 55 63 62 61")
	for _, c := range []struct {
		name string
		src  []byte
		size int
	}{
		{"odd", good[:13], 100},
		{"short", good[:2], 100},
		{"empty", nil, 1},
		{"too long output", good, 200}, // the data runs out and the streams cross
		{"zeros", make([]byte, 64), 1000},
	} {
		err := d.Decompress(make([]byte, c.size), c.src)
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", c.name, err)
		}
	}
	// A huge block claimed from a few bytes fails fast (the buffer is the
	// caller's: its allocation is not timed).
	huge := make([]byte, 64<<20)
	start := time.Now()
	if err := d.Decompress(huge, good); !errors.Is(err, ErrCorrupt) || time.Since(start) > 2*time.Second {
		t.Errorf("64 MiB from 14 bytes: %v after %v", err, time.Since(start))
	}
	// A good block still decodes after the failures (no state leaks).
	got := make([]byte, 100)
	if err := d.Decompress(got, good); err != nil || !bytes.Equal(got, vectorA()) {
		t.Fatalf("after errors: %v", err)
	}
}

// FuzzRoundTrip compresses arbitrary data at both levels (Default also as
// a compressor for solid chunks) and checks that it decodes back.
func FuzzRoundTrip(f *testing.F) {
	f.Add(vectorA(), false)
	f.Add(vectorB(), true)
	f.Add(vectorE(), false)
	f.Add(bytes.Repeat(unhex(f, "90 e8 ff 0f 00 00 48 8d 05 10 20 00 00"), 40), true)
	fast, _ := NewCompressorLevel(1<<16, LevelFast)
	def, _ := NewCompressorLevel(1<<16, LevelDefault)
	// A compressor made for solid chunks searches with its own settings
	// (bigChunk); it takes the odd-length inputs of the default level.
	solid, _ := NewCompressorLevel(MaxChunkSize, LevelDefault)
	d := NewDecompressor()
	f.Fuzz(func(t *testing.T, src []byte, useFast bool) {
		if len(src) > 1<<16 || len(src) < MinCompressSize {
			return
		}
		c := def
		if useFast {
			c = fast
		} else if len(src)%2 == 1 {
			c = solid
		}
		dst := make([]byte, len(src)*2+64)
		n := c.compress(dst, src)
		if n == 0 {
			t.Fatalf("%d bytes did not fit in %d", len(src), len(dst))
		}
		got := make([]byte, len(src))
		if err := d.Decompress(got, dst[:n]); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, src) {
			t.Fatal("round trip differs")
		}
	})
}
