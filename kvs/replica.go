package kvs

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/vergecdn/verge/cluster"
)

// Replication: a fleet's stores converge by last-writer-wins per key. Every write carries
// its clock stamp (the HLC the node shares with its registry) and node; a merge keeps, for
// each key, the write with the greater stamp, deletions included (tombstones), and a store
// exists once any node created it (the earliest creation time wins). Merging is commutative,
// associative and idempotent, as cluster.State requires. A merge applies remote writes even
// when they take a store past a limit: refusing some would leave the fleet diverged; the
// limits hold for every write a node accepts.
//
// The wire format is wireMagic, wireVersion, then JSON (wireState): the whole state for a
// snapshot, one key for a delta.

const (
	wireMagic   = 'K'
	wireVersion = 1
	// maxWire bounds a remote state: the stores' limits, with room for tombstones and JSON.
	maxWire = 64 << 20
)

// IsWire reports whether b is in this package's replication format (and not another
// State's sharing the cluster with it).
func IsWire(b []byte) bool { return len(b) >= 2 && b[0] == wireMagic && b[1] == wireVersion }

type wireState struct {
	Node   string      `json:"node"`
	Stores []wireStore `json:"stores"`
}

type wireStore struct {
	Name    string          `json:"name"`
	Created time.Time       `json:"created"`
	Items   map[string]item `json:"items,omitempty"`
}

func encodeWire(w wireState) ([]byte, error) {
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("kvs: encode: %w", err)
	}
	return append([]byte{wireMagic, wireVersion}, b...), nil
}

// Replica is the stores' side of the cluster seam: a cluster.State (digest, snapshot,
// merge), and the sender of deltas of local writes.
type Replica struct{ s *Stores }

var _ cluster.State = (*Replica)(nil)

// Replica returns s's replication view.
func (s *Stores) Replica() *Replica { return &Replica{s: s} }

// SetBroadcast sets where deltas of local writes go ((*cluster.Cluster).Broadcast, through
// the node's combined State). fn must not block. nil stops broadcasting.
func (r *Replica) SetBroadcast(fn func(name string, delta []byte) error) { r.s.broadcast.Store(&fn) }

// broadcastChange sends one delta per changed key, named for it so that a newer write of the
// key replaces an older delta still queued. The caller holds s.mu.
func (s *Stores) broadcastChange(name string, created time.Time, changed map[string]item) {
	bp := s.broadcast.Load()
	if bp == nil || *bp == nil {
		return
	}
	if len(changed) == 0 { // a new empty store
		if b, err := encodeWire(wireState{Node: s.node, Stores: []wireStore{{Name: name, Created: created}}}); err == nil {
			_ = (*bp)("kv/"+name, b)
		}
	}
	for k, it := range changed {
		b, err := encodeWire(wireState{Node: s.node, Stores: []wireStore{{Name: name, Created: created, Items: map[string]item{k: it}}}})
		if err != nil {
			continue
		}
		n := "kv/" + name + "/" + k
		if len(n) > 200 {
			h := sha256.Sum256([]byte(n))
			n = fmt.Sprintf("kv/%x", h)
		}
		_ = (*bp)(n, b)
	}
}

// Empty reports whether there is no store, so that a node without stores replicates exactly
// as before stores existed.
func (r *Replica) Empty() bool {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.stores) == 0
}

// Digest is the sha256 of the replicated state (every store's creation and every key's last
// write), cached until the next change.
func (r *Replica) Digest() []byte {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.digest == nil {
		h := sha256.New()
		for _, n := range slices.Sorted(maps.Keys(s.stores)) {
			st := s.stores[n]
			fmt.Fprintf(h, "%q %d\n", n, st.created.UnixNano())
			for _, k := range slices.Sorted(maps.Keys(st.items)) {
				it := st.items[k]
				fmt.Fprintf(h, "%q %q %t %d %d %q\n", k, it.Value, it.Deleted, it.Wall, it.Logical, it.Node)
			}
		}
		s.digest = h.Sum(nil)
	}
	return s.digest
}

// Snapshot encodes every store, tombstones included.
func (r *Replica) Snapshot() ([]byte, error) {
	s := r.s
	s.mu.Lock()
	w := wireState{Node: s.node}
	for n, st := range s.stores {
		w.Stores = append(w.Stores, wireStore{Name: n, Created: st.created, Items: st.items})
	}
	b, err := encodeWire(w)
	s.mu.Unlock()
	return b, err
}

// Merge applies a remote snapshot or delta. Malformed data is refused whole (ErrInvalid).
func (r *Replica) Merge(data []byte) error {
	s := r.s
	if !IsWire(data) {
		return fmt.Errorf("kvs: remote state: unknown format: %w", ErrInvalid)
	}
	if len(data) > maxWire {
		return fmt.Errorf("kvs: remote state of %d bytes: %w", len(data), ErrTooLarge)
	}
	var w wireState
	if err := json.Unmarshal(data[2:], &w); err != nil {
		return fmt.Errorf("kvs: remote state: %v: %w", err, ErrInvalid)
	}
	for _, ws := range w.Stores {
		if !ValidName(ws.Name) || ws.Created.IsZero() {
			return fmt.Errorf("kvs: remote state: store %q: %w", ws.Name, ErrInvalid)
		}
		for k, it := range ws.Items {
			if k == "" || it.Node == "" || it.Wall <= 0 || (!it.Deleted && CheckItem(k, it.Value) != nil) {
				return fmt.Errorf("kvs: remote state: store %s: key %q: %w", ws.Name, k, ErrInvalid)
			}
		}
	}
	now := time.Now()
	limit, expired := now.Add(s.skew).UnixNano(), now.Add(-s.ttl).UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ws := range w.Stores {
		st := s.stores[ws.Name]
		isNew := st == nil
		if isNew {
			st = &store{created: ws.Created, items: map[string]item{}}
		}
		created := st.created
		if ws.Created.Before(created) {
			created = ws.Created
		}
		changed := map[string]item{}
		for k, it := range ws.Items {
			if it.Wall > limit {
				continue // stamped too far ahead: merged once the local clock catches up
			}
			cur, ok := st.items[k]
			if !ok && it.Deleted && it.Wall < expired {
				continue // an expired tombstone of a key this node never had
			}
			if !ok || it.newer(cur) {
				changed[k] = it
				_, _ = s.clock.Update(cluster.Timestamp{Wall: it.Wall, Logical: it.Logical})
			}
		}
		if !isNew && len(changed) == 0 && created.Equal(st.created) {
			continue
		}
		if err := s.commit(ws.Name, created, changed); err != nil {
			return err
		}
		st.created = created
		for k, it := range changed {
			st.items[k] = it
		}
		s.stores[ws.Name] = st
		s.digest = nil
		s.slot(ws.Name).Store(st.snapshot(ws.Name))
	}
	return nil
}
