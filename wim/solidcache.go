package wim

import (
	"runtime"
	"sort"
	"sync"
)

// solidCacheBudget bounds the decoded solid chunks one decoders holds, the
// chunks decoded ahead included: three chunks of an ESD file (64 MiB each),
// the one being read and two decoded ahead by other goroutines, or many
// smaller ones. The chunk being read is always kept, whatever its size.
const solidCacheBudget = 192 << 20

// maxCachedChunks bounds the entries (and so the cost of a lookup).
const maxCachedChunks = 32

// maxAheadWorkers bounds the goroutines that decode solid chunks ahead of
// the reader; the budget bounds them further (two at 64 MiB chunks).
const maxAheadWorkers = 4

// chunkCache keeps decoded solid chunks, least recently used first, within
// solidCacheBudget bytes, so that blobs read in file order decode each solid
// chunk once. One goroutine reads through it (the decoders' owner); while a
// read-ahead runs (startAhead), other goroutines decode the chunks that the
// reader will need next into it, and the reader waits for a chunk that is
// being decoded instead of decoding it again.
type chunkCache struct {
	mu sync.Mutex
	// changed is signalled when an entry stops being pending, when entries
	// become evictable or go, and when the read-ahead stops.
	changed sync.Cond
	entries []*cachedChunk // least recently used first
	bytes   int64          // sum of the entries' sizes, pending ones included
	// last is the entry the reader got last: its bytes may be in use until
	// the reader's next call, so the read-ahead never evicts it.
	last  *cachedChunk
	bufs  chunkBufs // the reader's stored bytes of the chunk it decodes itself
	ahead *readAhead
}

type cachedChunk struct {
	part    *chunkedData
	index   int
	data    []byte
	size    int64 // bytes counted for this entry (cap of data once allocated)
	pending bool  // being decoded ahead; data belongs to the decoding goroutine
	unread  bool  // decoded ahead and not yet read: evicting it wastes a decode
}

func (c *chunkCache) lock() {
	c.mu.Lock()
	if c.changed.L == nil {
		c.changed.L = &c.mu
	}
}

func (c *chunkCache) find(part *chunkedData, index int) int {
	for i := len(c.entries) - 1; i >= 0; i-- {
		if e := c.entries[i]; e.part == part && e.index == index {
			return i
		}
	}
	return -1
}

func (c *chunkCache) remove(i int) *cachedChunk {
	e := c.entries[i]
	c.entries = append(c.entries[:i], c.entries[i+1:]...)
	c.bytes -= e.size
	if e == c.last {
		c.last = nil
	}
	return e
}

// get returns the cached chunk and marks it most recently used, waiting for
// it if it is being decoded ahead. The bytes stay valid until the reader's
// next get or alloc.
func (c *chunkCache) get(part *chunkedData, index int) ([]byte, bool) {
	c.lock()
	defer c.mu.Unlock()
	if ra := c.ahead; ra != nil {
		if f, ok := ra.frontier[part]; !ok || index > f {
			ra.frontier[part] = index
		}
	}
	for {
		i := c.find(part, index)
		if i < 0 {
			// The reader will decode it: the previous chunk is no longer in use.
			if c.last != nil {
				c.last = nil
				c.changed.Broadcast()
			}
			return nil, false
		}
		e := c.entries[i]
		if e.pending {
			c.changed.Wait()
			continue
		}
		copy(c.entries[i:], c.entries[i+1:])
		c.entries[len(c.entries)-1] = e
		e.unread = false
		if c.last != e {
			c.last = e
			c.changed.Broadcast()
		}
		return e.data, true
	}
}

// makeRoom evicts entries, least recently used first, until n more bytes
// and one more entry fit the budget. Pending entries are never evicted; nor,
// unless byReader, the last one read and those decoded ahead and not yet
// read. It returns a freed buffer of at least n bytes, if there was one, and
// whether the room is there.
func (c *chunkCache) makeRoom(n int64, byReader bool, spare []byte) ([]byte, bool) {
	fits := func() bool { return c.bytes+n <= solidCacheBudget && len(c.entries) < maxCachedChunks }
	for pass := 0; pass < 2 && !fits(); pass++ {
		if pass == 1 && !byReader {
			break
		}
		for i := 0; i < len(c.entries) && !fits(); {
			e := c.entries[i]
			if e.pending || (!byReader && e == c.last) || (pass == 0 && e.unread) {
				i++
				continue
			}
			c.remove(i)
			if spare == nil && int64(cap(e.data)) >= n {
				spare = e.data
			}
		}
	}
	return spare, fits()
}

// claim makes room for chunk index of part, n bytes, that the reader is
// about to decode itself, and returns its entry, pending until done: a
// read-ahead neither decodes it too nor takes its room. Room is made by
// evicting what the reader no longer needs, waiting for chunks being
// decoded ahead when only they are left.
func (c *chunkCache) claim(part *chunkedData, index int, n int64) *cachedChunk {
	c.lock()
	var spare []byte
	for {
		var ok bool
		spare, ok = c.makeRoom(n, true, spare)
		if ok || !c.anyPending() {
			break
		}
		c.changed.Wait()
	}
	e := &cachedChunk{part: part, index: index, size: n, pending: true}
	if spare != nil {
		e.data, e.size = spare[:n], int64(cap(spare))
	}
	c.entries = append(c.entries, e)
	c.bytes += e.size
	c.mu.Unlock()
	if e.data == nil {
		e.data = make([]byte, n)
	}
	return e
}

func (c *chunkCache) anyPending() bool {
	for _, e := range c.entries {
		if e.pending {
			return true
		}
	}
	return false
}

// done ends the decoding of e, the reader's (claim) or a read-ahead's: its
// bytes are ready to be read, or, on an error, dropped (for a read-ahead's,
// the reader then decodes the chunk itself and reports what is wrong).
func (c *chunkCache) done(e *cachedChunk, ok, byReader bool) {
	c.lock()
	defer c.mu.Unlock()
	e.pending = false
	switch {
	case !ok:
		if i := c.find(e.part, e.index); i >= 0 && c.entries[i] == e {
			c.remove(i)
		}
	case byReader:
		c.last = e
	default:
		e.unread = true
	}
	c.changed.Broadcast()
}

// readAhead decodes, on a few goroutines, the solid chunks that reading a
// list of blobs in order will need, into the cache, each once, in that
// order, within the cache's budget.
type readAhead struct {
	cache *chunkCache
	blobs []*blob // solid blobs, in the order they will be read
	// The next chunk to decode: in blob bi, from offset pos of its group.
	bi   int
	pos  int64
	prev *cachedChunk // identity of the chunk given out last (part, index)
	// frontier is, per resource, the highest chunk the reader has asked
	// for since the read-ahead started: chunks up to it are being read or
	// were read, and decoding them ahead would be wasted.
	frontier map[*chunkedData]int
	maxAhead int // entries pending or unread
	stopped  bool
	wg       sync.WaitGroup
}

// startAhead starts decoding ahead the solid chunks that reading blobs in
// this order will need; the returned function stops it (and must be called
// before the decoders are dropped). Blobs outside solid resources are
// ignored. With one CPU there is nothing to gain: nothing is started.
func (d *decoders) startAhead(blobs []*blob) (stop func()) {
	var solid []*blob
	for _, b := range blobs {
		if b.solid != nil && b.size > 0 {
			solid = append(solid, b)
		}
	}
	workers := min(runtime.GOMAXPROCS(0), maxAheadWorkers)
	c := &d.solid
	c.lock()
	defer c.mu.Unlock()
	if len(solid) == 0 || workers < 2 || c.ahead != nil {
		return func() {}
	}
	ra := &readAhead{cache: c, blobs: solid, frontier: map[*chunkedData]int{}, maxAhead: 2 * workers}
	ra.pos = solid[0].offset
	c.ahead = ra
	for range workers {
		ra.wg.Add(1)
		go ra.work()
	}
	return func() {
		c.lock()
		ra.stopped = true
		c.changed.Broadcast()
		c.mu.Unlock()
		ra.wg.Wait()
		c.lock()
		c.ahead = nil
		c.mu.Unlock()
	}
}

// peek returns the next chunk to decode ahead and the offset of its
// resource in the group, or ok false at the end.
func (ra *readAhead) peek() (part *chunkedData, index int, start int64, ok bool) {
	for ra.bi < len(ra.blobs) {
		b := ra.blobs[ra.bi]
		if ra.pos >= b.offset+b.size {
			ra.bi++
			if ra.bi < len(ra.blobs) {
				ra.pos = ra.blobs[ra.bi].offset
			}
			continue
		}
		g := b.solid
		// The part holding pos: the last one starting at or before it (parts
		// of size zero share their start with the next one).
		p := sort.Search(len(g.starts), func(i int) bool { return g.starts[i] > ra.pos }) - 1
		part = g.parts[p]
		index = int((ra.pos - g.starts[p]) / part.chunkSize)
		if prev := ra.prev; prev != nil && prev.part == part && prev.index == index {
			ra.advance(g.starts[p], part, index)
			continue
		}
		return part, index, g.starts[p], true
	}
	return nil, 0, 0, false
}

// advance moves past chunk index of part (whose group offset is start).
func (ra *readAhead) advance(start int64, part *chunkedData, index int) {
	ra.prev = &cachedChunk{part: part, index: index}
	ra.pos = start + int64(index+1)*part.chunkSize
}

// next reserves the next chunk to decode ahead as a pending entry, waiting
// for room; nil when there is nothing more to do.
func (ra *readAhead) next() *cachedChunk {
	c := ra.cache
	c.lock()
	defer c.mu.Unlock()
	var spare []byte
	for !ra.stopped {
		part, index, start, ok := ra.peek()
		if !ok {
			return nil
		}
		if f, read := ra.frontier[part]; (read && index <= f) || c.find(part, index) >= 0 {
			ra.advance(start, part, index)
			continue
		}
		n := part.chunkLen(index)
		ahead := 0
		for _, e := range c.entries {
			if e.pending || e.unread {
				ahead++
			}
		}
		if ahead < ra.maxAhead {
			var room bool
			if spare, room = c.makeRoom(n, false, spare); room {
				ra.advance(start, part, index)
				e := &cachedChunk{part: part, index: index, size: n, pending: true}
				if spare != nil {
					e.data, e.size = spare[:n], int64(cap(spare))
				}
				c.entries = append(c.entries, e)
				c.bytes += e.size
				return e
			}
		}
		c.changed.Wait()
	}
	return nil
}

func (ra *readAhead) work() {
	defer ra.wg.Done()
	dec := newDecoders()
	for {
		e := ra.next()
		if e == nil {
			return
		}
		if e.data == nil {
			e.data = make([]byte, e.size)
		}
		err := e.part.decodeChunk(e.index, dec, &dec.plain.raw, e.data)
		if err == nil {
			e.part.decodedAhead.Add(1)
		}
		ra.cache.done(e, err == nil, false)
	}
}
