package edge

import (
	"sync"
	"time"
)

// passMemo remembers, for a short while, cache keys whose last response could not be stored
// (Varnish's "hit-for-pass"). Misses on such keys go straight to the origin instead of queueing
// behind one another in the collapser only to fetch one by one afterwards. Safe for concurrent
// use; bounded: when full it forgets everything, which costs at most one collapsed wave per key.
type passMemo struct {
	mu   sync.Mutex
	keys map[string]time.Time // key → until
}

const (
	passFor      = 10 * time.Second
	passMemoSize = 10000
)

func (m *passMemo) remember(key []byte, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys == nil || len(m.keys) >= passMemoSize {
		m.keys = make(map[string]time.Time)
	}
	m.keys[string(key)] = now.Add(passFor)
}

func (m *passMemo) forget(key []byte) {
	m.mu.Lock()
	delete(m.keys, string(key))
	m.mu.Unlock()
}

// pass reports whether misses on key should skip collapsing now.
func (m *passMemo) pass(key []byte, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	until, ok := m.keys[string(key)]
	return ok && now.Before(until)
}
