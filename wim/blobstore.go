package wim

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
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
}

type chunkJob struct {
	src         *blobSource
	index, cnt  int
	data        []byte
	out         []byte
	outLen      int // 0: store the chunk raw
	hash        Hash
	err         error
	done        chan struct{}
	releaseData bool
}

var errStopped = errors.New("stopped")

// store writes every source of srcs (all with size > 0) and sets its hash.
func (s *blobStore) store(parent context.Context, srcs []*blobSource) error {
	if len(srcs) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	compressing := s.comp != CompressNone
	// Uncompressed data has no chunks: it is read and written in larger
	// pieces (fewer system calls and goroutine hand-offs), a few in flight.
	step, queue := s.chunkSize, max(4, 4*s.threads)
	if !compressing {
		step, queue = uncompressedStep, 4
	}
	ordered := make(chan *chunkJob, queue)
	work := make(chan *chunkJob, queue)
	dataPool := sync.Pool{New: func() any { b := make([]byte, step); return &b }}
	outPool := sync.Pool{New: func() any { b := make([]byte, step); return &b }}

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
				for job := range work {
					ob := outPool.Get().(*[]byte)
					job.out = (*ob)[:len(job.data)-1]
					if len(job.data) > 1 {
						job.outLen = c.Compress(job.out, job.data)
					}
					close(job.done)
				}
			}()
		}
	}

	// The producer reads the sources in order, hashing as it goes.
	go func() {
		defer close(ordered)
		if compressing {
			defer close(work)
		}
		for _, src := range srcs {
			if err := s.produce(ctx, src, step, ordered, work, &dataPool, compressing); err != nil {
				return
			}
		}
	}()

	var err error
	var start, dataStart int64
	var offsets []int64
	for job := range ordered {
		<-job.done
		if err != nil {
			s.release(job, &dataPool, &outPool)
			continue
		}
		if job.err != nil {
			err = job.err
			cancel()
			s.release(job, &dataPool, &outPool)
			continue
		}
		src := job.src
		if job.index == 0 {
			start = s.out.pos
			offsets = offsets[:0]
			if compressing && job.cnt > 1 {
				if _, err = s.out.Write(make([]byte, (job.cnt-1)*s.tableEntrySize(src.size))); err != nil {
					cancel()
				}
			}
			dataStart = s.out.pos
		}
		if err == nil {
			offsets = append(offsets, s.out.pos-dataStart)
			chunk := job.data
			if job.outLen > 0 {
				chunk = job.out[:job.outLen]
			}
			if _, err = s.out.Write(chunk); err != nil {
				cancel()
			}
		}
		s.done += int64(len(job.data))
		if s.progress != nil {
			s.progress(s.done, s.total)
		}
		if err == nil && job.index == job.cnt-1 {
			err = s.finishBlob(src, job, start, dataStart, offsets, compressing)
		}
		s.release(job, &dataPool, &outPool)
	}
	wg.Wait()
	if errors.Is(err, errStopped) || err == nil {
		err = parent.Err()
	}
	return err
}

func (s *blobStore) release(job *chunkJob, dataPool, outPool *sync.Pool) {
	if job.releaseData && job.data != nil {
		b := job.data[:cap(job.data)]
		dataPool.Put(&b)
	}
	if job.out != nil {
		b := job.out[:cap(job.out)]
		outPool.Put(&b)
	}
	job.data, job.out = nil, nil
}

func (s *blobStore) tableEntrySize(size int64) int {
	if size > 0xffffffff {
		return 8
	}
	return 4
}

func (s *blobStore) finishBlob(src *blobSource, last *chunkJob, start, dataStart int64, offsets []int64, compressing bool) error {
	src.hash = last.hash
	if e := s.known[src.hash]; e != nil && !src.metadata {
		e.refCount += src.refs
		return s.out.rewind(start)
	}
	stored := s.out.pos - start
	var flags uint8
	if src.metadata {
		flags |= resFlagMetadata
	}
	if compressing && (last.cnt > 1 || last.outLen > 0) {
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
	e := &blobEntry{res: resHeader{StoredSize: stored, Flags: flags, Offset: start, OrigSize: src.size}, partNumber: 1, refCount: src.refs, hash: src.hash}
	s.entries = append(s.entries, e)
	if !src.metadata {
		s.known[src.hash] = e
	}
	return nil
}

// uncompressedStep is the size of the pieces uncompressed data is read in.
const uncompressedStep = 1 << 20

// produce reads src in pieces of step bytes (the chunk size when
// compressing), hashing as it goes, and queues them.
func (s *blobStore) produce(ctx context.Context, src *blobSource, step int, ordered, work chan<- *chunkJob, pool *sync.Pool, compressing bool) error {
	cnt := int((src.size + int64(step) - 1) / int64(step))
	fail := func(err error) error {
		j := &chunkJob{src: src, err: err, done: make(chan struct{})}
		close(j.done)
		ordered <- j
		return err
	}
	var r io.Reader
	if src.data != nil {
		r = bytes.NewReader(src.data)
	} else if src.open != nil {
		rd, err := src.open()
		if err != nil {
			return fail(err)
		}
		r = rd
	} else {
		f, err := os.Open(src.path)
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		r = f
	}
	h := sha1.New()
	left := src.size
	for i := 0; i < cnt; i++ {
		if ctx.Err() != nil {
			return fail(errStopped)
		}
		n := min(int64(step), left)
		job := &chunkJob{src: src, index: i, cnt: cnt, done: make(chan struct{})}
		if src.data != nil {
			off := src.size - left
			job.data = src.data[off : off+n]
		} else {
			bp := pool.Get().(*[]byte)
			job.data = (*bp)[:n]
			job.releaseData = true
			if _, err := io.ReadFull(r, job.data); err != nil {
				if src.open != nil {
					return fail(err)
				}
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
					err = fmt.Errorf("file shrank while it was captured (expected %d bytes)", src.size)
				}
				return fail(fmt.Errorf("read %s: %w", src.path, err))
			}
		}
		h.Write(job.data)
		left -= n
		if i == cnt-1 {
			h.Sum(job.hash[:0])
		}
		ordered <- job
		if compressing {
			work <- job
		} else {
			close(job.done)
		}
	}
	return nil
}
