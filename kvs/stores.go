package kvs

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Stores is a node's KeyValueStores, persisted in <dir>/kvs.db. Writes are durable when they
// return and are visible to functions at their next read. It is safe for concurrent use.
type Stores struct {
	db  *bolt.DB
	mu  sync.Mutex // serialises writes, so a snapshot and its transaction agree
	now func() time.Time

	lmu  sync.Mutex
	live map[string]*atomic.Pointer[Snapshot] // by name; nil pointer while the store does not exist
}

var (
	bucketStores = []byte("stores")
	keyMeta      = []byte("meta")
	bucketData   = []byte("data")
)

type meta struct {
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// Open opens (creating if needed) the stores in dir and loads them.
func Open(dir string) (*Stores, error) {
	db, err := bolt.Open(filepath.Join(dir, "kvs.db"), 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("kvs: open: %w", err)
	}
	s := &Stores{db: db, now: func() time.Time { return time.Now().UTC() }, live: map[string]*atomic.Pointer[Snapshot]{}}
	err = db.Update(func(tx *bolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists(bucketStores)
		if err != nil {
			return err
		}
		return root.ForEachBucket(func(name []byte) error {
			snap, err := load(root.Bucket(name), string(name))
			if err != nil {
				return err
			}
			s.slot(snap.Name).Store(snap)
			return nil
		})
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("kvs: load: %w", err)
	}
	return s, nil
}

func load(b *bolt.Bucket, name string) (*Snapshot, error) {
	var m meta
	if err := json.Unmarshal(b.Get(keyMeta), &m); err != nil {
		return nil, fmt.Errorf("store %s: meta: %w", name, err)
	}
	snap := &Snapshot{Name: name, Created: m.Created, Updated: m.Updated, Data: map[string]string{}}
	if d := b.Bucket(bucketData); d != nil {
		if err := d.ForEach(func(k, v []byte) error { snap.Data[string(k)] = string(v); return nil }); err != nil {
			return nil, err
		}
	}
	return snap, nil
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
	if s.slot(name).Load() != nil {
		return Info{}, fmt.Errorf("kvs: store %q: %w", name, ErrExists)
	}
	now := s.now()
	snap, err := (&Snapshot{Name: name, Created: now}).with(data, nil, now)
	if err != nil {
		return Info{}, err
	}
	return snap.Info(), s.commit(snap, data, nil)
}

// Import puts every item of data into store name, creating the store if needed: CloudFront's
// import, also usable as a bulk update. Nothing is written if any item or the result breaks a
// limit.
func (s *Stores) Import(name string, data map[string]string) (Info, error) {
	if _, err := s.Snapshot(name); errors.Is(err, ErrNotFound) {
		if info, err := s.Create(name, data); !errors.Is(err, ErrExists) {
			return info, err
		}
	}
	return s.update(name, data, nil)
}

// Put sets key to value in store name.
func (s *Stores) Put(name, key, value string) (Info, error) {
	return s.update(name, map[string]string{key: value}, nil)
}

// Delete removes key from store name. ErrNotFound if the key is missing.
func (s *Stores) Delete(name, key string) (Info, error) {
	snap, err := s.Snapshot(name)
	if err != nil {
		return Info{}, err
	}
	if _, ok := snap.Get(key); !ok {
		return Info{}, fmt.Errorf("kvs: store %s: key %q: %w", name, key, ErrNotFound)
	}
	return s.update(name, nil, []string{key})
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

func (s *Stores) update(name string, put map[string]string, del []string) (Info, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.slot(name).Load()
	if cur == nil {
		return Info{}, fmt.Errorf("kvs: store %q: %w", name, ErrNotFound)
	}
	snap, err := cur.with(put, del, s.now())
	if err != nil {
		return Info{}, err
	}
	return snap.Info(), s.commit(snap, put, del)
}

// commit writes the change durably, then publishes snap. The caller holds s.mu.
func (s *Stores) commit(snap *Snapshot, put map[string]string, del []string) error {
	m, err := json.Marshal(meta{Created: snap.Created, Updated: snap.Updated})
	if err != nil {
		return fmt.Errorf("kvs: %w", err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bucketStores).CreateBucketIfNotExists([]byte(snap.Name))
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
		for _, k := range del {
			if err := d.Delete([]byte(k)); err != nil {
				return err
			}
		}
		for k, v := range put {
			if err := d.Put([]byte(k), []byte(v)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("kvs: store %s: %w", snap.Name, err)
	}
	s.slot(snap.Name).Store(snap)
	return nil
}
