package registry_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/vergecdn/verge/registry"
)

// clock is a settable wall clock for a test node.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// node is one registry of an in-memory fleet: deltas it broadcasts land in out.
type node struct {
	name string
	s    *registry.Store
	r    *registry.Replica
	clk  *clock

	mu  sync.Mutex
	out [][]byte
}

func newNodeF(f *testing.F, name string) *node {
	return newNode(f, name, registry.Options{})
}

func putCodeF(f *testing.F, n *node, fn, src string) {
	if _, err := n.s.PutCode("t", fn, registry.Upload{Package: []byte(src)}); err != nil {
		f.Fatal(err)
	}
}

func newNode(t testing.TB, name string, o registry.Options) *node {
	t.Helper()
	n := &node{name: name, clk: &clock{t: t0}}
	o.Dir, o.NodeID = t.TempDir(), name
	if o.Now == nil {
		o.Now = n.clk.Now
	}
	s, err := registry.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	n.s = s
	n.r = registry.NewReplica(s, registry.ReplicaOptions{FetchBackoff: 5 * time.Millisecond, MaxFetchBackoff: 50 * time.Millisecond})
	n.r.SetBroadcast(func(_ string, delta []byte) error {
		n.mu.Lock()
		n.out = append(n.out, bytes.Clone(delta))
		n.mu.Unlock()
		return nil
	})
	t.Cleanup(func() { n.r.Close(); s.Close() })
	return n
}

// take returns and clears the deltas n broadcast.
func (n *node) take() [][]byte {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := n.out
	n.out = nil
	return out
}

// fetchFrom makes n fetch missing blobs from peers, as cluster.FetchBlob does.
func (n *node) fetchFrom(peers ...*node) {
	n.r.SetFetch(func(_ context.Context, sum [32]byte) error {
		for _, p := range peers {
			rc, err := p.r.Open(sum)
			if err != nil {
				continue
			}
			defer rc.Close()
			return n.r.Put(sum, rc)
		}
		return registry.ErrNotFound
	})
	n.r.Start()
}

func (n *node) merge(t *testing.T, msgs ...[]byte) {
	t.Helper()
	for _, m := range msgs {
		if err := n.r.Merge(m); err != nil {
			t.Fatalf("%s: merge: %v", n.name, err)
		}
	}
}

func (n *node) snapshot(t *testing.T) []byte {
	t.Helper()
	b, err := n.r.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// deliverShuffled gives every node every message (its own included: idempotence) in its
// own random order.
func deliverShuffled(t *testing.T, rng *rand.Rand, msgs [][]byte, nodes ...*node) {
	t.Helper()
	for _, n := range nodes {
		m := append([][]byte(nil), msgs...)
		rng.Shuffle(len(m), func(i, j int) { m[i], m[j] = m[j], m[i] })
		n.merge(t, m...)
	}
}

// converged fails unless every node has the same digest.
func converged(t *testing.T, nodes ...*node) {
	t.Helper()
	d0 := nodes[0].r.Digest()
	for _, n := range nodes[1:] {
		if d := n.r.Digest(); !bytes.Equal(d, d0) {
			t.Fatalf("digest of %s %s != %s of %s\n%s\n%s", n.name, hex.EncodeToString(d), hex.EncodeToString(d0), nodes[0].name,
				nodes[0].snapshot(t), n.snapshot(t))
		}
	}
}

func state(t *testing.T, n *node) *registry.State {
	t.Helper()
	st, err := n.s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func putCode(t *testing.T, n *node, fn, src string) {
	t.Helper()
	if _, err := n.s.PutCode("t", fn, registry.Upload{Package: []byte(src)}); err != nil {
		t.Fatal(err)
	}
}

func publish(t *testing.T, n *node, fn string) registry.Version {
	t.Helper()
	v, _, err := n.s.Publish("t", fn, "")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func src(tag string) string {
	return "exports.handler = async (e) => { /* " + tag + " */ return e.Records[0].cf.request; };"
}

var eof = io.EOF
