package lzms

import (
	"bytes"
	"crypto/sha1"
	"fmt"
	"io/fs"
	"os"
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
	small, big := sampleTree(t, false), sampleTree(t, true)
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
			// The tree with the 11.7 MB SYSTEM hive only where its size
			// matters: one large solid chunk.
			dir := small
			if len(args) == 1 && args[0] == "--solid" {
				dir = big
			}
			w := captureLZMS(t, dir, args...)
			n, largest := decodeAll(t, w)
			if n < 3 {
				t.Fatalf("only %d LZMS chunks", n)
			}
			t.Logf("%d LZMS chunks decoded, largest %d bytes", n, largest)
		})
	}
}

// wimlibJudgesOurs puts c's chunks in place of wimlib's in w, then has
// wimlib-imagex verify the result and apply it to the files of dir.
func wimlibJudgesOurs(t *testing.T, imagex, dir string, w *wimtest.File, c *Compressor) {
	t.Helper()
	data, theirs, ours := rewriteWithOurs(t, w, c)
	t.Logf("wimlib %d bytes, ours %d (%.4fx)", theirs, ours, float64(ours)/float64(theirs))
	path := filepath.Join(t.TempDir(), "ours.wim")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command(imagex, "verify", path).CombinedOutput(); err != nil {
		t.Fatalf("wimlib-imagex verify: %v\n%s", err, msg)
	}
	dest := filepath.Join(t.TempDir(), "x")
	if msg, err := exec.Command(imagex, "apply", path, "1", dest).CombinedOutput(); err != nil {
		t.Fatalf("wimlib-imagex apply: %v\n%s", err, msg)
	}
	sameFiles(t, dir, dest)
}

// rewriteWithOurs returns the WIM with every compressed chunk of every
// non-solid resource replaced by our compression of it (raw when ours is not
// smaller), and the total stored bytes of those chunks, wimlib's and ours.
func rewriteWithOurs(tb testing.TB, w *wimtest.File, c *Compressor) (out []byte, theirs, ours int) {
	tb.Helper()
	d, check := NewDecompressor(), NewDecompressor()
	buf := make([]byte, w.ChunkSize)
	out = w.Rewrite(tb, func(bi, ci int, ch wimtest.Chunk) []byte {
		plain := ch.Stored
		if !ch.Raw() {
			plain = make([]byte, ch.Size)
			if err := d.Decompress(plain, ch.Stored); err != nil {
				tb.Fatalf("blob %d chunk %d: %v", bi, ci, err)
			}
		}
		theirs += len(ch.Stored)
		n := c.Compress(buf[:ch.Size-1], plain)
		if n == 0 {
			ours += ch.Size
			return plain
		}
		ours += n
		got := make([]byte, ch.Size)
		if err := check.Decompress(got, buf[:n]); err != nil || !bytes.Equal(got, plain) {
			tb.Fatalf("blob %d chunk %d: our chunk does not decode back: %v", bi, ci, err)
		}
		return bytes.Clone(buf[:n])
	})
	return out, theirs, ours
}

// TestWimlibDecodesOurs: WIMs whose LZMS chunks are all ours, at three
// chunk sizes (and every level at wimlib's default 128 KiB), pass wimlib-imagex verify and extract to
// the captured tree; the sizes are logged beside wimlib's.
func TestWimlibDecodesOurs(t *testing.T) {
	imagex := testenv.Peer(t, "wimlib-imagex")
	dir := sampleTree(t, false)
	for _, cs := range []int{32768, 131072, 1 << 20} {
		w := captureLZMS(t, dir, "--compress=LZMS", fmt.Sprintf("--chunk-size=%d", cs))
		levels := []int{LevelDefault}
		if cs == 131072 {
			levels = []int{LevelFast, LevelDefault, LevelBest}
		}
		for _, level := range levels {
			t.Run(fmt.Sprintf("chunk%d-level%d", cs, level), func(t *testing.T) {
				c, err := NewCompressorLevel(cs, level)
				if err != nil {
					t.Fatal(err)
				}
				wimlibJudgesOurs(t, imagex, dir, w, c)
			})
		}
	}
}

// sameFiles checks that every regular file under want has the same
// contents under got.
func sameFiles(t *testing.T, want, got string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(want, func(p string, e fs.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(want, p)
		a, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(filepath.Join(got, rel))
		if err != nil {
			return err
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs after wimlib's extraction", rel)
		}
		n++
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("compared %d files: %v", n, err)
	}
}

// TestWimlibDecodesOursLargeChunks: with 16 MiB chunks (6 MiB of a SYSTEM
// hive as one block, so offsets and offset alphabets are those of solid
// resources), a WIM of our chunks passes wimlib-imagex verify and extracts
// to the captured files.
func TestWimlibDecodesOursLargeChunks(t *testing.T) {
	imagex := testenv.Peer(t, "wimlib-imagex")
	hive, err := os.ReadFile(testenv.Corpus(t, "hives", "regipy", "SYSTEM"))
	if err != nil {
		t.Fatal(err)
	}
	// 6 MiB of the hive and a binary, each one block: offsets and offset
	// alphabets of solid resources, in a test that stays short.
	dir := filepath.Join(t.TempDir(), "large")
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	for name, data := range map[string][]byte{"SYSTEM": hive[:6<<20], "prog.exe": sampleBinary(t, 2<<20), "sub/a": []byte("x")} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cs := 16 << 20
	w := captureLZMS(t, dir, "--compress=LZMS", fmt.Sprintf("--chunk-size=%d", cs))
	c, err := NewCompressorLevel(cs, LevelFast)
	if err != nil {
		t.Fatal(err)
	}
	wimlibJudgesOurs(t, imagex, dir, w, c)
}
