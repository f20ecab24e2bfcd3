package wim

import (
	"io"
	"runtime"
	"sync"
)

// A blob in a plain resource is one resource: its chunks are independent,
// so a big one is decoded on several goroutines, a batch of chunks each,
// while its reader hashes and writes what came before (docs/wim.md,
// "Memory bound"). The helpers are shared by everything reading one
// Reader: at most one per CPU at a time, each with one batch; when none
// is free, the reader decodes the next batch itself, as before.

// aheadBatchBytes is the decoded size of one batch (at least one chunk).
const aheadBatchBytes = 1 << 20

// minParallelBatches is the smallest blob, in batches, decoded with
// helpers: apply and verify already keep every CPU busy with many files at
// once, so only a big blob, which would otherwise keep one of them on its
// own for long, is worth the hand-offs.
const minParallelBatches = 16

// helperPool is a Reader's decoding helpers: tokens and their decoders.
type helperPool struct {
	once   sync.Once
	tokens chan struct{}
	decs   sync.Pool // *decoders
	bufs   sync.Pool // *[]byte, batch buffers of aheadBatchBytes or one chunk
	// minBatches, if not 0, replaces minParallelBatches (tests).
	minBatches int
}

func (h *helperPool) init() {
	h.once.Do(func() {
		n := runtime.GOMAXPROCS(0)
		h.tokens = make(chan struct{}, n)
		for range n {
			h.tokens <- struct{}{}
		}
	})
}

// tryAcquire takes a helper if one is free.
func (h *helperPool) tryAcquire() bool {
	h.init()
	select {
	case <-h.tokens:
		return true
	default:
		return false
	}
}

func (h *helperPool) release() { h.tokens <- struct{}{} }

func (h *helperPool) decoders() *decoders {
	if d, ok := h.decs.Get().(*decoders); ok {
		return d
	}
	return newDecoders()
}

// chunkBatch is consecutive chunks decoded into one buffer.
type chunkBatch struct {
	first, n int   // chunk indices first .. first+n-1
	start    int64 // uncompressed offset of the first chunk
	out      []byte
	err      error
	done     chan struct{} // closed once out or err is set (helper batches)
}

// parallelReader streams a plain resource whole, decoding batches of chunks
// ahead on the Reader's helpers.
type parallelReader struct {
	pool    *helperPool
	data    *chunkedData
	dec     *decoders // the reader's own, for batches it decodes itself
	perB    int       // chunks per batch
	depth   int       // batches in flight at most
	next    int       // first chunk not yet in a batch
	pending []*chunkBatch
	cur     *chunkBatch
	off     int64 // next uncompressed offset to return
	raw     []byte
}

// newParallelReader returns a reader of all of c, or nil when c is too
// small or needs no decoding for helpers to be worth it.
func newParallelReader(pool *helperPool, c *chunkedData, dec *decoders) *parallelReader {
	if c.comp == CompressNone || runtime.GOMAXPROCS(0) < 2 {
		return nil
	}
	perB := max(1, int(aheadBatchBytes/c.chunkSize))
	minB := minParallelBatches
	if pool.minBatches > 0 {
		minB = pool.minBatches
	}
	if c.numChunks() < minB*perB {
		return nil
	}
	return &parallelReader{pool: pool, data: c, dec: dec, perB: perB, depth: runtime.GOMAXPROCS(0)}
}

func (p *parallelReader) newBatch() *chunkBatch {
	c := p.data
	b := &chunkBatch{first: p.next, n: min(p.perB, c.numChunks()-p.next), start: int64(p.next) * c.chunkSize}
	size := min(int64(b.n)*c.chunkSize, c.origSize-b.start)
	if bp, ok := p.pool.bufs.Get().(*[]byte); ok && int64(cap(*bp)) >= size {
		b.out = (*bp)[:size]
	} else {
		b.out = make([]byte, max(size, aheadBatchBytes))[:size]
	}
	p.next += b.n
	return b
}

// decodeBatch decodes the chunks of b into b.out.
func (c *chunkedData) decodeBatch(b *chunkBatch, dec *decoders, raw *[]byte) error {
	for i := b.first; i < b.first+b.n; i++ {
		o := int64(i)*c.chunkSize - b.start
		if err := c.decodeChunk(i, dec, raw, b.out[o:o+c.chunkLen(i)]); err != nil {
			return err
		}
	}
	return nil
}

// fill hands further batches to free helpers, up to depth in flight.
func (p *parallelReader) fill() {
	for len(p.pending) < p.depth && p.next < p.data.numChunks() && p.pool.tryAcquire() {
		b := p.newBatch()
		b.done = make(chan struct{})
		p.pending = append(p.pending, b)
		go func(c *chunkedData) {
			defer p.pool.release()
			dec := p.pool.decoders()
			b.err = c.decodeBatch(b, dec, &dec.plain.raw)
			if b.err == nil {
				c.decodedAhead.Add(int64(b.n))
			}
			p.pool.decs.Put(dec)
			close(b.done)
		}(p.data)
	}
}

func (p *parallelReader) Read(buf []byte) (int, error) {
	c := p.data
	if p.off >= c.origSize {
		return 0, io.EOF
	}
	if p.cur == nil || p.off >= p.cur.start+int64(len(p.cur.out)) {
		if p.cur != nil {
			out := p.cur.out
			p.pool.bufs.Put(&out)
			p.cur = nil
		}
		var b *chunkBatch
		if len(p.pending) > 0 {
			b = p.pending[0]
			p.pending = p.pending[1:]
			p.fill()
			<-b.done
		} else {
			// Nothing decoded ahead (the start, or no helper was free):
			// decode the next batch here, the ones after it on helpers.
			b = p.newBatch()
			p.fill()
			b.err = c.decodeBatch(b, p.dec, &p.raw)
		}
		if b.err != nil {
			return 0, b.err
		}
		p.cur = b
	}
	n := copy(buf, p.cur.out[p.off-p.cur.start:])
	p.off += int64(n)
	return n, nil
}
