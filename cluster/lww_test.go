package cluster

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sync"
	"time"
)

// lwwState is a test State: a last-writer-wins map whose entries carry an HLC timestamp and the
// writer's node name as a tiebreak. Snapshots and deltas are the same JSON map.
type lwwState struct {
	node  string
	clock *HLC

	mu sync.Mutex
	m  map[string]lwwEntry
}

type lwwEntry struct {
	Value string    `json:"v"`
	TS    Timestamp `json:"t"`
	Node  string    `json:"n"`
}

var _ State = (*lwwState)(nil)

func newLWW(node string) *lwwState {
	return &lwwState{node: node, clock: NewHLC(nil, time.Minute), m: map[string]lwwEntry{}}
}

// newer reports whether a wins over b.
func (a lwwEntry) newer(b lwwEntry) bool {
	if c := a.TS.Compare(b.TS); c != 0 {
		return c > 0
	}
	return a.Node > b.Node
}

// Set writes key locally and returns the delta to broadcast.
func (s *lwwState) Set(key, value string) []byte {
	e := lwwEntry{Value: value, TS: s.clock.Now(), Node: s.node}
	s.mu.Lock()
	s.m[key] = e
	s.mu.Unlock()
	b, _ := json.Marshal(map[string]lwwEntry{key: e})
	return b
}

func (s *lwwState) Get(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	return e.Value, ok
}

func (s *lwwState) Digest() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := sha256.New()
	for _, k := range keys {
		e := s.m[k]
		fmt.Fprintf(h, "%q=%q@%d.%d/%q;", k, e.Value, e.TS.Wall, e.TS.Logical, e.Node)
	}
	return h.Sum(nil)
}

func (s *lwwState) Snapshot() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return json.Marshal(s.m)
}

func (s *lwwState) Merge(data []byte) error {
	var in map[string]lwwEntry
	if err := json.Unmarshal(data, &in); err != nil {
		return fmt.Errorf("lww: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, e := range in {
		if old, ok := s.m[k]; !ok || e.newer(old) {
			s.m[k] = e
			_, _ = s.clock.Update(e.TS)
		}
	}
	return nil
}

// memBlobs is a test Blobs in memory.
type memBlobs struct {
	mu sync.Mutex
	m  map[[32]byte][]byte
}

var _ Blobs = (*memBlobs)(nil)

func newMemBlobs() *memBlobs { return &memBlobs{m: map[[32]byte][]byte{}} }

func (b *memBlobs) Has(sum [32]byte) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.m[sum]
	return ok
}

func (b *memBlobs) Open(sum [32]byte) (io.ReadCloser, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	data, ok := b.m[sum]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

func (b *memBlobs) Put(sum [32]byte, r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if sha256.Sum256(data) != sum {
		return fmt.Errorf("memBlobs: %w", ErrHashMismatch)
	}
	b.mu.Lock()
	b.m[sum] = data
	b.mu.Unlock()
	return nil
}

// putUnchecked stores data under any sum (a corrupt or malicious peer).
func (b *memBlobs) putUnchecked(sum [32]byte, data []byte) {
	b.mu.Lock()
	b.m[sum] = data
	b.mu.Unlock()
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
