package lzx

// A minimal WIM reader and rewriter for the tests only: enough of the format
// (Microsoft's WIM documentation: the 208-byte header, resource headers, the
// blob table of 50-byte entries, chunk tables) to pull out the LZX chunks
// wimlib wrote, and to replace them with ours so that wimlib can judge them.

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

const (
	wimHeaderSize       = 208
	wimResCompressed    = 0x04
	wimResSolid         = 0x10
	wimBlobEntrySize    = 50
	wimOffBlobTable     = 48
	wimOffXML           = 72
	wimOffBootMetadata  = 96
	wimOffIntegrity     = 124
	wimOffChunkSize     = 20
	wimHeaderFlagsOff   = 16
	wimFlagCompressLZX  = 0x00040000
	wimFlagCompressMask = 0x000e0000
)

type wimResHdr struct {
	size   int64 // stored size
	flags  byte
	offset int64
	orig   int64 // uncompressed size
}

func parseResHdr(b []byte) wimResHdr {
	v := binary.LittleEndian.Uint64(b)
	return wimResHdr{
		size:   int64(v & (1<<56 - 1)),
		flags:  byte(v >> 56),
		offset: int64(binary.LittleEndian.Uint64(b[8:])),
		orig:   int64(binary.LittleEndian.Uint64(b[16:])),
	}
}

func (h wimResHdr) put(b []byte) {
	binary.LittleEndian.PutUint64(b, uint64(h.size)|uint64(h.flags)<<56)
	binary.LittleEndian.PutUint64(b[8:], uint64(h.offset))
	binary.LittleEndian.PutUint64(b[16:], uint64(h.orig))
}

type wimBlob struct {
	res  wimResHdr
	rest [26]byte // part number, reference count, SHA-1
}

func (b wimBlob) sha1() []byte { return b.rest[6:26] }

type testWIM struct {
	data      []byte
	chunkSize int
	blobs     []wimBlob
}

func readTestWIM(tb testing.TB, path string) *testWIM {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if len(data) < wimHeaderSize || !bytes.Equal(data[:8], []byte("MSWIM\x00\x00\x00")) {
		tb.Fatalf("%s: not a WIM", path)
	}
	w := &testWIM{data: data, chunkSize: int(binary.LittleEndian.Uint32(data[wimOffChunkSize:]))}
	if flags := binary.LittleEndian.Uint32(data[wimHeaderFlagsOff:]); flags&wimFlagCompressMask != wimFlagCompressLZX {
		tb.Fatalf("%s: header flags %#x: not LZX", path, flags)
	}
	bt := parseResHdr(data[wimOffBlobTable:])
	table := data[bt.offset : bt.offset+bt.size]
	for len(table) >= wimBlobEntrySize {
		var b wimBlob
		b.res = parseResHdr(table)
		copy(b.rest[:], table[24:wimBlobEntrySize])
		w.blobs = append(w.blobs, b)
		table = table[wimBlobEntrySize:]
	}
	return w
}

type wimChunk struct {
	stored []byte
	size   int // uncompressed
}

func (c wimChunk) raw() bool { return len(c.stored) == c.size }

// chunks splits a compressed, non-solid resource into its chunks.
func (w *testWIM) chunks(tb testing.TB, res wimResHdr) []wimChunk {
	tb.Helper()
	if res.flags&wimResSolid != 0 {
		tb.Fatalf("solid resources are not handled by this test reader")
	}
	data := w.data[res.offset : res.offset+res.size]
	if res.flags&wimResCompressed == 0 {
		return []wimChunk{{stored: data, size: len(data)}}
	}
	n := int((res.orig + int64(w.chunkSize) - 1) / int64(w.chunkSize))
	entry := 4
	if res.orig > 1<<32-1 {
		entry = 8
	}
	tableLen := (n - 1) * entry
	offsets := make([]int, n+1)
	for i := 1; i < n; i++ {
		if entry == 4 {
			offsets[i] = int(binary.LittleEndian.Uint32(data[(i-1)*4:]))
		} else {
			offsets[i] = int(binary.LittleEndian.Uint64(data[(i-1)*8:]))
		}
	}
	body := data[tableLen:]
	offsets[n] = len(body)
	out := make([]wimChunk, n)
	for i := range out {
		size := w.chunkSize
		if i == n-1 {
			size = int(res.orig) - i*w.chunkSize
		}
		out[i] = wimChunk{stored: body[offsets[i]:offsets[i+1]], size: size}
	}
	return out
}

// rewriteStats describes the chunks a rewrite wrote.
type rewriteStats struct {
	compressed, raw   int
	verbatim, aligned int // blocks
	uncompressed      int // blocks
	emptyLengthCode   int // compressed chunks whose last block has no length code
}

// rewrite returns a copy of the WIM in which every compressed chunk is
// recompressed with compress (0 meaning "store raw"); no integrity table.
func (w *testWIM) rewrite(tb testing.TB, compress func(dst, src []byte) int) ([]byte, rewriteStats) {
	tb.Helper()
	var stats rewriteStats
	dec := NewDecompressor()
	check := NewDecompressor()
	out := slices.Clone(w.data[:wimHeaderSize])
	newRes := map[int64]wimResHdr{}
	blobs := slices.Clone(w.blobs)
	for bi := range blobs {
		res := blobs[bi].res
		if res.flags&wimResCompressed == 0 {
			nr := res
			nr.offset = int64(len(out))
			out = append(out, w.data[res.offset:res.offset+res.size]...)
			newRes[res.offset] = nr
			blobs[bi].res = nr
			continue
		}
		chunks := w.chunks(tb, res)
		var body []byte
		var table []byte
		buf := make([]byte, w.chunkSize)
		for i, c := range chunks {
			plain := make([]byte, c.size)
			if c.raw() {
				copy(plain, c.stored)
			} else if err := dec.DecompressChunk(plain, c.stored, w.chunkSize); err != nil {
				tb.Fatalf("blob %d chunk %d: %v", bi, i, err)
			}
			if i > 0 {
				table = binary.LittleEndian.AppendUint32(table, uint32(len(body)))
			}
			n := compress(buf[:c.size-1], plain)
			if n == 0 {
				body = append(body, plain...)
				stats.raw++
			} else {
				body = append(body, buf[:n]...)
				stats.compressed++
				check.blockTypes = [4]int{}
				if err := check.DecompressChunk(make([]byte, c.size), buf[:n], w.chunkSize); err != nil {
					tb.Fatalf("blob %d chunk %d: our own chunk does not decode: %v", bi, i, err)
				}
				stats.verbatim += check.blockTypes[blockVerbatim]
				stats.aligned += check.blockTypes[blockAligned]
				stats.uncompressed += check.blockTypes[blockUncompressed]
				if !slices.ContainsFunc(check.lengthLens[:], func(l uint8) bool { return l != 0 }) {
					stats.emptyLengthCode++
				}
			}
		}
		nr := res
		nr.offset = int64(len(out))
		nr.size = int64(len(table) + len(body))
		out = append(out, table...)
		out = append(out, body...)
		newRes[res.offset] = nr
		blobs[bi].res = nr
	}
	tableOff := len(out)
	for _, b := range blobs {
		var e [wimBlobEntrySize]byte
		b.res.put(e[:])
		copy(e[24:], b.rest[:])
		out = append(out, e[:]...)
	}
	bt := parseResHdr(w.data[wimOffBlobTable:])
	bt.offset, bt.size, bt.orig = int64(tableOff), int64(len(out)-tableOff), int64(len(out)-tableOff)
	bt.put(out[wimOffBlobTable:])
	xml := parseResHdr(w.data[wimOffXML:])
	xmlOff := len(out)
	out = append(out, w.data[xml.offset:xml.offset+xml.size]...)
	xml.offset = int64(xmlOff)
	xml.put(out[wimOffXML:])
	if boot := parseResHdr(w.data[wimOffBootMetadata:]); boot.offset != 0 {
		newRes[boot.offset].put(out[wimOffBootMetadata:])
	}
	clear(out[wimOffIntegrity : wimOffIntegrity+24])
	return out, stats
}

// captureLZX captures dir into a new LZX WIM with wimlib and reads it.
func captureLZX(tb testing.TB, dir string, chunkSize int) *testWIM {
	tb.Helper()
	imagex := testenv.Peer(tb, "wimlib-imagex")
	out := filepath.Join(tb.TempDir(), "out.wim")
	args := []string{"capture", dir, out, "--compress=lzx", "--no-acls", fmt.Sprintf("--chunk-size=%d", chunkSize)}
	if b, err := exec.Command(imagex, args...).CombinedOutput(); err != nil {
		tb.Fatalf("wimlib-imagex %v: %v\n%s", args, err, b)
	}
	return readTestWIM(tb, out)
}

// checkDecodesAll decodes every chunk of every blob with ours and checks the
// blob's SHA-1 from wimlib's blob table. It returns how many chunks were LZX
// and how many of those had several blocks.
func checkDecodesAll(tb testing.TB, w *testWIM, useChunkSize bool) (compressed, multiBlock int) {
	tb.Helper()
	dec := NewDecompressor()
	for bi, b := range w.blobs {
		h := sha1.New()
		for ci, c := range w.chunks(tb, b.res) {
			if c.raw() || b.res.flags&wimResCompressed == 0 {
				h.Write(c.stored)
				continue
			}
			compressed++
			plain := make([]byte, c.size)
			dec.blockTypes = [4]int{}
			var err error
			if useChunkSize {
				err = dec.DecompressChunk(plain, c.stored, w.chunkSize)
			} else {
				err = dec.Decompress(plain, c.stored)
			}
			if err != nil {
				tb.Fatalf("blob %d chunk %d (%d -> %d bytes, chunk size %d): %v", bi, ci, len(c.stored), c.size, w.chunkSize, err)
			}
			if dec.blockTypes[blockVerbatim]+dec.blockTypes[blockAligned]+dec.blockTypes[blockUncompressed] > 1 {
				multiBlock++
			}
			h.Write(plain)
		}
		if got := h.Sum(nil); !bytes.Equal(got, b.sha1()) {
			tb.Fatalf("blob %d: SHA-1 %x, wimlib says %x", bi, got, b.sha1())
		}
	}
	return compressed, multiBlock
}
