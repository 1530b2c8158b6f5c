package kvs

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vergecdn/verge/cluster"
)

// Options configure Stores. Every field is optional.
type Options struct {
	// Node names this node in write stamps (the registry's node id). Default "local".
	Node string
	// Clock stamps writes; a fleet passes the HLC its registry uses. Default: a new HLC.
	Clock Clock
	// MaxClockSkew: remote writes stamped further ahead of the local wall clock are left out
	// of a merge until the clock catches up (a node with a clock far ahead would otherwise win
	// every key). Default 1 minute, as the registry's.
	MaxClockSkew time.Duration
	// TombstoneTTL is how long a deleted key's tombstone is kept; older ones are dropped when
	// the stores are opened. It must exceed the longest partition the fleet should heal from.
	// Default 30 days, as the registry's.
	TombstoneTTL time.Duration
}

// Stores is a node's KeyValueStores, persisted in <dir>/kvs.db. Writes are durable when they
// return and are visible to functions at their next read. Every key keeps its last write's
// stamp (a deletion as a tombstone), so that a fleet's stores merge by last-writer-wins per
// key (replica.go). It is safe for concurrent use.
type Stores struct {
	db    *bolt.DB
	node  string
	clock Clock
	skew  time.Duration
	ttl   time.Duration // tombstones older than this are dropped (at Open, and from merges)

	mu     sync.Mutex        // serialises writes and merges
	stores map[string]*store // under mu
	digest []byte            // of the replicated state, nil when stale (under mu)

	lmu  sync.Mutex
	live map[string]*atomic.Pointer[Snapshot] // by name; nil pointer while the store does not exist

	broadcast atomic.Pointer[func(name string, delta []byte) error] // replica.go
}

var (
	bucketStores = []byte("stores")
	keyMeta      = []byte("meta")
	bucketData   = []byte("data")
)

type meta struct {
	Created time.Time `json:"created"`
}

// Open opens (creating if needed) the stores in dir and loads them.
func Open(dir string, o Options) (*Stores, error) {
	if o.Node == "" {
		o.Node = "local"
	}
	if o.Clock == nil {
		o.Clock = cluster.NewHLC(nil, 0)
	}
	if o.MaxClockSkew <= 0 {
		o.MaxClockSkew = time.Minute
	}
	if o.TombstoneTTL <= 0 {
		o.TombstoneTTL = 30 * 24 * time.Hour
	}
	cutoff := time.Now().Add(-o.TombstoneTTL).UnixNano()
	db, err := bolt.Open(filepath.Join(dir, "kvs.db"), 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("kvs: open: %w", err)
	}
	s := &Stores{db: db, node: o.Node, clock: o.Clock, skew: o.MaxClockSkew, ttl: o.TombstoneTTL, stores: map[string]*store{}, live: map[string]*atomic.Pointer[Snapshot]{}}
	err = db.Update(func(tx *bolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists(bucketStores)
		if err != nil {
			return err
		}
		return root.ForEachBucket(func(name []byte) error {
			st, err := load(root.Bucket(name), string(name), cutoff)
			if err != nil {
				return err
			}
			s.stores[string(name)] = st
			s.slot(string(name)).Store(st.snapshot(string(name)))
			return nil
		})
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("kvs: load: %w", err)
	}
	return s, nil
}

// load reads a store, dropping tombstones stamped before cutoff (Unix nanoseconds).
func load(b *bolt.Bucket, name string, cutoff int64) (*store, error) {
	var m meta
	if err := json.Unmarshal(b.Get(keyMeta), &m); err != nil {
		return nil, fmt.Errorf("store %s: meta: %w", name, err)
	}
	st := &store{created: m.Created, items: map[string]item{}}
	if d := b.Bucket(bucketData); d != nil {
		var expired [][]byte
		err := d.ForEach(func(k, v []byte) error {
			var it item
			if err := json.Unmarshal(v, &it); err != nil {
				return fmt.Errorf("store %s: key %q: %w", name, k, err)
			}
			if it.Deleted && it.Wall < cutoff {
				expired = append(expired, k)
				return nil
			}
			st.items[string(k)] = it
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, k := range expired {
			if err := d.Delete(k); err != nil {
				return nil, err
			}
		}
	}
	return st, nil
}

// Close closes the database.
func (s *Stores) Close() error { return s.db.Close() }

func (s *Stores) slot(name string) *atomic.Pointer[Snapshot] {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	p := s.live[name]
	if p == nil {
		p = new(atomic.Pointer[Snapshot])
		s.live[name] = p
	}
	return p
}

// Source returns a function that reads store name's current snapshot (nil while the store
// does not exist): what a function associated with the store reads at each access.
func (s *Stores) Source(name string) func() *Snapshot {
	return s.slot(name).Load
}

// Snapshot returns store name's current contents.
func (s *Stores) Snapshot(name string) (*Snapshot, error) {
	if snap := s.slot(name).Load(); snap != nil {
		return snap, nil
	}
	return nil, fmt.Errorf("kvs: store %q: %w", name, ErrNotFound)
}

// Create makes a new store holding data (which may be empty). ErrExists if it exists.
func (s *Stores) Create(name string, data map[string]string) (Info, error) {
	if !ValidName(name) {
		return Info{}, fmt.Errorf("kvs: %w: store name %q: want 1-64 letters, digits, '-' or '_'", ErrInvalid, name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stores[name] != nil {
		return Info{}, fmt.Errorf("kvs: store %q: %w", name, ErrExists)
	}
	return s.write(name, &store{items: map[string]item{}}, data, nil)
}

// Import puts every item of data into store name, creating the store if needed: CloudFront's
// import, also usable as a bulk update. Nothing is written if any item or the result breaks a
// limit.
func (s *Stores) Import(name string, data map[string]string) (Info, error) {
	if !ValidName(name) {
		return Info{}, fmt.Errorf("kvs: %w: store name %q: want 1-64 letters, digits, '-' or '_'", ErrInvalid, name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stores[name]
	if st == nil {
		st = &store{items: map[string]item{}}
	}
	return s.write(name, st, data, nil)
}

// Put sets key to value in store name.
func (s *Stores) Put(name, key, value string) (Info, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stores[name]
	if st == nil {
		return Info{}, fmt.Errorf("kvs: store %q: %w", name, ErrNotFound)
	}
	return s.write(name, st, map[string]string{key: value}, nil)
}

// Delete removes key from store name. ErrNotFound if the key is missing.
func (s *Stores) Delete(name, key string) (Info, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stores[name]
	if st == nil {
		return Info{}, fmt.Errorf("kvs: store %q: %w", name, ErrNotFound)
	}
	if it, ok := st.items[key]; !ok || it.Deleted {
		return Info{}, fmt.Errorf("kvs: store %s: key %q: %w", name, key, ErrNotFound)
	}
	return s.write(name, st, nil, []string{key})
}

// Get returns one value. ErrNotFound if the store or the key is missing.
func (s *Stores) Get(name, key string) (string, error) {
	snap, err := s.Snapshot(name)
	if err != nil {
		return "", err
	}
	v, ok := snap.Get(key)
	if !ok {
		return "", fmt.Errorf("kvs: store %s: key %q: %w", name, key, ErrNotFound)
	}
	return v, nil
}

// Describe returns store name's description.
func (s *Stores) Describe(name string) (Info, error) {
	snap, err := s.Snapshot(name)
	if err != nil {
		return Info{}, err
	}
	return snap.Info(), nil
}

// List describes every store, by name.
func (s *Stores) List() []Info {
	s.lmu.Lock()
	var out []Info
	for _, p := range s.live {
		if snap := p.Load(); snap != nil {
			out = append(out, snap.Info())
		}
	}
	s.lmu.Unlock()
	slices.SortFunc(out, func(a, b Info) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// write applies a local change to st (a new store when not yet in s.stores): puts and
// deletions stamped with one clock reading, checked against the limits, persisted, then
// published and broadcast. The caller holds s.mu.
func (s *Stores) write(name string, st *store, put map[string]string, del []string) (Info, error) {
	ts := s.clock.Now()
	now := time.Unix(0, ts.Wall).UTC()
	cur := st.snapshot(name)
	if st.created.IsZero() {
		cur.Created = now
	}
	next, err := cur.with(put, del, now)
	if err != nil {
		return Info{}, err
	}
	changed := map[string]item{}
	for k, v := range put {
		changed[k] = item{Value: v, Wall: ts.Wall, Logical: ts.Logical, Node: s.node}
	}
	for _, k := range del {
		changed[k] = item{Deleted: true, Wall: ts.Wall, Logical: ts.Logical, Node: s.node}
	}
	created := st.created
	if created.IsZero() {
		created = now
	}
	if err := s.commit(name, created, changed); err != nil {
		return Info{}, err
	}
	st.created = created
	for k, it := range changed {
		st.items[k] = it
	}
	s.stores[name] = st
	s.digest = nil
	s.slot(name).Store(next)
	s.broadcastChange(name, created, changed)
	return next.Info(), nil
}

// commit writes a store's creation and changed items durably.
func (s *Stores) commit(name string, created time.Time, changed map[string]item) error {
	m, err := json.Marshal(meta{Created: created})
	if err != nil {
		return fmt.Errorf("kvs: %w", err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bucketStores).CreateBucketIfNotExists([]byte(name))
		if err != nil {
			return err
		}
		if err := b.Put(keyMeta, m); err != nil {
			return err
		}
		d, err := b.CreateBucketIfNotExists(bucketData)
		if err != nil {
			return err
		}
		for k, it := range changed {
			v, err := json.Marshal(it)
			if err != nil {
				return err
			}
			if err := d.Put([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("kvs: store %s: %w", name, err)
	}
	return nil
}
