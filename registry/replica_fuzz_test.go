package registry_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/vergecdn/verge/registry"
)

// FuzzMerge feeds hostile bytes to Merge: it must never panic, must refuse what it cannot
// decode or what is over the size bound, and must leave the store readable.
func FuzzMerge(f *testing.F) {
	a := newNodeF(f, "A")
	putCodeF(f, a, "fn", "exports.handler = async (e) => e;")
	if _, _, err := a.s.Publish("t", "fn", ""); err != nil {
		f.Fatal(err)
	}
	if _, err := a.s.PutAlias("t", "fn", "live", registry.AliasSpec{Version: 1}); err != nil {
		f.Fatal(err)
	}
	if err := a.s.DeleteAlias("t", "fn", "live"); err != nil {
		f.Fatal(err)
	}
	snap, err := a.r.Snapshot()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(snap)
	for _, d := range a.take() {
		f.Add(d)
	}
	f.Add([]byte("R\x01{\"versions\":[{\"function\":\"fn\",\"version\":-1}]}"))
	f.Add([]byte("R\x01{\"tombstones\":[{\"kind\":\"version\",\"key\":\"fn\"}]}"))
	f.Add([]byte("R\x01" + strings.Repeat("[", 5000)))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := newNode(t, "F", registry.Options{})
		err := n.r.Merge(data)
		if len(data) > 8<<20 && !errors.Is(err, registry.ErrTooLarge) {
			t.Fatalf("oversized state accepted: %v", err)
		}
		if err != nil && !errors.Is(err, registry.ErrInvalid) && !errors.Is(err, registry.ErrTooLarge) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		if _, err := n.s.Snapshot(); err != nil {
			t.Fatal(err)
		}
		if n.r.Digest() == nil {
			t.Fatal("no digest after merge")
		}
		if err == nil { // idempotent
			rev := n.s.Revision()
			if err := n.r.Merge(data); err != nil || n.s.Revision() != rev {
				t.Fatalf("second merge: %v, revision %d -> %d", err, rev, n.s.Revision())
			}
		}
	})
}

func TestMergeRefusesOversizedState(t *testing.T) {
	n := newNode(t, "A", registry.Options{})
	r := registry.NewReplica(n.s, registry.ReplicaOptions{MaxStateBytes: 100})
	defer r.Close()
	big := append([]byte("R\x01"), []byte(`{"node":"`+strings.Repeat("x", 200)+`"}`)...)
	if err := r.Merge(big); !errors.Is(err, registry.ErrTooLarge) {
		t.Fatalf("oversized: %v", err)
	}
}
