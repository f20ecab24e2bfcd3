package disk

import (
	"container/list"
	"sync"
)

// blockCache is a least-recently-used cache of metadata blocks (qcow2 L2
// tables, decompressed clusters), bounded in bytes so that memory does not
// grow with the disk's size. It is safe for concurrent use.
type blockCache struct {
	mu     sync.Mutex
	budget int
	used   int
	lru    *list.List
	items  map[int64]*list.Element
}

type cacheEntry struct {
	key  int64
	data []byte
}

func newBlockCache(budget int) *blockCache {
	return &blockCache{budget: budget, lru: list.New(), items: map[int64]*list.Element{}}
}

func (c *blockCache) get(key int64) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*cacheEntry).data, true
	}
	return nil, false
}

func (c *blockCache) put(key int64, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.used -= len(e.Value.(*cacheEntry).data)
		e.Value.(*cacheEntry).data = data
		c.used += len(data)
		c.lru.MoveToFront(e)
	} else {
		c.items[key] = c.lru.PushFront(&cacheEntry{key, data})
		c.used += len(data)
	}
	for c.used > c.budget && c.lru.Len() > 1 {
		e := c.lru.Back()
		ent := e.Value.(*cacheEntry)
		c.lru.Remove(e)
		delete(c.items, ent.key)
		c.used -= len(ent.data)
	}
}
