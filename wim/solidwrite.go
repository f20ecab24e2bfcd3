package wim

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/reseal/reseal/wim/lzms"
)

// Writing solid resources (../shared/docs/lzms-format.md section 10.4): the
// data of many blobs concatenated and cut into chunks of the resource's own
// chunk size, each compressed on its own; a 16-byte header (uncompressed
// size, chunk size, compression format) and a table of the chunks' stored
// sizes come first. The blobs' blob table entries then give their offsets in
// that uncompressed data.

// DefaultSolidChunkSize is the chunk size of solid resources for each
// compression: wimlib's and WIMGAPI's 64 MiB for LZMS; the largest the
// codec allows for XPRESS and LZX.
func DefaultSolidChunkSize(c Compression) int {
	switch c {
	case CompressXPRESS:
		return 1 << 16
	case CompressLZX:
		return 1 << 21
	case CompressLZMS:
		return 1 << 26
	}
	return 1 << 21
}

// solidMemoryBudget bounds what the workers of one solid writer hold: each
// takes its compressor and two chunk buffers (the chunk and its compressed
// form). LZMS at 64 MiB chunks needs 708 MiB a worker (lzms.MemoryFor), so
// at most two run at once, whatever --threads says; the other codecs'
// workers are small and never limited.
const solidMemoryBudget = 1536 << 20

// solidWorkerMemory is what one worker of a solid writer holds.
func solidWorkerMemory(comp Compression, chunkSize int) int64 {
	m := 2 * int64(chunkSize)
	if comp == CompressLZMS {
		m += lzms.MemoryFor(chunkSize)
	}
	return m
}

// solidWorkers is how many chunks a solid writer compresses at once.
func solidWorkers(comp Compression, chunkSize, threads int) int {
	threads = max(1, threads)
	if comp == CompressNone {
		return threads
	}
	return int(max(1, min(int64(threads), solidMemoryBudget/solidWorkerMemory(comp, chunkSize))))
}

// SolidMemory is about the most a capture or export writing a solid
// resource holds for it with the given threads: the workers (see
// solidMemoryBudget) and the chunk being filled. The command line raises
// its soft memory limit by this much, so that the collector does not run
// without end over memory that is in use by design.
func SolidMemory(comp Compression, chunkSize, threads int) int64 {
	if comp == CompressNone {
		return int64(chunkSize)
	}
	if chunkSize == 0 {
		chunkSize = DefaultSolidChunkSize(comp)
	}
	return int64(solidWorkers(comp, chunkSize, threads))*solidWorkerMemory(comp, chunkSize) + int64(chunkSize)
}

// solidWriter streams one solid resource of a size announced beforehand
// into out. Chunks are compressed by threads workers and written in order;
// at most threads+1 chunks are in memory at once.
type solidWriter struct {
	ctx       context.Context
	out       *outFile
	comp      Compression
	chunkSize int
	start     int64
	total     int64 // the uncompressed size announced
	written   int64 // bytes given to Write so far
	sizes     []uint32
	cur       []byte
	work      chan *solidJob
	pending   []*solidJob
	threads   int
	wg        sync.WaitGroup
	bufs      sync.Pool
	err       error
	closed    bool
}

type solidJob struct {
	data []byte
	out  []byte
	n    int // compressed length; 0: store raw
	done chan struct{}
}

func newSolidWriter(ctx context.Context, out *outFile, comp Compression, chunkSize, threads int, total int64) (*solidWriter, error) {
	if !canCompress(comp, chunkSize) {
		return nil, fmt.Errorf("cannot write %v compression with %d-byte chunks", comp, chunkSize)
	}
	threads = solidWorkers(comp, chunkSize, threads)
	s := &solidWriter{ctx: ctx, out: out, comp: comp, chunkSize: chunkSize, start: out.pos, total: total, threads: threads}
	s.bufs.New = func() any { b := make([]byte, chunkSize); return &b }
	n := (total + int64(chunkSize) - 1) / int64(chunkSize)
	if _, err := out.Write(make([]byte, 16+4*n)); err != nil {
		return nil, err
	}
	if comp != CompressNone {
		s.work = make(chan *solidJob, threads)
		for w := 0; w < threads; w++ {
			c, err := newChunkCompressor(comp, chunkSize, CompressionLevelDefault)
			if err != nil {
				s.abort()
				return nil, err
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				for j := range s.work {
					if len(j.data) > 1 {
						j.n = c.Compress(j.out[:len(j.data)-1], j.data)
					}
					close(j.done)
				}
			}()
		}
	}
	return s, nil
}

func (s *solidWriter) getBuf() []byte { return (*s.bufs.Get().(*[]byte))[:0] }

func (s *solidWriter) putBuf(b []byte) {
	b = b[:cap(b)]
	s.bufs.Put(&b)
}

// Write adds uncompressed bytes to the resource.
func (s *solidWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.written+int64(len(p)) > s.total {
		s.err = fmt.Errorf("solid resource: more data than the %d bytes announced", s.total)
		return 0, s.err
	}
	n := len(p)
	for len(p) > 0 {
		if s.cur == nil {
			s.cur = s.getBuf()
		}
		k := copy(s.cur[len(s.cur):s.chunkSize], p)
		s.cur = s.cur[:len(s.cur)+k]
		p = p[k:]
		s.written += int64(k)
		if len(s.cur) == s.chunkSize {
			if err := s.submit(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (s *solidWriter) submit() error {
	if err := s.ctx.Err(); err != nil {
		s.err = err
		return err
	}
	j := &solidJob{data: s.cur, done: make(chan struct{})}
	s.cur = nil
	if s.comp == CompressNone {
		close(j.done)
	} else {
		j.out = s.getBuf()
		s.work <- j
	}
	s.pending = append(s.pending, j)
	for len(s.pending) > s.threads {
		if err := s.drainOne(); err != nil {
			return err
		}
	}
	return nil
}

// drainOne writes the oldest chunk once it is compressed.
func (s *solidWriter) drainOne() error {
	j := s.pending[0]
	s.pending = s.pending[1:]
	<-j.done
	chunk := j.data
	if j.n > 0 {
		chunk = j.out[:j.n]
	}
	_, err := s.out.Write(chunk)
	s.sizes = append(s.sizes, uint32(len(chunk)))
	s.putBuf(j.data)
	if j.out != nil {
		s.putBuf(j.out)
	}
	if err != nil {
		s.err = err
	}
	return err
}

// close writes what is left and the header and chunk table, and returns the
// resource's blob table entry.
func (s *solidWriter) close() (blobEntry, error) {
	defer s.abort()
	if s.err != nil {
		return blobEntry{}, s.err
	}
	if s.written != s.total {
		return blobEntry{}, fmt.Errorf("solid resource: %d bytes written, %d announced", s.written, s.total)
	}
	if len(s.cur) > 0 {
		if err := s.submit(); err != nil {
			return blobEntry{}, err
		}
	}
	for len(s.pending) > 0 {
		if err := s.drainOne(); err != nil {
			return blobEntry{}, err
		}
	}
	hdr := make([]byte, 16+4*len(s.sizes))
	binary.LittleEndian.PutUint64(hdr[0:], uint64(s.total))
	binary.LittleEndian.PutUint32(hdr[8:], uint32(s.chunkSize))
	binary.LittleEndian.PutUint32(hdr[12:], uint32(s.comp))
	for i, n := range s.sizes {
		binary.LittleEndian.PutUint32(hdr[16+4*i:], n)
	}
	if err := s.out.patch(hdr, s.start); err != nil {
		return blobEntry{}, err
	}
	return blobEntry{res: resHeader{StoredSize: s.out.pos - s.start, Flags: resFlagSolid, Offset: s.start, OrigSize: solidMagicSize}, partNumber: 1, refCount: 1}, nil
}

// abort stops the workers; pending chunks are dropped.
func (s *solidWriter) abort() {
	if s.closed {
		return
	}
	s.closed = true
	if s.work != nil {
		close(s.work)
	}
	s.wg.Wait()
}
