package wim

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
)

// blobSource is one stream to store: a file read from disk or bytes in memory.
type blobSource struct {
	path string // file to read when data and open are nil
	data []byte
	// open, when set, gives the bytes instead: a blob of another WIM being
	// recompressed (see rawcopy.go).
	open     func() (io.Reader, error)
	size     int64
	metadata bool // a metadata resource: flagged as such, never deduplicated
	refs     uint32
	hash     Hash // filled in by store
}

// blobStore writes blobs into the WIM, deduplicated by SHA-1. File data is
// streamed: each file is read once, in chunks; the SHA-1 is computed while
// the chunks are compressed by a pool of workers and written in order. When
// the finished hash is one the WIM already has, the bytes just written are
// dropped (the output is rewound), so memory stays bounded by the chunks in
// flight whatever the size of the files.
type blobStore struct {
	out       *outFile
	comp      Compression
	level     CompressionLevel
	chunkSize int
	threads   int
	known     map[Hash]*blobEntry
	entries   []*blobEntry // entries written by this store, in order
	progress  func(done, total int64)
	done      int64
	total     int64
	// totalNow, when set, gives the total instead (the scan still adds
	// to it: see captureWith).
	totalNow func() int64
	// deferRefs: entries are written with no references; the caller adds
	// each source's refs once they are final (a hard link found later by
	// a scan still running adds one to a source already stored).
	deferRefs bool
}

// A batch is what the reader hands to the compressing workers and the
// writer: consecutive chunks, of one big file or of several small ones, read
// into one buffer. Handing chunks over one at a time cost two goroutine
// hand-offs per 32 KiB chunk, and on a busy machine each hand-off can wait
// for a time slice, leaving the workers idle (a single-file capture used
// half a core under load).
type batch struct {
	chunks []chunk
	used   int    // bytes of buf and out given to chunks
	buf    []byte // file data read, batchBytes
	out    []byte // compressed output, batchBytes (only when compressing)
	err    error  // the reader failed after the chunks: the store fails
	done   chan struct{}
}

// chunk is one chunk (or, uncompressed, one piece) of a blob in a batch.
type chunk struct {
	src        *blobSource
	index, cnt int
	off        int    // where its slots in the batch's buf and out start
	data       []byte // in buf, or in src.data
	out        []byte // compressed; nil: stored raw
	hash       Hash   // set on a blob's last chunk, by the reader when hashed
	hashed     bool   // the reader hashes this blob (else the writer does)
}

const (
	// batchBytes is the data one batch holds at most (unless one chunk is
	// larger), and maxBatchChunks the chunks: enough that the hand-offs
	// cost nothing next to compressing, few enough that memory stays
	// small and both workers get work from one big file.
	batchBytes     = 256 << 10
	maxBatchChunks = 64
)

var errStopped = errors.New("stopped")

// store writes every source of srcs (all with size > 0) and sets its hash.
func (s *blobStore) store(parent context.Context, srcs []*blobSource) error {
	if len(srcs) == 0 {
		return nil
	}
	return s.storeFrom(parent, func(i int) (*blobSource, bool) {
		if i < len(srcs) {
			return srcs[i], true
		}
		return nil, false
	})
}

// storeFrom writes the sources next(0), next(1)... until next reports none
// (all with size > 0) and sets their hashes. next may wait for a source
// (sourceQueue).
func (s *blobStore) storeFrom(parent context.Context, next func(int) (*blobSource, bool)) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	compressing := s.comp != CompressNone
	// Uncompressed data has no chunks: it is read and written in larger
	// pieces (fewer system calls).
	step, size, queue := s.chunkSize, max(batchBytes, s.chunkSize), max(2, 2*s.threads)
	if !compressing {
		step, size, queue = uncompressedStep, uncompressedStep, 2
	}
	ordered := make(chan *batch, queue)
	work := make(chan *batch, queue)
	// At most queue batches wait in ordered, one is being filled and one
	// written: free holds them between uses (a sync.Pool would drop them at
	// every collection, and they are large).
	free := make(chan *batch, queue+2)

	var wg sync.WaitGroup
	if compressing {
		for w := 0; w < s.threads; w++ {
			c, err := newChunkCompressor(s.comp, s.chunkSize, s.level)
			if err != nil {
				return err
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for b := range work {
					for i := range b.chunks {
						ch := &b.chunks[i]
						if n := len(ch.data); n > 1 {
							if m := c.Compress(b.out[ch.off:ch.off+n-1], ch.data); m > 0 {
								ch.out = b.out[ch.off : ch.off+m]
							}
						}
					}
					close(b.done)
				}
			}()
		}
	}

	// The reader reads the sources in order, hashing as it goes when
	// compressing (the workers are the bottleneck then). Uncompressed, the
	// writer hashes the files of one piece (up to 1 MiB) as it writes them:
	// for many small files the reader's open, read and close are the
	// larger cost, and the two then run on two goroutines; a bigger file
	// is hashed by the reader, whose reads cost less per byte than the
	// writer's writes (hashing all in the writer made one 1 GiB file 25%
	// slower, hashing all in the reader GOROOT 12% slower).
	go func() {
		defer close(ordered)
		if compressing {
			defer close(work)
		}
		r := &batcher{ordered: ordered, work: work, free: free, size: size, compressing: compressing}
		for i := 0; ; i++ {
			src, ok := next(i)
			if !ok {
				break
			}
			if err := r.produce(ctx, src, step); err != nil {
				return
			}
		}
		r.flush()
	}()

	var err error
	var start, dataStart int64
	var offsets []int64
	h := sha1.New()
	for b := range ordered {
		<-b.done
		for i := 0; i < len(b.chunks) && err == nil; i++ {
			ch := &b.chunks[i]
			src := ch.src
			if ch.index == 0 {
				start = s.out.pos
				offsets = offsets[:0]
				if compressing && ch.cnt > 1 {
					if _, err = s.out.Write(make([]byte, (ch.cnt-1)*s.tableEntrySize(src.size))); err != nil {
						break
					}
				}
				dataStart = s.out.pos
			}
			offsets = append(offsets, s.out.pos-dataStart)
			data := ch.data
			if ch.out != nil {
				data = ch.out
			}
			if _, err = s.out.Write(data); err != nil {
				break
			}
			if !ch.hashed {
				if ch.index == 0 {
					h.Reset()
				}
				h.Write(ch.data)
				if ch.index == ch.cnt-1 {
					h.Sum(ch.hash[:0])
				}
			}
			s.done += int64(len(ch.data))
			if s.progress != nil {
				total := s.total
				if s.totalNow != nil {
					total = s.totalNow()
				}
				s.progress(s.done, total)
			}
			if ch.index == ch.cnt-1 {
				err = s.finishBlob(src, ch, start, dataStart, offsets, compressing)
			}
		}
		if err == nil && b.err != nil {
			err = b.err
		}
		if err != nil {
			cancel()
		}
		b.chunks, b.used, b.err, b.done = b.chunks[:0], 0, nil, nil
		free <- b
	}
	wg.Wait()
	if errors.Is(err, errStopped) || err == nil {
		err = parent.Err()
	}
	return err
}

// batcher packs the chunks the reader produces into batches and queues them.
type batcher struct {
	ordered, work chan<- *batch
	free          chan *batch
	size          int
	compressing   bool
	cur           *batch
}

// slot returns the batch to put a chunk of n bytes in, queueing the
// current one first when it is full.
func (r *batcher) slot(n int) *batch {
	if r.cur != nil && (r.cur.used+n > r.size || len(r.cur.chunks) == maxBatchChunks) {
		r.flush()
	}
	if r.cur == nil {
		select {
		case r.cur = <-r.free:
		default:
			r.cur = &batch{buf: make([]byte, r.size)}
			if r.compressing {
				r.cur.out = make([]byte, r.size)
			}
		}
		r.cur.done = make(chan struct{})
	}
	return r.cur
}

// flush queues the current batch, if any.
func (r *batcher) flush() {
	b := r.cur
	if b == nil {
		return
	}
	r.cur = nil
	r.ordered <- b
	if r.compressing {
		r.work <- b
	} else {
		close(b.done)
	}
}

// fail queues err after the chunks read so far, and returns it.
func (r *batcher) fail(err error) error {
	r.slot(0).err = err
	r.flush()
	return err
}

func (s *blobStore) tableEntrySize(size int64) int {
	if size > 0xffffffff {
		return 8
	}
	return 4
}

func (s *blobStore) finishBlob(src *blobSource, last *chunk, start, dataStart int64, offsets []int64, compressing bool) error {
	src.hash = last.hash
	refs := src.refs
	if s.deferRefs && !src.metadata {
		refs = 0
	}
	if e := s.known[src.hash]; e != nil && !src.metadata {
		e.refCount += refs
		return s.out.rewind(start)
	}
	stored := s.out.pos - start
	var flags uint8
	if src.metadata {
		flags |= resFlagMetadata
	}
	if compressing && (last.cnt > 1 || last.out != nil) {
		flags |= resFlagCompressed
		if last.cnt > 1 {
			es := s.tableEntrySize(src.size)
			table := make([]byte, (last.cnt-1)*es)
			for i := 1; i < last.cnt; i++ {
				if es == 4 {
					binary.LittleEndian.PutUint32(table[(i-1)*4:], uint32(offsets[i]))
				} else {
					binary.LittleEndian.PutUint64(table[(i-1)*8:], uint64(offsets[i]))
				}
			}
			if err := s.out.patch(table, start); err != nil {
				return err
			}
		}
	}
	e := &blobEntry{res: resHeader{StoredSize: stored, Flags: flags, Offset: start, OrigSize: src.size}, partNumber: 1, refCount: refs, hash: src.hash}
	s.entries = append(s.entries, e)
	if !src.metadata {
		s.known[src.hash] = e
	}
	return nil
}

// uncompressedStep is the size of the pieces uncompressed data is read in.
const uncompressedStep = 1 << 20

// produce reads src in pieces of step bytes (the chunk size when
// compressing), hashing as it goes when compressing or when src is more
// than one piece (see storeFrom), and adds them to batches.
func (r *batcher) produce(ctx context.Context, src *blobSource, step int) error {
	cnt := int((src.size + int64(step) - 1) / int64(step))
	var rd io.Reader
	if src.data != nil {
		rd = bytes.NewReader(src.data)
	} else if src.open != nil {
		o, err := src.open()
		if err != nil {
			return r.fail(err)
		}
		rd = o
	} else {
		f, err := openSource(src.path)
		if err != nil {
			return r.fail(err)
		}
		defer f.Close()
		rd = f
	}
	hashed := r.compressing || cnt > 1
	var h hash.Hash
	if hashed {
		h = sha1.New()
	}
	left := src.size
	for i := 0; i < cnt; i++ {
		if ctx.Err() != nil {
			return r.fail(errStopped)
		}
		n := int(min(int64(step), left))
		b := r.slot(n)
		ch := chunk{src: src, index: i, cnt: cnt, off: b.used, hashed: hashed}
		if src.data != nil {
			off := src.size - left
			ch.data = src.data[off : off+int64(n)]
		} else {
			ch.data = b.buf[b.used : b.used+n]
			if _, err := io.ReadFull(rd, ch.data); err != nil {
				if src.open != nil {
					return r.fail(err)
				}
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
					err = fmt.Errorf("file shrank while it was captured (expected %d bytes)", src.size)
				}
				return r.fail(fmt.Errorf("read %s: %w", src.path, err))
			}
		}
		b.used += n
		if hashed {
			h.Write(ch.data)
			if i == cnt-1 {
				h.Sum(ch.hash[:0])
			}
		}
		left -= int64(n)
		b.chunks = append(b.chunks, ch)
	}
	return nil
}

// sourceQueue hands the sources a scan finds to a store running at the
// same time, in the order found. add never waits (the scan keeps the list
// anyway), so a store that stopped cannot block the scan.
type sourceQueue struct {
	mu     sync.Mutex
	more   sync.Cond
	srcs   []*blobSource
	closed bool
}

func newSourceQueue() *sourceQueue {
	q := &sourceQueue{}
	q.more.L = &q.mu
	return q
}

func (q *sourceQueue) add(src *blobSource) {
	q.mu.Lock()
	q.srcs = append(q.srcs, src)
	q.mu.Unlock()
	q.more.Signal()
}

// close says no source follows.
func (q *sourceQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.more.Broadcast()
}

// get returns source i, waiting for it; false once the queue is closed
// with fewer.
func (q *sourceQueue) get(i int) (*blobSource, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i >= len(q.srcs) && !q.closed {
		q.more.Wait()
	}
	if i < len(q.srcs) {
		return q.srcs[i], true
	}
	return nil, false
}
