package main

import (
	"maps"
	"testing"
	"time"

	"github.com/vergecdn/verge/kvs"
)

// TestFleetReplicatesKVS checks that KeyValueStores replicate across a real memberlist fleet
// with the registry: a store created and written on one node reaches the others, a write and
// a delete of one key made on two nodes settle on the same last writer everywhere, and a node
// that joins later catches up from a snapshot; the registry keeps replicating alongside.
func TestFleetReplicatesKVS(t *testing.T) {
	lcA, flA, _ := startFleetNode(t, fleetConfig{Gossip: "127.0.0.1:0"})
	lcB, _, _ := startFleetNode(t, fleetConfig{Gossip: "127.0.0.1:0", Seeds: []string{flA.c.Addr()}})
	if _, err := lcA.kvs.Create("site", map[string]string{"greeting": "hello", "gone": "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := lcA.kvs.Put("site", "color", "blue"); err != nil {
		t.Fatal(err)
	}
	waitStore(t, lcB.kvs, "site", map[string]string{"greeting": "hello", "gone": "x", "color": "blue"})

	// Concurrent writers: B overwrites a key A wrote, A deletes another; later writes win.
	if _, err := lcB.kvs.Put("site", "greeting", "bonjour"); err != nil {
		t.Fatal(err)
	}
	if _, err := lcA.kvs.Delete("site", "gone"); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"greeting": "bonjour", "color": "blue"}
	waitStore(t, lcA.kvs, "site", want)
	waitStore(t, lcB.kvs, "site", want)

	// A late joiner catches up, and a registry write still replicates with stores present.
	lcC, _, _ := startFleetNode(t, fleetConfig{Gossip: "127.0.0.1:0", Seeds: []string{flA.c.Addr()}})
	waitStore(t, lcC.kvs, "site", want)
	if _, err := lcC.kvs.Import("other", map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	waitStore(t, lcA.kvs, "other", map[string]string{"k": "v"})
	waitDigest(t, lcA.kvs, lcC.kvs)
}

func waitStore(t *testing.T, s *kvs.Stores, name string, want map[string]string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		snap, err := s.Snapshot(name)
		if err == nil && maps.Equal(snap.Data, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("store %s: %+v (%v), want %v", name, snap, err, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitDigest(t *testing.T, a, b *kvs.Stores) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for string(a.Replica().Digest()) != string(b.Replica().Digest()) {
		if time.Now().After(deadline) {
			t.Fatal("digests never agreed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
