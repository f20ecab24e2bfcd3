package ntfs

import (
	"container/list"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/reseal/reseal/wim/lzx"
	"github.com/reseal/reseal/wim/xpress"
)

// Files the Windows Overlay Filter (wof.sys) backs — CompactOS and
// `compact /exe` ("system compression"), and WIMBoot — are stored by NTFS
// as a reparse point with tag IO_REPARSE_TAG_WOF and an unnamed data stream
// that is sparse with no data but has the file's real size. For the file
// provider the content is in a named stream, WofCompressedData; for the WIM
// provider it is in a WIM file elsewhere. Windows, with the filter loaded,
// shows such a file as an ordinary file holding its content, and that is
// how this package shows it: no reparse point, no WofCompressedData stream,
// the unnamed stream decoded.
//
// The reparse data (after the 8-byte reparse header) is WOF_EXTERNAL_INFO
// (Version, Provider: two ULONGs) followed by the provider's own structure;
// for the file provider FILE_PROVIDER_EXTERNAL_INFO_V1 (Version, Algorithm),
// as Microsoft documents them in wofapi.h / ntifs.h. WofCompressedData is a
// table of chunk offsets — one entry for every chunk but the first, 4 bytes
// each (8 bytes when the file is 4 GiB or more), each the end of a chunk
// relative to the end of the table — followed by the chunks. Each chunk
// holds chunkSize bytes of the file (the last one the rest) compressed on
// its own, or stored as is when its stored size equals its size. XPRESS is
// the Huffman variant ([MS-XCA] 2.1-2.2, one block per chunk, as in a WIM);
// LZX is the WIM variant (32 KiB window, E8 translation over each chunk),
// both decoded by the project's WIM codecs.

// TagWOF is IO_REPARSE_TAG_WOF.
const TagWOF = 0x80000017

// WOF providers (WOF_EXTERNAL_INFO.Provider).
const (
	WOFProviderWIM  = 1 // WIMBoot: content in a WIM file outside the volume
	WOFProviderFile = 2 // CompactOS: content in the WofCompressedData stream
)

// WOF file provider algorithms (FILE_PROVIDER_EXTERNAL_INFO_V1.Algorithm).
const (
	WOFXpress4K  = 0
	WOFLZX       = 1
	WOFXpress8K  = 2
	WOFXpress16K = 3
)

// WOFStreamName is the named stream holding a file-provider file's chunks.
const WOFStreamName = "WofCompressedData"

// ErrWIMBacked is returned when reading a WIMBoot file: its content lives in
// a WIM file that the volume names but does not hold.
var ErrWIMBacked = errors.New("WIM-backed file (WIMBoot, WOF provider 1): its content is in a WIM file outside this volume, which reseal does not read")

// WOF describes a file backed by the Windows Overlay Filter.
type WOF struct {
	Provider  uint32
	Algorithm uint32 // for WOFProviderFile
	// Reparse is the reparse point as stored (tag, length, data).
	Reparse []byte
	// err says why the content cannot be read (nil when it can).
	err error
}

// AlgorithmName names a file provider algorithm as compact /exe does.
func (w *WOF) AlgorithmName() string {
	switch w.Algorithm {
	case WOFXpress4K:
		return "XPRESS4K"
	case WOFLZX:
		return "LZX"
	case WOFXpress8K:
		return "XPRESS8K"
	case WOFXpress16K:
		return "XPRESS16K"
	}
	return fmt.Sprintf("algorithm %d", w.Algorithm)
}

// chunkSize is the uncompressed size of the algorithm's chunks.
func wofChunkSize(alg uint32) int {
	switch alg {
	case WOFXpress4K:
		return 4 << 10
	case WOFLZX:
		return 32 << 10
	case WOFXpress8K:
		return 8 << 10
	case WOFXpress16K:
		return 16 << 10
	}
	return 0
}

// parseWOF reads a WOF reparse point (header included). The result always
// describes the file; its err is set when the content cannot be read.
func parseWOF(rp []byte) *WOF {
	le := binary.LittleEndian
	w := &WOF{Reparse: rp}
	if len(rp) < 16 {
		w.err = fmt.Errorf("WOF reparse point of %d bytes (at least 16)", len(rp))
		return w
	}
	data := rp[8:]
	if n := int(le.Uint16(rp[4:])); n != len(data) {
		w.err = fmt.Errorf("WOF reparse point claims %d bytes of data but holds %d", n, len(data))
		return w
	}
	version, provider := le.Uint32(data), le.Uint32(data[4:])
	w.Provider = provider
	if version != 1 {
		w.err = fmt.Errorf("WOF_EXTERNAL_INFO version %d (only 1 is known)", version)
		return w
	}
	switch provider {
	case WOFProviderWIM:
		w.err = ErrWIMBacked
	case WOFProviderFile:
		if len(data) < 16 {
			w.err = fmt.Errorf("WOF file provider data of %d bytes (16 expected)", len(data))
			return w
		}
		fv, alg := le.Uint32(data[8:]), le.Uint32(data[12:])
		w.Algorithm = alg
		if fv != 1 {
			w.err = fmt.Errorf("FILE_PROVIDER_EXTERNAL_INFO version %d (only 1 is known)", fv)
		} else if wofChunkSize(alg) == 0 {
			w.err = fmt.Errorf("WOF compression algorithm %d is not one of XPRESS4K, LZX, XPRESS8K, XPRESS16K", alg)
		}
	default:
		w.err = fmt.Errorf("WOF provider %d is not known (1 WIM, 2 file)", provider)
	}
	return w
}

// wofView presents a WOF-backed file as Windows shows it: an ordinary file
// (no reparse point, not sparse: the sparse unnamed stream is the filter's
// placeholder) whose unnamed stream is its content. Directories are left
// as stored: WOF backs only files.
func (f *File) wofView() {
	if f.Dir || f.ReparseTag() != TagWOF {
		return
	}
	w := parseWOF(f.Reparse)
	f.WOF = w
	f.Reparse = nil
	f.Attributes &^= AttrReparsePoint | AttrSparse
	out := f.Streams[:0]
	hasUnnamed := false
	for _, s := range f.Streams {
		if s.Name == WOFStreamName && w.Provider == WOFProviderFile {
			continue
		}
		if s.Name == "" {
			s.Sparse, s.Compressed = false, false
			hasUnnamed = true
		}
		out = append(out, s)
	}
	f.Streams = out
	if !hasUnnamed {
		// No unnamed stream: no size, so no content (an empty file).
		f.Streams = append([]Stream{{}}, f.Streams...)
	}
}

// openWOF opens the decoded content of a WOF-backed file.
func (f *File) openWOF(attrs []attr) (StreamReader, error) {
	w := f.WOF
	var size int64
	if ext := pick(attrs, attrData, ""); len(ext) > 0 {
		size = ext[0].dataSize
	}
	if size == 0 {
		return &wofReader{}, nil
	}
	if w.err != nil {
		return nil, &CorruptError{Record: f.Record, Msg: "WOF-compressed file: " + w.err.Error(), err: w.err}
	}
	ext := pick(attrs, attrData, WOFStreamName)
	if len(ext) == 0 {
		return nil, corrupt(f.Record, "WOF-compressed file (%s) has no %s stream", w.AlgorithmName(), WOFStreamName)
	}
	data, err := f.v.newStream(f.Record, ext)
	if err != nil {
		return nil, err
	}
	return newWOFReader(data, size, w.Algorithm, f.Record, f.v.wofCache)
}

// wofReader reads the content of a file-provider WOF file from its
// WofCompressedData stream. It holds no buffers of its own: decoded chunks
// go to the volume's bounded cache, so an open reader costs a few words.
type wofReader struct {
	data      StreamReader
	size      int64 // the file's content size
	alg       uint32
	chunk     int64 // chunk size
	chunks    int64
	entry     int64 // bytes per table entry
	tableSize int64
	rec       int64
	cache     *wofCache
}

// wofGroup is how much content is decoded at once: whole chunks of up to
// 64 KiB, so that XPRESS4K files are not read 4 KiB at a time.
const wofGroup = 64 << 10

func newWOFReader(data StreamReader, size int64, alg uint32, rec int64, cache *wofCache) (*wofReader, error) {
	cs := int64(wofChunkSize(alg))
	if cs == 0 {
		return nil, corrupt(rec, "WOF compression algorithm %d", alg)
	}
	if size < 0 {
		return nil, corrupt(rec, "WOF-compressed file of %d bytes", size)
	}
	r := &wofReader{data: data, size: size, alg: alg, chunk: cs, rec: rec, cache: cache, entry: 4}
	if size > 0xffffffff {
		r.entry = 8
	}
	r.chunks = (size + cs - 1) / cs
	// The table (chunks-1 entries) must fit the stream: this bounds the
	// chunk count a hostile size can claim by the stream's real length.
	if r.chunks > 0 && r.chunks-1 > data.Size()/r.entry {
		return nil, corrupt(rec, "%s: a %d-byte file needs a chunk table of %d entries, larger than the %d-byte stream", WOFStreamName, size, r.chunks-1, data.Size())
	}
	r.tableSize = max(r.chunks-1, 0) * r.entry
	if r.chunks > 0 && data.Size()-r.tableSize < r.chunks {
		return nil, corrupt(rec, "%s of %d bytes is too short for %d chunks", WOFStreamName, data.Size(), r.chunks)
	}
	if cache == nil {
		r.cache = newWOFCache(1 << 20)
	}
	return r, nil
}

// Size returns the content's size.
func (r *wofReader) Size() int64 { return r.size }

func (r *wofReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("ntfs: negative offset")
	}
	if off >= r.size {
		return 0, io.EOF
	}
	var eof error
	if int64(len(p)) > r.size-off {
		p = p[:r.size-off]
		eof = io.EOF
	}
	n := len(p)
	perGroup := max(wofGroup/r.chunk, 1)
	groupBytes := perGroup * r.chunk
	for len(p) > 0 {
		g := off / groupBytes
		buf, err := r.group(g, perGroup)
		if err != nil {
			return 0, err
		}
		k := copy(p, buf[off-g*groupBytes:])
		p = p[k:]
		off += int64(k)
	}
	return n, eof
}

// group returns the decoded content of chunks g*per .. g*per+per-1.
func (r *wofReader) group(g, per int64) ([]byte, error) {
	key := wofKey{r.rec, g}
	if b, ok := r.cache.get(key); ok {
		return b, nil
	}
	first := g * per
	last := min(first+per, r.chunks) - 1 // inclusive
	// Chunk i spans [start(i), start(i+1)) after the table; start(0) = 0
	// and the table's entry i-1 is start(i). The entries needed are those
	// of first-1 .. last (the last chunk ends at the end of the stream).
	bounds := make([]int64, 0, last-first+2)
	lo := max(first-1, 0)
	hi := min(last, r.chunks-2) // last entry index needed
	if first == 0 {
		bounds = append(bounds, 0)
	}
	if hi >= lo {
		tab := make([]byte, (hi-lo+1)*r.entry)
		if _, err := r.data.ReadAt(tab, lo*r.entry); err != nil && err != io.EOF {
			return nil, fmt.Errorf("ntfs: MFT record %d: reading the %s chunk table: %w", r.rec, WOFStreamName, err)
		}
		for i := int64(0); i < hi-lo+1; i++ {
			var v uint64
			if r.entry == 4 {
				v = uint64(binary.LittleEndian.Uint32(tab[i*4:]))
			} else {
				v = binary.LittleEndian.Uint64(tab[i*8:])
			}
			if v > uint64(r.data.Size()-r.tableSize) {
				return nil, corrupt(r.rec, "%s: chunk %d starts at %d, past the end of the stream (%d bytes of chunks)", WOFStreamName, lo+i+1, v, r.data.Size()-r.tableSize)
			}
			bounds = append(bounds, int64(v))
		}
	}
	if last == r.chunks-1 {
		bounds = append(bounds, r.data.Size()-r.tableSize)
	}
	if int64(len(bounds)) != last-first+2 {
		return nil, corrupt(r.rec, "%s: chunk table bounds (internal)", WOFStreamName)
	}
	for i := 1; i < len(bounds); i++ {
		clen := min(r.chunk, r.size-(first+int64(i-1))*r.chunk)
		if c := bounds[i] - bounds[i-1]; c <= 0 || c > clen {
			return nil, corrupt(r.rec, "%s: chunk %d of %d bytes holds %d stored bytes (offsets %d..%d): the chunk table is corrupt", WOFStreamName, first+int64(i-1), clen, c, bounds[i-1], bounds[i])
		}
	}
	// Each chunk is at most its size stored, so the compressed span is at
	// most the group's size: a bounded read.
	comp := make([]byte, bounds[len(bounds)-1]-bounds[0])
	if k, err := r.data.ReadAt(comp, r.tableSize+bounds[0]); k < len(comp) {
		return nil, fmt.Errorf("ntfs: MFT record %d: reading %s chunks %d..%d: %w", r.rec, WOFStreamName, first, last, orEOF(err))
	}
	outLen := min(r.size-first*r.chunk, (last-first+1)*r.chunk)
	out := make([]byte, outLen)
	for i := first; i <= last; i++ {
		src := comp[bounds[i-first]-bounds[0] : bounds[i-first+1]-bounds[0]]
		dst := out[(i-first)*r.chunk : min((i-first+1)*r.chunk, outLen)]
		if err := r.decode(dst, src); err != nil {
			return nil, &CorruptError{Record: r.rec, Msg: fmt.Sprintf("%s chunk %d (%s): %v", WOFStreamName, i, (&WOF{Algorithm: r.alg}).AlgorithmName(), err), err: err}
		}
	}
	r.cache.put(key, out)
	return out, nil
}

var (
	xpressPool = sync.Pool{New: func() any { return xpress.NewDecompressor() }}
	lzxPool    = sync.Pool{New: func() any { return lzx.NewDecompressor() }}
)

func (r *wofReader) decode(dst, src []byte) error {
	if len(src) == len(dst) {
		copy(dst, src) // stored: compression did not help
		return nil
	}
	if r.alg == WOFLZX {
		d := lzxPool.Get().(*lzx.Decompressor)
		defer lzxPool.Put(d)
		return d.DecompressChunk(dst, src, int(r.chunk))
	}
	d := xpressPool.Get().(*xpress.Decompressor)
	defer xpressPool.Put(d)
	return d.Decompress(dst, src)
}

// wofCache is a bounded LRU of decoded chunk groups, shared by every WOF
// file of a volume.
type wofCache struct {
	mu    sync.Mutex
	max   int64
	bytes int64
	lru   *list.List
	items map[wofKey]*list.Element
}

type wofKey struct{ rec, group int64 }

type wofEntry struct {
	key wofKey
	b   []byte
}

func newWOFCache(max int64) *wofCache {
	return &wofCache{max: max, lru: list.New(), items: map[wofKey]*list.Element{}}
}

func (c *wofCache) get(k wofKey) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*wofEntry).b, true
	}
	return nil, false
}

func (c *wofCache) put(k wofKey, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[k]; ok {
		return
	}
	c.items[k] = c.lru.PushFront(&wofEntry{k, b})
	c.bytes += int64(len(b))
	for c.bytes > c.max && c.lru.Len() > 1 {
		e := c.lru.Back()
		c.lru.Remove(e)
		ent := e.Value.(*wofEntry)
		delete(c.items, ent.key)
		c.bytes -= int64(len(ent.b))
	}
}
