package disktest

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
	"github.com/reseal/reseal/wim"
	"github.com/reseal/reseal/wim/lzx"
	"github.com/reseal/reseal/wim/xpress"
)

// WOF algorithms (FILE_PROVIDER_EXTERNAL_INFO_V1.Algorithm) and the chunk
// size of each.
const (
	WOFXpress4K  = 0
	WOFLZX       = 1
	WOFXpress8K  = 2
	WOFXpress16K = 3
)

// TagWOF is IO_REPARSE_TAG_WOF.
const TagWOF = 0x80000017

func wofChunk(alg uint32) int {
	return map[uint32]int{WOFXpress4K: 4 << 10, WOFLZX: 32 << 10, WOFXpress8K: 8 << 10, WOFXpress16K: 16 << 10}[alg]
}

// WOFReparse is the reparse data (after the 8-byte reparse header) of a
// file-provider WOF file: WOF_EXTERNAL_INFO {Version 1, Provider 2} then
// FILE_PROVIDER_EXTERNAL_INFO_V1 {Version 1, Algorithm}.
func WOFReparse(alg uint32) []byte {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, 1)
	b = le.AppendUint32(b, 2)
	b = le.AppendUint32(b, 1)
	return le.AppendUint32(b, alg)
}

// WOFCompress lays data out as the WOF file provider stores it in the
// WofCompressedData stream: a table with the end offset of every chunk but
// the last (4-byte entries, 8-byte for 4 GiB or more), relative to the end
// of the table, then the chunks, each compressed with the project's own
// encoders or stored as is when that does not make it smaller.
func WOFCompress(data []byte, alg uint32) ([]byte, error) {
	cs := wofChunk(alg)
	if cs == 0 {
		return nil, fmt.Errorf("WOF algorithm %d", alg)
	}
	var compress func(dst, src []byte) int
	if alg == WOFLZX {
		c, err := lzx.NewCompressor(cs)
		if err != nil {
			return nil, err
		}
		compress = c.Compress
	} else {
		c, err := xpress.NewCompressor(cs)
		if err != nil {
			return nil, err
		}
		compress = c.Compress
	}
	entry := 4
	if int64(len(data)) > 0xffffffff {
		entry = 8
	}
	chunks := (len(data) + cs - 1) / cs
	var table, body []byte
	buf := make([]byte, cs)
	for i := 0; i < chunks; i++ {
		src := data[i*cs : min((i+1)*cs, len(data))]
		// Room for one byte less than the chunk: a compressed chunk must be
		// smaller, as a stored one is told apart by its size alone.
		if n := compress(buf[:len(src)-1], src); n > 0 && n < len(src) {
			body = append(body, buf[:n]...)
		} else {
			body = append(body, src...)
		}
		if i < chunks-1 {
			if entry == 4 {
				table = binary.LittleEndian.AppendUint32(table, uint32(len(body)))
			} else {
				table = binary.LittleEndian.AppendUint64(table, uint64(len(body)))
			}
		}
	}
	return append(table, body...), nil
}

// WOFSource is a file as Windows stores it after compact /exe:ALG: the WOF
// reparse point, a WofCompressedData stream and an unnamed stream of the
// content's size holding only zeros (wimlib applies it sparse, as Windows
// leaves it). Attributes are archive, sparse and reparse point.
func WOFSource(t testing.TB, name string, data []byte, alg uint32, ft uint64) *wim.SourceFile {
	t.Helper()
	stream, err := WOFCompress(data, alg)
	if err != nil {
		t.Fatal(err)
	}
	return &wim.SourceFile{Name: name, Attributes: 0x20 | 0x200 | 0x400, CreationTime: ft, LastWriteTime: ft, LastAccessTime: ft,
		ReparseTag: TagWOF, ReparseData: WOFReparse(alg),
		Data:  &wim.SourceStream{Size: int64(len(data)), Data: zeros{}},
		Named: []wim.SourceStream{{Name: "WofCompressedData", Size: int64(len(stream)), Data: bytesReader(stream)}}}
}

type zeros struct{}

func (zeros) ReadAt(p []byte, off int64) (int, error) { clear(p); return len(p), nil }

type bytesReader []byte

func (b bytesReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, fmt.Errorf("read past the end")
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, fmt.Errorf("short read")
	}
	return n, nil
}

// ApplyVolume writes root as a WIM with wim.CaptureSource (dir/NAME.wim) and
// has wimlib-imagex apply it onto a new mkntfs volume of size bytes
// (dir/NAME.img), whose path it returns.
func ApplyVolume(t testing.TB, dir, name string, root *wim.SourceFile, size int64) string {
	t.Helper()
	wimlib := testenv.Peer(t, "wimlib-imagex")
	mkntfs := testenv.Peer(t, "mkntfs")
	w := filepath.Join(dir, name+".wim")
	if err := wim.CaptureSource(context.Background(), root, w, wim.CaptureOptions{Name: name, Compression: wim.CompressNone}); err != nil {
		t.Fatal(err)
	}
	vol := filepath.Join(dir, name+".img")
	f, err := os.Create(vol)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(size)
	f.Close()
	Run(t, mkntfs, "-F", "-Q", "-q", vol)
	Run(t, wimlib, "apply", w, "1", vol)
	return vol
}

// WOFTree is a small Windows-like tree of files that compact /exe leaves
// WOF-compressed: System32 holding one file per algorithm (parts of data)
// and one with a further named stream (Zone.Identifier). With plain, the
// same files are ordinary (attribute archive, content in the unnamed
// stream, same times): what Windows shows of the WOF tree. want maps each
// file's path to its content.
func WOFTree(t testing.TB, data []byte, plain bool) (root *wim.SourceFile, want map[string][]byte) {
	t.Helper()
	const ft = 133500000000000000
	dir := func(name string) *wim.SourceFile {
		return &wim.SourceFile{Name: name, Attributes: wim.AttrDirectory, CreationTime: ft, LastWriteTime: ft, LastAccessTime: ft}
	}
	file := func(name string, data []byte, alg uint32) *wim.SourceFile {
		if plain {
			return &wim.SourceFile{Name: name, Attributes: 0x20, CreationTime: ft, LastWriteTime: ft, LastAccessTime: ft,
				Data: &wim.SourceStream{Size: int64(len(data)), Data: bytesReader(data)}}
		}
		return WOFSource(t, name, data, alg, ft)
	}
	want = map[string][]byte{}
	root = dir("")
	sys := dir("System32")
	root.Children = append(root.Children, dir("Windows"))
	root.Children[0].Children = append(root.Children[0].Children, sys)
	for i, alg := range []uint32{WOFXpress4K, WOFLZX, WOFXpress8K, WOFXpress16K} {
		name := []string{"xpress4k.exe", "lzx.exe", "xpress8k.dll", "xpress16k.dll"}[i]
		d := data[:len(data)-i*1000]
		sys.Children = append(sys.Children, file(name, d, alg))
		want["Windows/System32/"+name] = d
	}
	ads := file("with-ads.txt", data[:5000], WOFXpress4K)
	ads.Named = append(ads.Named, wim.SourceStream{Name: "Zone.Identifier", Size: 5, Data: bytesReader("zone!")})
	sys.Children = append(sys.Children, ads)
	want["Windows/System32/with-ads.txt"] = data[:5000]
	return root, want
}
