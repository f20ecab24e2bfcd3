// Package wimtest is a minimal WIM reader and rewriter for the codec tests:
// enough of the format (Microsoft's WIM documentation: the 208-byte header,
// 24-byte resource headers, the blob table of 50-byte entries, chunk tables)
// to pull out the chunks wimlib-imagex compressed, and to put ours in their
// place so that wimlib can judge them. It is deliberately independent of
// package wim, so that the codecs are not tested through the reader they
// serve.
package wimtest

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// Header offsets and flags used by the tests.
const (
	HeaderSize         = 208
	offFlags           = 16
	offChunkSize       = 20
	offBlobTable       = 48
	offXML             = 72
	offBootMetadata    = 96
	offIntegrity       = 124
	blobEntrySize      = 50
	FlagCompressXPRESS = 0x00020000
	FlagCompressLZX    = 0x00040000
	FlagCompressLZMS   = 0x00080000
	FlagCompressMask   = 0x000e0000

	ResCompressed = 0x04
	ResSolid      = 0x10

	// SolidResourceSize is the uncompressed size a blob table entry claims
	// when it describes a solid resource rather than a blob.
	SolidResourceSize = 1 << 32
)

// ResHdr is a resource header: where a resource is stored and how big it is.
type ResHdr struct {
	Size   int64 // stored size
	Flags  byte
	Offset int64
	Orig   int64 // uncompressed size
}

// Compressed reports whether the resource is stored in chunks.
func (h ResHdr) Compressed() bool { return h.Flags&ResCompressed != 0 }

// ParseResHdr decodes a resource header.
func ParseResHdr(b []byte) ResHdr {
	v := binary.LittleEndian.Uint64(b)
	return ResHdr{
		Size:   int64(v & (1<<56 - 1)),
		Flags:  byte(v >> 56),
		Offset: int64(binary.LittleEndian.Uint64(b[8:])),
		Orig:   int64(binary.LittleEndian.Uint64(b[16:])),
	}
}

// Put encodes the header into b.
func (h ResHdr) Put(b []byte) {
	binary.LittleEndian.PutUint64(b, uint64(h.Size)|uint64(h.Flags)<<56)
	binary.LittleEndian.PutUint64(b[8:], uint64(h.Offset))
	binary.LittleEndian.PutUint64(b[16:], uint64(h.Orig))
}

// Blob is one blob table entry.
type Blob struct {
	Res  ResHdr
	rest [26]byte // part number, reference count, SHA-1
}

// SHA1 is the hash of the blob's uncompressed data.
func (b Blob) SHA1() []byte { return b.rest[6:26] }

// File is a whole WIM file in memory.
type File struct {
	Data      []byte
	Flags     uint32
	ChunkSize int
	Blobs     []Blob
}

// Read reads the WIM at path.
func Read(tb testing.TB, path string) *File {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if len(data) < HeaderSize || !bytes.Equal(data[:8], []byte("MSWIM\x00\x00\x00")) {
		tb.Fatalf("%s: not a WIM", path)
	}
	w := &File{
		Data:      data,
		Flags:     binary.LittleEndian.Uint32(data[offFlags:]),
		ChunkSize: int(binary.LittleEndian.Uint32(data[offChunkSize:])),
	}
	bt := ParseResHdr(data[offBlobTable:])
	if bt.Compressed() || bt.Offset+bt.Size > int64(len(data)) {
		tb.Fatalf("%s: unexpected blob table resource %+v", path, bt)
	}
	table := data[bt.Offset : bt.Offset+bt.Size]
	for len(table) >= blobEntrySize {
		b := Blob{Res: ParseResHdr(table)}
		copy(b.rest[:], table[24:blobEntrySize])
		w.Blobs = append(w.Blobs, b)
		table = table[blobEntrySize:]
	}
	return w
}

// Chunk is one stored chunk of a resource.
type Chunk struct {
	Stored []byte
	Size   int // uncompressed
}

// Raw reports whether the chunk was stored uncompressed.
func (c Chunk) Raw() bool { return len(c.Stored) == c.Size }

// Chunks splits a non-solid resource into its chunks (an uncompressed
// resource is one raw chunk).
func (w *File) Chunks(tb testing.TB, res ResHdr) []Chunk {
	tb.Helper()
	if res.Flags&ResSolid != 0 {
		tb.Fatalf("solid resources are not handled by this test reader")
	}
	data := w.Data[res.Offset : res.Offset+res.Size]
	if !res.Compressed() {
		return []Chunk{{Stored: data, Size: len(data)}}
	}
	n := int((res.Orig + int64(w.ChunkSize) - 1) / int64(w.ChunkSize))
	entry := 4
	if res.Orig > 1<<32-1 {
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
	out := make([]Chunk, n)
	for i := range out {
		size := w.ChunkSize
		if i == n-1 {
			size = int(res.Orig) - i*w.ChunkSize
		}
		out[i] = Chunk{Stored: body[offsets[i]:offsets[i+1]], Size: size}
	}
	return out
}

// IsSolidResource reports whether a blob table entry describes a solid
// resource (rather than a blob).
func (h ResHdr) IsSolidResource() bool {
	return h.Flags&ResSolid != 0 && h.Orig == SolidResourceSize
}

// SolidChunks splits a solid resource (16-byte header: uncompressed size,
// chunk size, compression type; a table of compressed chunk sizes; the
// chunks) into its chunks.
func (w *File) SolidChunks(tb testing.TB, res ResHdr) (compression uint32, chunkSize int, chunks []Chunk) {
	tb.Helper()
	data := w.Data[res.Offset : res.Offset+res.Size]
	usize := int(binary.LittleEndian.Uint64(data))
	chunkSize = int(binary.LittleEndian.Uint32(data[8:]))
	compression = binary.LittleEndian.Uint32(data[12:])
	n := (usize + chunkSize - 1) / chunkSize
	body := data[16+4*n:]
	for i := range n {
		stored := int(binary.LittleEndian.Uint32(data[16+4*i:]))
		size := min(chunkSize, usize-i*chunkSize)
		chunks = append(chunks, Chunk{Stored: body[:stored], Size: size})
		body = body[stored:]
	}
	if len(body) != 0 {
		tb.Fatalf("solid resource at %d: %d bytes after the last chunk", res.Offset, len(body))
	}
	return compression, chunkSize, chunks
}

// CompressedChunks returns the chunks of every compressed resource of the
// WIM, solid or not, and the uncompressed bytes of them all (raw chunks
// counted); chunks stored raw are left out.
func (w *File) CompressedChunks(tb testing.TB) (chunks []Chunk, total int) {
	tb.Helper()
	for _, blob := range w.Blobs {
		var cs []Chunk
		switch {
		case blob.Res.IsSolidResource():
			_, _, cs = w.SolidChunks(tb, blob.Res)
		case blob.Res.Flags&(ResSolid|0x02) == 0 && blob.Res.Compressed():
			cs = w.Chunks(tb, blob.Res)
		}
		for _, c := range cs {
			total += c.Size
			if !c.Raw() {
				chunks = append(chunks, c)
			}
		}
	}
	return chunks, total
}

// Rewrite returns a copy of the WIM in which every chunk of every
// compressed resource is replaced by what restore returns for it (the
// chunk's new stored form: its uncompressed bytes to store it raw). Tables
// and offsets are rebuilt; the integrity table is dropped.
func (w *File) Rewrite(tb testing.TB, restore func(blob, chunk int, c Chunk) []byte) []byte {
	tb.Helper()
	out := slices.Clone(w.Data[:HeaderSize])
	moved := map[int64]ResHdr{}
	blobs := slices.Clone(w.Blobs)
	for bi := range blobs {
		res := blobs[bi].Res
		nr := res
		nr.Offset = int64(len(out))
		if !res.Compressed() {
			out = append(out, w.Data[res.Offset:res.Offset+res.Size]...)
		} else {
			var table, body []byte
			for ci, c := range w.Chunks(tb, res) {
				if ci > 0 {
					table = binary.LittleEndian.AppendUint32(table, uint32(len(body)))
				}
				body = append(body, restore(bi, ci, c)...)
			}
			nr.Size = int64(len(table) + len(body))
			out = append(out, table...)
			out = append(out, body...)
		}
		moved[res.Offset] = nr
		blobs[bi].Res = nr
	}
	tableOff := len(out)
	for _, b := range blobs {
		var e [blobEntrySize]byte
		b.Res.Put(e[:])
		copy(e[24:], b.rest[:])
		out = append(out, e[:]...)
	}
	bt := ParseResHdr(w.Data[offBlobTable:])
	bt.Offset, bt.Size, bt.Orig = int64(tableOff), int64(len(out)-tableOff), int64(len(out)-tableOff)
	bt.Put(out[offBlobTable:])
	xml := ParseResHdr(w.Data[offXML:])
	xmlOff := len(out)
	out = append(out, w.Data[xml.Offset:xml.Offset+xml.Size]...)
	xml.Offset = int64(xmlOff)
	xml.Put(out[offXML:])
	if boot := ParseResHdr(w.Data[offBootMetadata:]); boot.Offset != 0 {
		moved[boot.Offset].Put(out[offBootMetadata:])
	}
	clear(out[offIntegrity : offIntegrity+24])
	return out
}

// Capture runs wimlib-imagex (at imagex) capture of dir with extra
// arguments and returns the new WIM's path.
func Capture(tb testing.TB, imagex, dir string, args ...string) string {
	tb.Helper()
	out := filepath.Join(tb.TempDir(), "test.wim")
	all := append([]string{"capture", dir, out}, args...)
	if msg, err := exec.Command(imagex, all...).CombinedOutput(); err != nil {
		tb.Fatalf("wimlib-imagex %v: %v\n%s", all, err, msg)
	}
	return out
}
