package xpress

// A minimal, test-only reader of WIM files written by wimlib-imagex: just
// enough of the header and blob table to pull out the compressed chunks of
// every non-solid resource and check them against the SHA-1 the blob table
// records for the uncompressed data.

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

const (
	wimHeaderFlagXpress = 0x00020000
	resFlagCompressed   = 0x04
	resFlagSolid        = 0x10
)

type testBlob struct {
	flags      byte
	storedSize int64
	offset     int64
	origSize   int64
	sha1       [20]byte
}

type testWIM struct {
	data      []byte
	flags     uint32
	chunkSize int
	blobs     []testBlob
}

func parseResHdr(b []byte) testBlob {
	var sz [8]byte
	copy(sz[:], b[:7])
	return testBlob{
		storedSize: int64(binary.LittleEndian.Uint64(sz[:])),
		flags:      b[7],
		offset:     int64(binary.LittleEndian.Uint64(b[8:])),
		origSize:   int64(binary.LittleEndian.Uint64(b[16:])),
	}
}

func readTestWIM(t testing.TB, path string) *testWIM {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 208 || !bytes.Equal(data[:8], []byte("MSWIM\x00\x00\x00")) {
		t.Fatalf("%s: not a WIM file", path)
	}
	w := &testWIM{
		data:      data,
		flags:     binary.LittleEndian.Uint32(data[16:]),
		chunkSize: int(binary.LittleEndian.Uint32(data[20:])),
	}
	table := parseResHdr(data[48:])
	if table.flags&resFlagCompressed != 0 || table.offset+table.storedSize > int64(len(data)) {
		t.Fatalf("%s: unexpected blob table resource %+v", path, table)
	}
	entries := data[table.offset : table.offset+table.storedSize]
	for len(entries) >= 50 {
		b := parseResHdr(entries)
		copy(b.sha1[:], entries[30:50])
		w.blobs = append(w.blobs, b)
		entries = entries[50:]
	}
	return w
}

// chunks splits a compressed non-solid resource into its stored chunks and
// their uncompressed sizes.
func (w *testWIM) chunks(t testing.TB, b testBlob) (stored [][]byte, sizes []int) {
	t.Helper()
	res := w.data[b.offset : b.offset+b.storedSize]
	n := int((b.origSize + int64(w.chunkSize) - 1) / int64(w.chunkSize))
	entry := 4
	if b.origSize > 1<<32 {
		entry = 8
	}
	tableLen := (n - 1) * entry
	starts := make([]int64, n+1)
	for i := 1; i < n; i++ {
		if entry == 4 {
			starts[i] = int64(binary.LittleEndian.Uint32(res[(i-1)*4:]))
		} else {
			starts[i] = int64(binary.LittleEndian.Uint64(res[(i-1)*8:]))
		}
	}
	starts[n] = int64(len(res) - tableLen)
	for i := 0; i < n; i++ {
		stored = append(stored, res[int64(tableLen)+starts[i]:int64(tableLen)+starts[i+1]])
		size := w.chunkSize
		if i == n-1 {
			size = int(b.origSize - int64(i)*int64(w.chunkSize))
		}
		sizes = append(sizes, size)
	}
	return stored, sizes
}

// captureWIM runs wimlib-imagex capture on dir with the given extra options.
func captureWIM(t testing.TB, imagex, dir string, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "test.wim")
	cmd := exec.Command(imagex, append([]string{"capture", dir, out}, args...)...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("wimlib-imagex capture %v: %v\n%s", args, err, msg)
	}
	return out
}

// decodeBlob decodes every chunk of b with dec and checks the SHA-1.
func (w *testWIM) decodeBlob(t testing.TB, b testBlob, dec func(dst, src []byte) error) (compressedChunks int, err error) {
	t.Helper()
	var whole []byte
	if b.flags&resFlagCompressed == 0 {
		whole = w.data[b.offset : b.offset+b.storedSize]
	} else {
		stored, sizes := w.chunks(t, b)
		for i, c := range stored {
			dst := make([]byte, sizes[i])
			if len(c) == sizes[i] {
				copy(dst, c)
			} else {
				compressedChunks++
				if err := dec(dst, c); err != nil {
					return compressedChunks, fmt.Errorf("blob at %d chunk %d (%d -> %d bytes): %w", b.offset, i, len(c), sizes[i], err)
				}
			}
			whole = append(whole, dst...)
		}
	}
	if sum := sha1.Sum(whole); sum != b.sha1 {
		return compressedChunks, fmt.Errorf("blob at %d: SHA-1 mismatch after decoding", b.offset)
	}
	return compressedChunks, nil
}
