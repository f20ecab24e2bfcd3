package ntfs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/disktest"
	"github.com/reseal/reseal/wim"
)

// memStream is a StreamReader over bytes.
type memStream []byte

func (m memStream) Size() int64 { return int64(len(m)) }
func (m memStream) ReadAt(p []byte, off int64) (int, error) {
	return bytes.NewReader(m).ReadAt(p, off)
}

// realData is content worth compressing: the start of this test binary (x86
// code, whose calls exercise LZX's E8 translation) and Go source text.
func realData(t testing.TB, n int) []byte {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	src, _ := os.ReadFile("wof.go")
	b = append(b[:min(len(b), n/2)], bytes.Repeat(src, n/len(src)+1)...)
	return b[:n]
}

var algs = []uint32{WOFXpress4K, WOFLZX, WOFXpress8K, WOFXpress16K}

func readAll(t testing.TB, r StreamReader, piece int) []byte {
	t.Helper()
	out := make([]byte, 0, r.Size())
	buf := make([]byte, piece)
	for off := int64(0); off < r.Size(); {
		n, err := r.ReadAt(buf, off)
		if err != nil && err != io.EOF {
			t.Fatalf("ReadAt %d: %v", off, err)
		}
		if n == 0 {
			t.Fatalf("ReadAt %d read nothing", off)
		}
		out = append(out, buf[:n]...)
		off += int64(n)
	}
	return out
}

// TestWOFReaderRoundTrip: content laid out as WofCompressedData by the
// project's XPRESS and LZX encoders reads back whole, for every algorithm,
// sizes around the chunk boundaries, compressible and incompressible
// (stored) chunks, in odd-sized and random reads.
func TestWOFReaderRoundTrip(t *testing.T) {
	real := realData(t, 700<<10)
	random := make([]byte, 200<<10)
	rand.New(rand.NewSource(1)).Read(random)
	for _, alg := range algs {
		cs := wofChunkSize(alg)
		for _, n := range []int{1, 300, cs - 1, cs, cs + 1, 5*cs + 7, 64<<10 + 1, len(real)} {
			for kind, src := range map[string][]byte{"real": real, "random": random, "zeros": make([]byte, len(real))} {
				data := src[:min(n, len(src))]
				stream, err := disktest.WOFCompress(data, alg)
				if err != nil {
					t.Fatal(err)
				}
				r, err := newWOFReader(memStream(stream), int64(len(data)), alg, 64, nil)
				if err != nil {
					t.Fatalf("alg %d, %s %d: %v", alg, kind, len(data), err)
				}
				if got := readAll(t, r, 777); !bytes.Equal(got, data) {
					t.Fatalf("alg %d, %s %d bytes: content differs", alg, kind, len(data))
				}
				rng := rand.New(rand.NewSource(int64(n)))
				for i := 0; i < 20; i++ {
					off := rng.Int63n(int64(len(data)))
					buf := make([]byte, rng.Intn(3*cs)+1)
					k, err := r.ReadAt(buf, off)
					if err != nil && err != io.EOF || !bytes.Equal(buf[:k], data[off:off+int64(k)]) || (err == nil) != (off+int64(len(buf)) <= int64(len(data))) {
						t.Fatalf("alg %d, %s %d: ReadAt(%d bytes, %d) = %d, %v", alg, kind, len(data), len(buf), off, k, err)
					}
				}
			}
		}
	}
}

// TestWOFLargeTable: a file of 4 GiB or more has 8-byte table entries. The
// stream is built by hand (every chunk the same compressed zeros) so that
// no 4 GiB buffer is needed; reads across the 4 GiB mark and at the end.
func TestWOFLargeTable(t *testing.T) {
	const size = 4<<30 + 12345
	cs := int64(wofChunkSize(WOFLZX))
	zero, err := disktest.WOFCompress(make([]byte, cs), WOFLZX)
	if err != nil {
		t.Fatal(err)
	}
	tail, err := disktest.WOFCompress(make([]byte, size%cs), WOFLZX)
	if err != nil {
		t.Fatal(err)
	}
	chunks := (size + cs - 1) / cs
	stream := make([]byte, 0, (chunks-1)*8+chunks*int64(len(zero)))
	for i := int64(1); i < chunks; i++ {
		stream = binary.LittleEndian.AppendUint64(stream, uint64(i*int64(len(zero))))
	}
	for i := int64(1); i < chunks; i++ {
		stream = append(stream, zero...)
	}
	stream = append(stream, tail...)
	r, err := newWOFReader(memStream(stream), size, WOFLZX, 64, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range []int64{0, 4<<30 - 100, size - 5000} {
		buf := bytes.Repeat([]byte{1}, 4096)
		n, err := r.ReadAt(buf, off)
		if (err != nil && err != io.EOF) || n != min(4096, int(size-off)) || !bytes.Equal(buf[:n], make([]byte, n)) {
			t.Errorf("ReadAt(%d) = %d, %v", off, n, err)
		}
	}
	// The same stream read with 4-byte entries is corrupt, not garbage.
	if r4, err := newWOFReader(memStream(stream), 4<<30-1, WOFLZX, 64, nil); err == nil {
		if _, err := r4.ReadAt(make([]byte, 100), 0); err == nil {
			t.Error("a table of 8-byte entries read as 4-byte entries gave no error")
		}
	}
}

// TestWOFHostile: broken tables and chunks give a CorruptError naming the
// record and the chunk, never a panic or a big allocation.
func TestWOFHostile(t *testing.T) {
	data := realData(t, 10*4096+100)
	good, err := disktest.WOFCompress(data, WOFXpress4K)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	patch := func(f func(b []byte)) memStream {
		b := append([]byte(nil), good...)
		f(b)
		return b
	}
	cases := map[string]struct {
		s    memStream
		size int64
		want string
	}{
		"non-monotonic": {patch(func(b []byte) { le.PutUint32(b[8:], le.Uint32(b[4:])-1) }), int64(len(data)), "chunk table is corrupt"},
		"past the end":  {patch(func(b []byte) { le.PutUint32(b[8:], 1<<30) }), int64(len(data)), "past the end"},
		"chunk larger":  {patch(func(b []byte) { le.PutUint32(b[0:], 4097) }), int64(len(data)), "chunk table is corrupt"},
		"garbage chunk": {patch(func(b []byte) { clear(b[44+10 : 44+300]) }), int64(len(data)), "chunk 0"},
		"huge size":     {good, 1 << 60, "larger than the"},
		"short":         {good[:30], int64(len(data)), "larger than the"},
	}
	for name, c := range cases {
		r, err := newWOFReader(c.s, c.size, WOFXpress4K, 77, nil)
		if err == nil {
			_, err = r.ReadAt(make([]byte, len(data)), 0)
		}
		var ce *CorruptError
		if !errors.As(err, &ce) || ce.Record != 77 || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want a CorruptError of record 77 saying %q", name, err, c.want)
		}
	}
	for _, rp := range []struct {
		data []byte
		want string
	}{
		{[]byte{1, 0, 0, 0}, "at least 16"},
		{wofReparse(2, 2, 1, 0), "version 2"},
		{wofReparse(1, 3, 1, 0), "provider 3"},
		{wofReparse(1, 2, 2, 0), "FILE_PROVIDER_EXTERNAL_INFO version 2"},
		{wofReparse(1, 2, 1, 4), "algorithm 4"},
		{wofReparse(1, 1, 1, 0), "WIMBoot"},
	} {
		w := parseWOF(rp.data)
		if w.err == nil || !strings.Contains(w.err.Error(), rp.want) {
			t.Errorf("parseWOF(% x): %v, want %q", rp.data, w.err, rp.want)
		}
	}
	if w := parseWOF(wofReparse(1, 2, 1, WOFLZX)); w.err != nil || w.AlgorithmName() != "LZX" {
		t.Errorf("a valid LZX reparse point: %v %s", w.err, w.AlgorithmName())
	}
}

// wofReparse is a WOF reparse point, header included.
func wofReparse(version, provider, fileVersion, alg uint32) []byte {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, TagWOF)
	b = le.AppendUint16(b, 16)
	b = le.AppendUint16(b, 0)
	for _, v := range []uint32{version, provider, fileVersion, alg} {
		b = le.AppendUint32(b, v)
	}
	return b
}

// wofTestTree is disktest.WOFTree's WOF files plus a WIMBoot file and one
// whose chunk table is broken.
func wofTestTree(t testing.TB) (root *wim.SourceFile, want map[string][]byte) {
	const ft = 133500000000000000
	real := realData(t, 300<<10)
	root, want = disktest.WOFTree(t, real, false)
	sys := root.Children[0].Children[0]
	boot := disktest.WOFSource(t, "wimboot.dll", real[:5000], WOFXpress4K, ft)
	boot.ReparseData = append(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 1), 1), make([]byte, 40)...)
	boot.Named = nil
	sys.Children = append(sys.Children, boot)
	bad := disktest.WOFSource(t, "broken.dll", real[:20000], WOFXpress4K, ft)
	s, _ := disktest.WOFCompress(real[:20000], WOFXpress4K)
	binary.LittleEndian.PutUint32(s[4:], 3)
	bad.Named[0].Data = bytes.NewReader(s)
	sys.Children = append(sys.Children, bad)
	return root, want
}

// TestWOFVolume: WOF files that wimlib-imagex applied onto an mkntfs
// volume (NTFS-3G writes the reparse point, the sparse unnamed stream and
// WofCompressedData as Windows does) read as ordinary files with their
// content; a WIMBoot file and a broken table give clear errors.
func TestWOFVolume(t *testing.T) {
	dir := t.TempDir()
	root, want := wofTestTree(t)
	vol := disktest.ApplyVolume(t, dir, "wof", root, 32<<20)
	f, err := os.Open(vol)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	v, err := Open(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	tree, err := v.ReadTree(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for p, data := range want {
		file, err := tree.Lookup(p)
		if err != nil {
			t.Fatal(err)
		}
		if file.WOF == nil || file.Reparse != nil || file.ReparseTag() != 0 || file.Attributes != 0x20 {
			t.Errorf("%s: WOF %v, reparse tag %#x, attributes %#x; want an ordinary archive file", p, file.WOF, file.ReparseTag(), file.Attributes)
		}
		for _, s := range file.Streams {
			if s.Name == WOFStreamName || (s.Name == "" && (s.Sparse || s.Size != int64(len(data)))) {
				t.Errorf("%s: stream %+v", p, s)
			}
		}
		r, err := file.OpenStream("")
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if got := readAll(t, r, 64<<10); !bytes.Equal(got, data) {
			t.Errorf("%s: content differs from the file compressed", p)
		}
		// The stored stream stays readable by name.
		if raw, err := file.OpenStream(WOFStreamName); err != nil || raw.Size() == 0 {
			t.Errorf("%s: %s: %v", p, WOFStreamName, err)
		}
		if b, err := fs.ReadFile(tree.FS(), p); err != nil || !bytes.Equal(b, data) {
			t.Errorf("%s through FS: %v", p, err)
		}
	}
	ads, _ := tree.Lookup("Windows/System32/with-ads.txt")
	if len(ads.Streams) != 2 || ads.Streams[1].Name != "Zone.Identifier" {
		t.Errorf("with-ads.txt streams %+v, want the unnamed one and Zone.Identifier", ads.Streams)
	}
	boot, _ := tree.Lookup("Windows/System32/wimboot.dll")
	if _, err := boot.OpenStream(""); !errors.Is(err, ErrWIMBacked) {
		t.Errorf("WIMBoot file: %v, want ErrWIMBacked", err)
	}
	bad, _ := tree.Lookup("Windows/System32/broken.dll")
	if r, err := bad.OpenStream(""); err == nil {
		if _, err = r.ReadAt(make([]byte, 20000), 0); err == nil || !strings.Contains(err.Error(), "chunk table is corrupt") {
			t.Errorf("broken table: %v", err)
		}
	}
}

// TestWOFWindowsStream decodes a WofCompressedData stream that Windows
// itself wrote (compact /exe:lzx of vcpkg.exe, kept as test data by ANSSI's
// DFIR-ORC, tests/OrcLibTest/binaries/vcpkg.exe.WofCompressedData, 372,438
// bytes, sha256 137baa9c...). It is not in the corpus, so the test runs only
// when RESEAL_WOF_SAMPLE names a copy. The stream carries no size: only
// 921,600 bytes decodes (the last chunk's LZX blocks must end exactly), and
// that is exactly where the PE's last section ends.
func TestWOFWindowsStream(t *testing.T) {
	p := os.Getenv("RESEAL_WOF_SAMPLE")
	if p == "" {
		t.Skip("RESEAL_WOF_SAMPLE not set (see docs/disk.md)")
	}
	s, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	const size = 921600
	r, err := newWOFReader(memStream(s), size, WOFLZX, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := readAll(t, r, 100000)
	if sum := sha256.Sum256(out); hex.EncodeToString(sum[:]) != "4f19efe116c10dac9ef64cf2648b0a489e74e6fffc8f8aaa244777a62496e864" {
		t.Errorf("decoded sha256 %x", sum)
	}
	le := binary.LittleEndian
	pe := int(le.Uint32(out[0x3c:]))
	if string(out[:2]) != "MZ" || string(out[pe:pe+4]) != "PE\x00\x00" {
		t.Fatal("not a PE file")
	}
	sections, optSize := int(le.Uint16(out[pe+6:])), int(le.Uint16(out[pe+20:]))
	end := 0
	for i := 0; i < sections; i++ {
		h := out[pe+24+optSize+40*i:]
		end = max(end, int(le.Uint32(h[20:])+le.Uint32(h[16:])))
	}
	if end != size {
		t.Errorf("the PE's sections end at %d, the content at %d", end, size)
	}
	for _, other := range []int64{size - 1, size + 1, size - 4096} {
		if r, err := newWOFReader(memStream(s), other, WOFLZX, 1, nil); err == nil {
			if _, err := r.ReadAt(make([]byte, 8), other-8); err == nil {
				t.Errorf("size %d decodes too", other)
			}
		}
	}
}

// TestWOFWindowsXpressStreams decodes WofCompressedData streams of
// compact /exe:xpress4k, xpress8k, xpress16k and lzx that Fox-IT's
// dissect.ntfs keeps as test data (tests/data/wof/test{4k,8k,16k,lzx}.txt:
// WofCompressedData.gz, gunzipped into the directory RESEAL_WOF_DISSECT
// names; not in the corpus, so the test runs only then). The sizes are
// those its tests give (24,408, 32,832 and 17,004 bytes); the LZX file's
// size is the one at which it decodes (32,544). Each file is the text
// "KUSJESVANSRT" repeated.
func TestWOFWindowsXpressStreams(t *testing.T) {
	dir := os.Getenv("RESEAL_WOF_DISSECT")
	if dir == "" {
		t.Skip("RESEAL_WOF_DISSECT not set (see docs/disk.md)")
	}
	for _, c := range []struct {
		name string
		alg  uint32
		size int
	}{{"test4k", WOFXpress4K, 24408}, {"test8k", WOFXpress8K, 32832}, {"test16k", WOFXpress16K, 17004}, {"testlzx", WOFLZX, 32544}} {
		s, err := os.ReadFile(filepath.Join(dir, c.name+".txt:WofCompressedData"))
		if err != nil {
			t.Fatal(err)
		}
		r, err := newWOFReader(memStream(s), int64(c.size), c.alg, 1, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want := bytes.Repeat([]byte("KUSJESVANSRT"), c.size/12+1)[:c.size]
		if got := readAll(t, r, 3000); !bytes.Equal(got, want) {
			t.Errorf("%s: content is not the text repeated", c.name)
		}
	}
}
