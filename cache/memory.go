package cache

import (
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/ristretto/v2"
)

// MemoryConfig configures a Memory store.
type MemoryConfig struct {
	// MaxBytes is the byte budget: the sum of Object.Size over the stored
	// objects stays at or under it. Required, > 0.
	MaxBytes int64
	// MaxObjectBytes: objects whose Size is larger are not stored.
	// Default 0: MaxBytes.
	MaxObjectBytes int64
	// KeepStale is how long an object is kept after it stops being fresh,
	// for revalidation and serving stale, or longer when the object's own
	// stale-while-revalidate or stale-if-error says so.
	// Default 0: an object leaves the store when it goes stale.
	// Negative: objects stay until evicted or purged.
	KeepStale time.Duration
	// ExpectedObjectBytes is the typical Object.Size; it sizes ristretto's
	// admission counters (ten per expected object, within [1e4, 2^24]).
	// Default 4096.
	ExpectedObjectBytes int64
	// Now is the clock against which objects' freshness is measured when
	// they are stored. Default time.Now. (Ristretto's expiry itself runs on
	// the wall clock.)
	Now func() time.Time
}

// Memory is the ristretto-backed Store with a byte budget. Ristretto keeps
// only key hashes, so Get verifies Object.Key; a side index (hash to object)
// serves Purge and Stats and follows every insertion, replacement, eviction,
// rejection and expiry.
//
// Memory is safe for concurrent use, but Close must not run concurrently
// with Get: close a Memory only once the server has stopped serving.
type Memory struct {
	cache          *ristretto.Cache[[]byte, *Object]
	seed1, seed2   maphash.Seed
	maxObjectBytes int64
	keepStale      time.Duration
	now            func() time.Time

	// setMu serializes Set and Purge per key hash (stripe), so that
	// ristretto's asynchronous admission of one Set of a key completes
	// before the next Set of that key begins.
	setMu [64]sync.Mutex

	// index is what ristretto holds, by key hash, in shards: a purge walks one shard at a
	// time under that shard's lock, so that the sets and evictions of the other shards go on
	// while it walks a large cache (bench/README.md, "Purging a million objects").
	index [indexShards]indexShard
	bytes atomic.Int64 // sum of Size over index

	life   sync.RWMutex // held for writing by Close, for reading by Set and Purge
	closed bool

	evictions atomic.Uint64 // objects ristretto dropped: for room, or past their keep period
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty Memory store. Call Close to release it.
func NewMemory(cfg MemoryConfig) (*Memory, error) {
	if cfg.MaxBytes <= 0 {
		return nil, errors.New("cache: memory: MaxBytes must be positive")
	}
	if cfg.MaxObjectBytes < 0 || cfg.ExpectedObjectBytes < 0 {
		return nil, errors.New("cache: memory: MaxObjectBytes and ExpectedObjectBytes must not be negative")
	}
	if cfg.MaxObjectBytes == 0 {
		cfg.MaxObjectBytes = cfg.MaxBytes
	}
	if cfg.ExpectedObjectBytes == 0 {
		cfg.ExpectedObjectBytes = 4096
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	m := &Memory{
		seed1:          maphash.MakeSeed(),
		seed2:          maphash.MakeSeed(),
		maxObjectBytes: cfg.MaxObjectBytes,
		keepStale:      cfg.KeepStale,
		now:            cfg.Now,
	}
	for i := range m.index {
		m.index[i].objs = map[uint64]*Object{}
	}
	counters := min(max(10*(cfg.MaxBytes/cfg.ExpectedObjectBytes), 1e4), 1<<24)
	c, err := ristretto.NewCache(&ristretto.Config[[]byte, *Object]{
		NumCounters:        counters,
		MaxCost:            cfg.MaxBytes,
		BufferItems:        64,
		IgnoreInternalCost: true, // Object.Size already counts overhead
		KeyToHash:          m.hash,
		OnEvict: func(it *ristretto.Item[*Object]) {
			m.evictions.Add(1)
			m.forget(it.Key, it.Value)
		},
		OnReject: func(it *ristretto.Item[*Object]) { m.forget(it.Key, it.Value) },
	})
	if err != nil {
		return nil, fmt.Errorf("cache: memory: %w", err)
	}
	m.cache = c
	return m, nil
}

// hash returns the two independent hashes ristretto keys on.
func (m *Memory) hash(key []byte) (uint64, uint64) {
	return maphash.Bytes(m.seed1, key), maphash.Bytes(m.seed2, key)
}

// Get returns the object stored under key, fresh or stale. It does not
// retain key and makes no allocations.
func (m *Memory) Get(key []byte) (*Object, bool) {
	obj, ok := m.cache.Get(key)
	if !ok || obj == nil || obj.Key != string(key) {
		return nil, false
	}
	return obj, true
}

// Set stores obj under key (see Store.Set). It does not store obj, and
// removes what key held, when obj is larger than MaxObjectBytes or already
// past its freshness plus KeepStale. When the budget is full, ristretto's
// admission policy may decline a new object in favour of more popular ones.
// Set blocks until ristretto has applied the write.
func (m *Memory) Set(key []byte, obj *Object) {
	if obj == nil {
		return
	}
	m.life.RLock()
	defer m.life.RUnlock()
	if m.closed {
		return
	}
	if obj.Key == "" {
		obj.Key = string(key)
	} else if obj.Key != string(key) {
		cp := *obj
		cp.Key = string(key)
		obj = &cp
	}
	h, _ := m.hash(key)
	stripe := &m.setMu[h%uint64(len(m.setMu))]
	stripe.Lock()
	defer stripe.Unlock()
	m.setLocked(key, h, obj)
}

// setLocked is Set once obj.Key is key and h's stripe lock is held.
func (m *Memory) setLocked(key []byte, h uint64, obj *Object) {
	size := obj.Size()
	ttl, keep := m.retention(obj)
	if !keep || size > m.maxObjectBytes {
		m.drop(h, obj.Key, nil)
		return
	}
	sh := m.shard(h)
	sh.mu.Lock()
	old := sh.objs[h]
	if old != nil && old.Key != obj.Key {
		// Two keys with one 64-bit hash: keep the first, skip this one.
		sh.mu.Unlock()
		return
	}
	sh.objs[h] = obj
	m.bytes.Add(size)
	if old != nil {
		m.bytes.Add(-old.Size())
	}
	sh.mu.Unlock()

	if old != nil && size > old.Size() {
		// Ristretto updates a key's cost in place without evicting for the
		// difference; delete and re-admit so the budget holds.
		m.cache.Del(key)
	}
	if !m.cache.SetWithTTL(key, obj, size, ttl) {
		m.forget(h, obj) // dropped under contention
	}
	m.cache.Wait()
}

// retention returns the ristretto TTL for obj (0: no expiry) and whether obj
// is worth storing at all.
func (m *Memory) retention(obj *Object) (time.Duration, bool) {
	if m.keepStale < 0 {
		return 0, true
	}
	d := obj.Remaining(m.now()) + max(m.keepStale, obj.StaleWhileRevalidate, obj.StaleIfError)
	return d, d > 0
}

// forget removes obj from the index if it is still what the index holds for
// hash h: a newer object under the same key must survive the eviction or
// rejection of the older one.
func (m *Memory) forget(h uint64, obj *Object) {
	if obj == nil {
		return
	}
	sh := m.shard(h)
	sh.mu.Lock()
	if sh.objs[h] == obj {
		delete(sh.objs, h)
		m.bytes.Add(-obj.Size())
	}
	sh.mu.Unlock()
}

// drop removes the object under hash h with key from the index and from
// ristretto; when want is not nil, only if that is the object stored. The
// caller holds h's stripe lock. It reports whether it removed one.
func (m *Memory) drop(h uint64, key string, want *Object) bool {
	sh := m.shard(h)
	sh.mu.Lock()
	cur := sh.objs[h]
	ok := cur != nil && cur.Key == key && (want == nil || cur == want)
	if ok {
		delete(sh.objs, h)
		m.bytes.Add(-cur.Size())
	}
	sh.mu.Unlock()
	if ok {
		m.cache.Del([]byte(key))
	}
	return ok
}

// Delete removes the object stored under key, if there is one (see Store.Delete).
func (m *Memory) Delete(key []byte) bool {
	m.life.RLock()
	defer m.life.RUnlock()
	if m.closed {
		return false
	}
	h, _ := m.hash(key)
	stripe := &m.setMu[h%uint64(len(m.setMu))]
	stripe.Lock()
	defer stripe.Unlock()
	return m.drop(h, string(key), nil)
}

// Purge removes the objects p selects, or marks them stale when p.Soft (see
// softPurge), and returns how many (Store.Purge). An invalid pattern selects
// nothing.
func (m *Memory) Purge(p Purge) int {
	pat, err := p.Parse()
	if err != nil {
		return 0
	}
	if p.Soft {
		return m.softPurge(pat)
	}
	return m.purge(pat)
}

// purge removes the objects matching pat and returns how many it removed;
// Vary markers count as objects. Objects stored while it runs may survive it.
func (m *Memory) purge(pat PurgePattern) int {
	m.life.RLock()
	defer m.life.RUnlock()
	if m.closed {
		return 0
	}
	n := 0
	for _, v := range m.matching(pat) {
		stripe := &m.setMu[v.h%uint64(len(m.setMu))]
		stripe.Lock()
		if m.drop(v.h, v.obj.Key, v.obj) {
			n++
		}
		stripe.Unlock()
	}
	return n
}

// victim is an object a purge found, with its key hash.
type victim struct {
	h   uint64
	obj *Object
}

// matching returns the stored objects pat matches.
func (m *Memory) matching(pat PurgePattern) []victim {
	var victims []victim
	for i := range m.index {
		sh := &m.index[i]
		sh.mu.Lock()
		for h, obj := range sh.objs {
			if pat.Match(obj) {
				victims = append(victims, victim{h, obj})
			}
		}
		sh.mu.Unlock()
	}
	return victims
}

// softPurge marks the objects that match pat stale instead of removing them, and returns how
// many it marked: the next request for one revalidates it with the origin (a 304 costs no
// body), and its stale-while-revalidate and stale-if-error windows count from now. Vary
// markers are left alone. Objects stored while it runs may stay fresh.
func (m *Memory) softPurge(pat PurgePattern) int {
	m.life.RLock()
	defer m.life.RUnlock()
	if m.closed {
		return 0
	}
	now := m.now()
	n := 0
	for _, v := range m.matching(pat) {
		if v.obj.IsVaryMarker() || !v.obj.Fresh(now) {
			continue
		}
		stripe := &m.setMu[v.h%uint64(len(m.setMu))]
		stripe.Lock()
		sh := m.shard(v.h)
		sh.mu.Lock()
		current := sh.objs[v.h] == v.obj
		sh.mu.Unlock()
		if current {
			stale := *v.obj
			stale.TTL = v.obj.Age(now)
			m.setLocked([]byte(stale.Key), v.h, &stale)
			n++
		}
		stripe.Unlock()
	}
	return n
}

// Stats returns the number of stored objects and the sum of their sizes in
// bytes, for metrics. Writes in flight may be counted before ristretto has
// decided on them.
func (m *Memory) Stats() (objects int, bytes int64) {
	for i := range m.index {
		sh := &m.index[i]
		sh.mu.Lock()
		objects += len(sh.objs)
		sh.mu.Unlock()
	}
	return objects, m.bytes.Load()
}

// Evictions is how many objects the store has dropped by itself, to make room within its
// budget or once past their freshness and keep period, for metrics.
func (m *Memory) Evictions() uint64 { return m.evictions.Load() }

// Close empties the store and stops ristretto's goroutines. Later Set and
// Purge calls do nothing and Get misses; Close must not run concurrently
// with Get. Calling Close again does nothing.
func (m *Memory) Close() {
	m.life.Lock()
	defer m.life.Unlock()
	if m.closed {
		return
	}
	m.closed = true
	m.cache.Close()
	for i := range m.index {
		sh := &m.index[i]
		sh.mu.Lock()
		clear(sh.objs)
		sh.mu.Unlock()
	}
	m.bytes.Store(0)
}

// indexShards is how many shards the side index has.
const indexShards = 64

// indexShard is one shard of Memory.index.
type indexShard struct {
	mu   sync.Mutex
	objs map[uint64]*Object
}

// shard returns the index shard of key hash h.
func (m *Memory) shard(h uint64) *indexShard { return &m.index[h%indexShards] }
