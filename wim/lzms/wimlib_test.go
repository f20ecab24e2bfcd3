package lzms

import (
	"bytes"
	"crypto/sha1"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
	"github.com/reseal/reseal/wim/internal/wimtest"
)

// captureLZMS captures dir with wimlib-imagex and args, appends the
// directory's "sub" as a second image (so that the WIM has several images
// and the blob table several runs), and reads the result.
func captureLZMS(tb testing.TB, dir string, args ...string) *wimtest.File {
	tb.Helper()
	imagex := testenv.Peer(tb, "wimlib-imagex")
	path := wimtest.Capture(tb, imagex, dir, append([]string{"--no-acls"}, args...)...)
	appendArgs := []string{"append", filepath.Join(dir, "sub"), path, "second", "--no-acls"}
	for _, a := range args {
		if a == "--solid" {
			appendArgs = append(appendArgs, a)
		}
	}
	if msg, err := exec.Command(imagex, appendArgs...).CombinedOutput(); err != nil {
		tb.Fatalf("wimlib-imagex %v: %v\n%s", appendArgs, err, msg)
	}
	w := wimtest.Read(tb, path)
	if w.Flags&wimtest.FlagCompressMask != wimtest.FlagCompressLZMS {
		tb.Fatalf("header flags %#x: not LZMS", w.Flags)
	}
	return w
}

// decodeAll decodes every LZMS chunk of the WIM, solid or not, and checks
// every blob against its SHA-1 in wimlib's blob table. It returns the
// number of LZMS chunks decoded and the largest.
func decodeAll(tb testing.TB, w *wimtest.File) (chunks, largest int) {
	tb.Helper()
	d := NewDecompressor()
	decode := func(c wimtest.Chunk) []byte {
		if c.Raw() {
			return c.Stored
		}
		plain := make([]byte, c.Size)
		if err := d.Decompress(plain, c.Stored); err != nil {
			tb.Fatalf("chunk of %d -> %d bytes: %v", len(c.Stored), c.Size, err)
		}
		chunks++
		largest = max(largest, c.Size)
		return plain
	}
	var solid []byte // the uncompressed data of the current solid run
	inRun := false
	var pending []wimtest.Blob
	checkRun := func() {
		for _, b := range pending {
			end := b.Res.Offset + b.Res.Size
			if end > int64(len(solid)) {
				tb.Fatalf("solid blob %d+%d beyond the run's %d bytes", b.Res.Offset, b.Res.Size, len(solid))
			}
			if got := sha1.Sum(solid[b.Res.Offset:end]); !bytes.Equal(got[:], b.SHA1()) {
				tb.Fatalf("solid blob at %d: SHA-1 %x, wimlib says %x", b.Res.Offset, got, b.SHA1())
			}
		}
		pending, solid = nil, nil
	}
	for bi, b := range w.Blobs {
		if b.Res.Flags&wimtest.ResSolid == 0 {
			if inRun {
				checkRun()
				inRun = false
			}
			h := sha1.New()
			for _, c := range w.Chunks(tb, b.Res) {
				if b.Res.Compressed() {
					h.Write(decode(c))
				} else {
					h.Write(c.Stored)
				}
			}
			if got := h.Sum(nil); !bytes.Equal(got, b.SHA1()) {
				tb.Fatalf("blob %d: SHA-1 %x, wimlib says %x", bi, got, b.SHA1())
			}
			continue
		}
		inRun = true
		if !b.Res.IsSolidResource() {
			pending = append(pending, b)
			continue
		}
		comp, _, cs := w.SolidChunks(tb, b.Res)
		if comp != 3 {
			tb.Fatalf("solid resource compression %d, want 3 (LZMS)", comp)
		}
		for _, c := range cs {
			solid = append(solid, decode(c)...)
		}
	}
	if inRun {
		checkRun()
	}
	return chunks, largest
}

// TestDecodeWimlibWIMs: every chunk of WIMs that wimlib compresses with
// LZMS, non-solid with several chunk sizes and solid with small and default
// (64 MiB) chunks, two images each, decodes to the data whose SHA-1 wimlib
// recorded.
func TestDecodeWimlibWIMs(t *testing.T) {
	dir := sampleTree(t, 1)
	for _, args := range [][]string{
		{"--compress=LZMS"},
		{"--compress=LZMS", "--chunk-size=32768"},
		{"--compress=LZMS", "--chunk-size=1048576"},
		{"--compress=LZMS:100"},
		{"--solid"},
		{"--solid", "--solid-chunk-size=1048576"},
		{"--solid", "--solid-compress=LZMS:20", "--solid-chunk-size=262144"},
	} {
		t.Run(fmt.Sprint(args), func(t *testing.T) {
			w := captureLZMS(t, dir, args...)
			n, largest := decodeAll(t, w)
			if n < 3 {
				t.Fatalf("only %d LZMS chunks", n)
			}
			t.Logf("%d LZMS chunks decoded, largest %d bytes", n, largest)
		})
	}
}
