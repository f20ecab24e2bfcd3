package hive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/reseal/reseal/internal/atomicfile"
)

// OpenOptions adjust Open.
type OpenOptions struct {
	ReadOnly bool // Commit refused; logs still applied in memory
	NoLogs   bool // do not look for / apply .LOG1/.LOG2/.LOG beside the file
	// Clock gives the time stamped on keys as they are edited and on the
	// base block when the hive is written; nil means time.Now. A fixed
	// clock makes the written bytes depend on the edits alone.
	Clock func() time.Time
	// An editable hive (not ReadOnly) holds an exclusive lock on its file
	// from Open to Close; another editor waits up to LockWait (0: ten
	// seconds) and no longer than Context allows, then fails with ErrBusy.
	LockWait time.Duration
	Context  context.Context
}

var errNotRegular = errors.New("not a regular file")

// Recovery tells what log recovery did when the hive was opened.
type Recovery struct {
	Dirty      bool     // the primary file was dirty
	Applied    bool     // log entries were applied
	Format     string   // "new" (HvLE), "old" (DIRT), "" none
	DirtyPages int      // pages written from the logs
	Logs       []string // log files used
}

// Problem is one defect found by Check.
type Problem struct {
	Offset  int64 // file offset of the cell or structure at fault (-1 if none)
	Message string
}

func (p Problem) String() string { return fmt.Sprintf("0x%x: %s", p.Offset, p.Message) }

// Hive is a registry hive held in memory.
type Hive struct {
	path     string
	readOnly bool
	closed   bool

	base []byte // the 4096-byte base block
	data []byte // the hive bins data (file offset 4096 onwards)
	bins []uint32
	// starts has one bit per 8-byte unit of data, set where a cell begins;
	// it lets every cell reference be checked to point at a real cell.
	starts []uint64
	free   freeLists

	recovery  Recovery
	maxLogSeq uint32 // highest sequence number seen in any log beside the file
	// openLogs are the logs read at Open with the highest sequence number
	// each holds: a commit that finds them unchanged need not read them
	// again.
	openLogs []openLog

	epoch     uint64            // bumped whenever a key is deleted
	deletedAt map[uint32]uint64 // nk offset -> epoch of its deletion
	index     map[uint32]*keyIndex
	now       func() time.Time

	// sharing is the result of the one check, before the first edit,
	// that no cell is reached twice (checkedSharing says it was made).
	sharing        error
	checkedSharing bool

	lock *fileLock // held from Open to Close by an editable hive
}

var errClosed = errors.New("hive: closed")

// ErrReadOnly is returned by Commit on a hive opened ReadOnly.
var ErrReadOnly = errors.New("hive: opened read-only")

// Open reads the hive file at path whole into memory and, when it is dirty,
// recovers it in memory from the transaction logs beside it (unless
// opts.NoLogs). It never writes; opts may be nil.
func Open(path string, opts *OpenOptions) (*Hive, error) {
	if opts == nil {
		opts = &OpenOptions{}
	}
	var lock *fileLock
	if !opts.ReadOnly {
		ctx, wait := opts.Context, opts.LockWait
		if ctx == nil {
			ctx = context.Background()
		}
		if wait <= 0 {
			wait = defaultLockWait
		}
		var err error
		if lock, err = lockFile(ctx, path, wait); err != nil {
			return nil, fmt.Errorf("open hive: %w", err)
		}
		// Temporaries beside the file from an editor that was interrupted
		// (every editor holds this lock while it writes one).
		atomicfile.CleanStale(path, staleTempAge)
	}
	raw, err := readRegular(path, growRoom)
	if err != nil {
		lock.release()
		return nil, fmt.Errorf("open hive: %w", err)
	}
	var logs []logFile
	if !opts.NoLogs {
		logs, err = findLogs(path)
		if err != nil {
			lock.release()
			return nil, fmt.Errorf("hive %s: %w", path, err)
		}
	}
	h, err := loadOwned(raw, logs)
	if err != nil {
		lock.release()
		return nil, fmt.Errorf("hive %s: %w", path, err)
	}
	h.lock = lock
	h.path = path
	h.readOnly = opts.ReadOnly
	if opts.Clock != nil {
		h.now = opts.Clock
	}
	return h, nil
}

// Load reads a hive from r (with no transaction logs), for hives that do not
// live in a file of their own. A dirty hive is taken as it is.
func Load(r io.Reader) (*Hive, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxHiveBins+baseBlockSize+1))
	if err != nil {
		return nil, fmt.Errorf("read hive: %w", err)
	}
	return loadOwned(raw, nil)
}

// load is loadOwned for a buffer the caller keeps: raw is copied once
// (with room for the hive to grow) and never changed.
func load(raw []byte, logs []logFile) (*Hive, error) {
	own := make([]byte, len(raw), len(raw)+growRoom(len(raw)))
	copy(own, raw)
	return loadOwned(own, logs)
}

// growRoom is the spare capacity given to a hive's buffer, so that the
// first bins an edit appends need no copy of the whole hive.
func growRoom(n int) int { return n/8 + binAlign }

// loadOwned parses a hive file held in raw, which it takes over: the hive
// bins data stays in raw (log recovery writes its pages there, and edits
// change it in place), so that an 11 MB hive is not copied again after
// it was read.
func loadOwned(raw []byte, logs []logFile) (*Hive, error) {
	if len(raw) < baseBlockSize {
		if len(raw) >= 4 && string(raw[:4]) != "regf" {
			return nil, notRegf(raw)
		}
		return nil, formatErr(0, "file is %d bytes, shorter than the %d-byte base block", len(raw), baseBlockSize)
	}
	h := &Hive{
		base:      append([]byte(nil), raw[:baseBlockSize]...),
		deletedAt: map[uint32]uint64{},
		index:     map[uint32]*keyIndex{},
		now:       time.Now,
	}
	bb := baseBlock{h.base}
	if !bb.signatureOK() {
		return nil, notRegf(raw)
	}
	checksumOK := bb.checksumOK()
	dirty := !checksumOK || bb.seq1() != bb.seq2()
	h.recovery.Dirty = dirty
	cacheEntries(logs)
	for _, l := range logs {
		s := l.maxSeq()
		h.maxLogSeq = max(h.maxLogSeq, s)
		if l.stat.path != "" {
			h.openLogs = append(h.openLogs, openLog{l.stat, s})
		}
	}
	data := raw[baseBlockSize:]
	if dirty && len(logs) > 0 {
		var err error
		data, err = h.recover(data, logs, checksumOK)
		if err != nil {
			return nil, err
		}
	} else if !checksumOK {
		return nil, formatErr(508, "base block checksum is 0x%08x, computed 0x%08x, and no transaction log can repair it",
			le.Uint32(h.base[508:]), xorChecksum(h.base))
	}
	bb = baseBlock{h.base}
	if err := checkBaseBlock(bb); err != nil {
		return nil, err
	}
	size := int(bb.binsSize())
	if size > len(data) {
		return nil, formatErr(40, "hive bins data size is %d bytes but only %d follow the base block (truncated file?)", size, len(data))
	}
	// Padding after the last bin is dropped (and overwritten as bins are
	// appended: the buffer is the hive's own).
	h.data = data[:size]
	if err := h.scanBins(); err != nil {
		return nil, err
	}
	root := bb.root()
	if _, err := h.nk(root); err != nil {
		return nil, fmt.Errorf("root key: %w", err)
	}
	return h, nil
}

func notRegf(raw []byte) error {
	switch {
	case len(raw) >= 4 && string(raw[:4]) == "CREG":
		return formatErr(0, "not a regf hive: signature \"CREG\" is the Windows 9x/Me registry format, which is not supported")
	case len(raw) >= 2 && string(raw[:2]) == "MZ":
		return formatErr(0, "not a regf hive: the file is a Windows executable (signature \"MZ\")")
	}
	n := min(len(raw), 4)
	return formatErr(0, "not a regf hive: signature %q, want \"regf\"", raw[:n])
}

func checkBaseBlock(bb baseBlock) error {
	if bb.major() != 1 || bb.minor() < 2 || bb.minor() > 6 {
		return formatErr(20, "unsupported hive version %d.%d (want 1.3 to 1.6)", bb.major(), bb.minor())
	}
	if bb.fileType() != fileTypePrimary {
		return formatErr(28, "file type is %d, not a primary hive file (a transaction log?)", bb.fileType())
	}
	if bb.fileFormat() != 1 {
		return formatErr(32, "file format is %d, want 1 (direct memory load)", bb.fileFormat())
	}
	size := bb.binsSize()
	if size == 0 || size%binAlign != 0 || size > maxHiveBins {
		return formatErr(40, "hive bins data size %d is not a positive multiple of 4096", size)
	}
	if r := bb.root(); r%cellAlign != 0 || r >= size {
		return formatErr(36, "root cell offset 0x%x is outside the hive bins data", r)
	}
	return nil
}

// scanBins checks every hive bin header and cell size and records the cell
// starts and the free cells.
func (h *Hive) scanBins() error {
	h.bins = h.bins[:0]
	h.starts = make([]uint64, (len(h.data)/cellAlign+63)/64)
	h.free = freeLists{}
	off := 0
	for off < len(h.data) {
		fo := int64(off + baseBlockSize)
		hdr := h.data[off:]
		if len(hdr) < binHeaderSize || string(hdr[:4]) != "hbin" {
			return formatErr(fo, "hive bin signature %q, want \"hbin\"", hdr[:min(4, len(hdr))])
		}
		if got := le.Uint32(hdr[4:]); int(got) != off {
			return formatErr(fo+4, "hive bin says it is at 0x%x, but it is at 0x%x", got, off)
		}
		size := int(le.Uint32(hdr[8:]))
		if size < binAlign || size%binAlign != 0 || size > len(h.data)-off {
			return formatErr(fo+8, "hive bin size %d is not a multiple of 4096 within the hive bins data (%d bytes left)", size, len(h.data)-off)
		}
		h.bins = append(h.bins, uint32(off))
		end := off + size
		c := off + binHeaderSize
		for c < end {
			if c+4 > end {
				return formatErr(int64(c+baseBlockSize), "cell header crosses the end of its hive bin")
			}
			raw := int32(le.Uint32(h.data[c:]))
			sz := int(raw)
			if raw < 0 {
				sz = -int(raw)
			}
			if sz < cellAlign || sz%cellAlign != 0 || sz > end-c {
				return formatErr(int64(c+baseBlockSize), "cell size %d is not a multiple of 8 within its hive bin (%d bytes left)", raw, end-c)
			}
			h.setStart(uint32(c))
			if raw > 0 {
				h.free.push(uint32(c), uint32(sz))
			}
			c += sz
		}
		off = end
	}
	return nil
}

func (h *Hive) setStart(off uint32) { h.starts[off/cellAlign/64] |= 1 << (off / cellAlign % 64) }
func (h *Hive) clearStart(off uint32) {
	h.starts[off/cellAlign/64] &^= 1 << (off / cellAlign % 64)
}
func (h *Hive) isStart(off uint32) bool {
	i := off / cellAlign / 64
	return int(i) < len(h.starts) && h.starts[i]&(1<<(off/cellAlign%64)) != 0
}

// binOf returns the start and end of the bin holding off.
func (h *Hive) binOf(off uint32) (start, end uint32) {
	lo, hi := 0, len(h.bins)
	for lo < hi {
		m := (lo + hi) / 2
		if h.bins[m] <= off {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return 0, 0
	}
	start = h.bins[lo-1]
	return start, start + le.Uint32(h.data[start+8:])
}

// cell returns the data of the allocated cell at off (without its size
// field). Every reference read from the hive goes through here.
func (h *Hive) cell(off uint32) ([]byte, error) {
	if off%cellAlign != 0 || int(off) >= len(h.data) || !h.isStart(off) {
		return nil, formatErr(int64(off)+baseBlockSize, "reference to 0x%x is not the start of a cell", off)
	}
	raw := int32(le.Uint32(h.data[off:]))
	if raw >= 0 {
		return nil, formatErr(int64(off)+baseBlockSize, "reference to a free cell (0x%x)", off)
	}
	return h.data[off+4 : off+uint32(-raw)], nil
}

func fileOff(off uint32) int64 { return int64(off) + baseBlockSize }

// Root returns the root key.
func (h *Hive) Root() *Key {
	return &Key{h: h, off: baseBlock{h.base}.root(), born: h.epoch}
}

// Recovery reports what log recovery did when the hive was opened.
func (h *Hive) Recovery() Recovery {
	r := h.recovery
	r.Logs = append([]string(nil), r.Logs...)
	return r
}

// Version returns the hive format version (1.3 to 1.6).
func (h *Hive) Version() (major, minor int) {
	bb := baseBlock{h.base}
	return int(bb.major()), int(bb.minor())
}

// Close releases the hive; handles of its keys stop working. It never
// writes: uncommitted edits are dropped.
func (h *Hive) Close() error {
	if h.closed {
		return errClosed
	}
	h.closed = true
	h.data, h.starts, h.index = nil, nil, nil
	return h.lock.release()
}

// staleTempAge is how old a temporary beside a locked hive must be to be
// removed: under the lock no editor writes one, the age guards against
// editors of other programs.
const staleTempAge = 10 * time.Second

// readRegular reads a regular file whole, never blocking on a FIFO, into
// one buffer sized from the file's length, with extra(length) bytes of
// room beyond it for the hive to grow (io.ReadAll's growing chunks and
// final copy touched three times the file's size in fresh memory, and
// page faults dominate opening a large hive). At most MaxFileSize+1 bytes
// are read, whatever the file claims or becomes while it is read.
func readRegular(path string, extra func(n int) int) ([]byte, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// On a 32-bit platform a hive of the format's full size cannot be held
	// in memory anyway; the cap leaves room for extra's headroom in an int.
	limit := int(min(int64(maxHiveBins)+baseBlockSize+1, math.MaxInt/2))
	size := 0
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		size = int(min(st.Size(), int64(limit)))
	}
	buf := newBuffer(min(size+extra(size), limit) + 1)[:0]
	for len(buf) < limit {
		if len(buf) == cap(buf) {
			// The file grew while it was read.
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := f.Read(buf[len(buf):min(cap(buf), limit)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return buf, nil
}
