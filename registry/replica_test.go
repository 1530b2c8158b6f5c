package registry_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/vergecdn/verge/internal/poll"
	"github.com/vergecdn/verge/registry"
)

// fleet3 returns three nodes A, B, C.
func fleet3(t *testing.T, o registry.Options) (a, b, c *node) {
	return newNode(t, "A", o), newNode(t, "B", o), newNode(t, "C", o)
}

func TestPublishOnAReachesBAndC(t *testing.T) {
	a, b, c := fleet3(t, registry.Options{})
	putCode(t, a, "hello", src("v1"))
	v := publish(t, a, "hello")
	if _, err := a.s.Associate("t", registry.Association{Behavior: "*", Event: "viewer-request", Function: "hello", Qualifier: "1"}); err != nil {
		t.Fatal(err)
	}
	msgs := a.take()
	if len(msgs) == 0 {
		t.Fatal("no delta broadcast")
	}
	deliverShuffled(t, rand.New(rand.NewPCG(1, 2)), msgs, b, c)
	converged(t, a, b, c)
	for _, n := range []*node{b, c} {
		st := state(t, n)
		got := st.Versions["hello"][1]
		if got.Code.SHA256 != v.Code.SHA256 || got.Node != "A" {
			t.Fatalf("%s: version 1 = %+v", n.name, got)
		}
		r, err := st.ResolveAssociation(st.Associations[0])
		if err != nil {
			t.Fatal(err)
		}
		// The code has not arrived: the target is recorded but not runnable.
		if err := n.s.Runnable(r.Primary); !errors.Is(err, registry.ErrNotReady) {
			t.Fatalf("%s: runnable without its blob: %v", n.name, err)
		}
		n.fetchFrom(a)
		poll.Until(t, 5*time.Second, "blob fetched on "+n.name, func() bool { return n.s.Runnable(r.Primary) == nil })
		if _, err := n.s.Source(r.Primary.Code); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConcurrentAliasUpdatesConverge(t *testing.T) {
	for seed := uint64(0); seed < 8; seed++ {
		a, b, c := fleet3(t, registry.Options{})
		putCode(t, a, "fn", src("1"))
		publish(t, a, "fn")
		putCode(t, a, "fn", src("2"))
		publish(t, a, "fn")
		deliverShuffled(t, rand.New(rand.NewPCG(seed, 0)), a.take(), b, c)
		// Concurrent: neither has seen the other's write; B's clock is ahead.
		b.clk.Set(t0.Add(time.Second))
		if _, err := a.s.PutAlias("t", "fn", "live", registry.AliasSpec{Version: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.s.PutAlias("t", "fn", "live", registry.AliasSpec{Version: 2}); err != nil {
			t.Fatal(err)
		}
		msgs := append(a.take(), b.take()...)
		deliverShuffled(t, rand.New(rand.NewPCG(seed, 1)), msgs, a, b, c)
		converged(t, a, b, c)
		for _, n := range []*node{a, b, c} {
			if got := state(t, n).Aliases["fn"]["live"].Version; got != 2 {
				t.Fatalf("seed %d: %s: live -> %d, want 2 (the later write)", seed, n.name, got)
			}
		}
	}
}

// TestConcurrentPublishSameNumber: A and B both publish fn:2 before hearing of each other.
// The rule: the version with the smaller (HLC, node) keeps the number everywhere; the other
// is kept, shadowed, and what was pinned to it (B's association) keeps running B's code.
func TestConcurrentPublishSameNumber(t *testing.T) {
	for seed := uint64(0); seed < 8; seed++ {
		a, b, c := fleet3(t, registry.Options{})
		putCode(t, a, "fn", src("base"))
		publish(t, a, "fn")
		deliverShuffled(t, rand.New(rand.NewPCG(seed, 0)), a.take(), b, c)
		b.clk.Set(t0.Add(time.Second))
		putCode(t, a, "fn", src("from A"))
		va := publish(t, a, "fn")
		putCode(t, b, "fn", src("from B"))
		vb := publish(t, b, "fn")
		if va.Number != 2 || vb.Number != 2 {
			t.Fatalf("numbers %d %d", va.Number, vb.Number)
		}
		if _, err := b.s.Associate("t", registry.Association{Behavior: "*", Event: "viewer-request", Function: "fn", Qualifier: "2"}); err != nil {
			t.Fatal(err)
		}
		msgs := append(a.take(), b.take()...)
		deliverShuffled(t, rand.New(rand.NewPCG(seed, 1)), msgs, a, b, c)
		converged(t, a, b, c)
		for _, n := range []*node{a, b, c} {
			st := state(t, n)
			if w := st.Versions["fn"][2]; w.Node != "A" || w.Code.SHA256 != va.Code.SHA256 {
				t.Fatalf("%s: fn:2 is %+v, want A's (older publish)", n.name, w)
			}
			if sh := st.Shadowed["fn"]; len(sh) != 1 || sh[0].Node != "B" || sh[0].Code.SHA256 != vb.Code.SHA256 {
				t.Fatalf("%s: shadowed %+v", n.name, sh)
			}
			r, err := st.ResolveAssociation(st.Associations[0])
			if err != nil || r.Primary.Code.SHA256 != vb.Code.SHA256 {
				t.Fatalf("%s: B's association now runs %+v (%v), want B's code", n.name, r.Primary, err)
			}
			if f := st.Functions["fn"]; f.LastVersion != 2 {
				t.Fatalf("%s: last version %d", n.name, f.LastVersion)
			}
		}
		if v := publishAfter(t, a, "fn", "next"); v.Number != 3 {
			t.Fatalf("next publish got %d, want 3", v.Number)
		}
	}
}

func publishAfter(t *testing.T, n *node, fn, tag string) registry.Version {
	putCode(t, n, fn, src(tag))
	return publish(t, n, fn)
}

// TestDeleteVersusWrite: a deletion beats an older write and loses to a newer one,
// whatever the order the messages arrive in.
func TestDeleteVersusWrite(t *testing.T) {
	tests := []struct {
		name       string
		deleteAt   time.Duration // B deletes alias "live" at t0+deleteAt
		writeAt    time.Duration // A moves alias "live" at t0+writeAt
		wantAlive  bool
		wantTarget int
	}{
		{"delete newer than write", 20 * time.Second, 10 * time.Second, false, 0},
		{"write newer than delete", 10 * time.Second, 20 * time.Second, true, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for seed := uint64(0); seed < 4; seed++ {
				a, b, c := fleet3(t, registry.Options{})
				putCode(t, a, "fn", src("1"))
				publish(t, a, "fn")
				publishAfter(t, a, "fn", "2")
				if _, err := a.s.PutAlias("t", "fn", "live", registry.AliasSpec{Version: 1}); err != nil {
					t.Fatal(err)
				}
				deliverShuffled(t, rand.New(rand.NewPCG(seed, 0)), a.take(), b, c)
				a.clk.Set(t0.Add(tc.writeAt))
				b.clk.Set(t0.Add(tc.deleteAt))
				if _, err := a.s.PutAlias("t", "fn", "live", registry.AliasSpec{Version: 2}); err != nil {
					t.Fatal(err)
				}
				if err := b.s.DeleteAlias("t", "fn", "live"); err != nil {
					t.Fatal(err)
				}
				msgs := append(a.take(), b.take()...)
				deliverShuffled(t, rand.New(rand.NewPCG(seed, 1)), msgs, a, b, c)
				converged(t, a, b, c)
				for _, n := range []*node{a, b, c} {
					al, ok := state(t, n).Aliases["fn"]["live"]
					if ok != tc.wantAlive || al.Version != tc.wantTarget {
						t.Fatalf("%s: alias %+v present %v", n.name, al, ok)
					}
				}
			}
		})
	}
}

func TestLateJoinerCatchesUpFromOneSnapshot(t *testing.T) {
	a, b, _ := fleet3(t, registry.Options{})
	putCode(t, a, "fn", src("1"))
	publish(t, a, "fn")
	putCode(t, a, "other", src("o"))
	if _, err := a.s.PutAlias("t", "fn", "live", registry.AliasSpec{Version: 1}); err != nil {
		t.Fatal(err)
	}
	if err := a.s.DeleteFunction("t", "other"); err != nil {
		t.Fatal(err)
	}
	late := newNode(t, "late", registry.Options{})
	late.merge(t, a.snapshot(t))
	converged(t, a, late)
	rev := late.s.Revision()
	late.merge(t, a.snapshot(t), late.snapshot(t)) // idempotent: nothing changes
	if late.s.Revision() != rev {
		t.Fatalf("a repeated merge changed the revision %d -> %d", rev, late.s.Revision())
	}
	// And the other way: a snapshot from the joiner to an old member changes nothing either.
	b.merge(t, late.snapshot(t))
	converged(t, a, b, late)
}

func TestBlobWithWrongHashIsRefused(t *testing.T) {
	a := newNode(t, "A", registry.Options{})
	var sum [32]byte
	sum[0] = 1
	err := a.r.Put(sum, stringsReader("not the content"))
	if !errors.Is(err, registry.ErrCorrupt) || a.r.Has(sum) {
		t.Fatalf("Put with a wrong hash: %v, has %v", err, a.r.Has(sum))
	}
}

// TestReplayedOlderRecordIsIgnored replays an old alias delta, a deleted version's delta and,
// after the function's tombstone was compacted, the function's old record.
func TestReplayedOlderRecordIsIgnored(t *testing.T) {
	a, b, _ := fleet3(t, registry.Options{})
	putCode(t, a, "fn", src("1"))
	publish(t, a, "fn")
	publishAfter(t, a, "fn", "2")
	first := a.take()
	b.merge(t, first...)
	a.clk.Set(t0.Add(time.Second))
	if _, err := a.s.PutAlias("t", "fn", "live", registry.AliasSpec{Version: 1}); err != nil {
		t.Fatal(err)
	}
	oldAlias := a.take()
	a.clk.Set(t0.Add(2 * time.Second))
	if _, err := a.s.PutAlias("t", "fn", "live", registry.AliasSpec{Version: 2}); err != nil {
		t.Fatal(err)
	}
	if err := a.s.DeleteVersion("t", "fn", 2); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("deleting a version in use by an alias: %v", err)
	}
	b.merge(t, a.take()...)
	b.merge(t, oldAlias...) // replay
	if got := state(t, b).Aliases["fn"]["live"].Version; got != 2 {
		t.Fatalf("replayed alias won: live -> %d", got)
	}
	// A deleted version does not come back when its publish is replayed.
	v3 := publishAfter(t, a, "fn", "3")
	v3msgs := a.take()
	if err := a.s.DeleteVersion("t", "fn", v3.Number); err != nil {
		t.Fatal(err)
	}
	b.merge(t, a.take()...)
	b.merge(t, v3msgs...)
	if _, ok := state(t, b).Versions["fn"][3]; ok {
		t.Fatal("replayed deleted version came back")
	}
	converged(t, a, b)
}

func stringsReader(s string) *stringReader { return &stringReader{s: s} }

type stringReader struct{ s string }

func (r *stringReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, eof
	}
	n := copy(p, r.s)
	r.s = r.s[n:]
	return n, nil
}

// TestFunctionDeleteConvergesWithConcurrentWrites: B deletes a function while A, unaware,
// publishes and moves an alias with older stamps and C recreates it later; every order of
// delivery gives the same state.
func TestFunctionDeleteConvergesWithConcurrentWrites(t *testing.T) {
	for seed := uint64(0); seed < 8; seed++ {
		a, b, c := fleet3(t, registry.Options{})
		putCode(t, a, "fn", src("1"))
		publish(t, a, "fn")
		deliverShuffled(t, rand.New(rand.NewPCG(seed, 0)), a.take(), b, c)
		b.clk.Set(t0.Add(10 * time.Second))
		c.clk.Set(t0.Add(20 * time.Second))
		publishAfter(t, a, "fn", "2") // stamped t0: older than B's delete
		if err := b.s.DeleteFunction("t", "fn"); err != nil {
			t.Fatal(err)
		}
		msgs := append(a.take(), b.take()...)
		deliverShuffled(t, rand.New(rand.NewPCG(seed, 1)), msgs, c)
		putCode(t, c, "fn", src("reborn")) // newer than the delete
		msgs = append(msgs, c.take()...)
		deliverShuffled(t, rand.New(rand.NewPCG(seed, 2)), msgs, a, b, c)
		converged(t, a, b, c)
		st := state(t, a)
		if f, ok := st.Functions["fn"]; !ok || len(st.Versions["fn"]) != 0 || f.LastVersion != 2 {
			t.Fatalf("seed %d: function %+v (present %v), versions %v", seed, f, ok, st.Versions["fn"])
		}
		if v := publish(t, c, "fn"); v.Number != 3 {
			t.Fatalf("seed %d: a number was reused after the delete: %d", seed, v.Number)
		}
	}
}

// TestReplayAfterCompactionIsIgnored: once a function's tombstone is compacted (after the
// horizon), its Floor still keeps a replayed old record of the function out, and a stale
// peer sending the old tombstone does not bring it back.
func TestReplayAfterCompactionIsIgnored(t *testing.T) {
	a, b, _ := fleet3(t, registry.Options{})
	putCode(t, a, "fn", src("old"))
	old := a.take()
	if err := a.s.DeleteFunction("t", "fn"); err != nil {
		t.Fatal(err)
	}
	b.merge(t, old...)
	b.merge(t, a.take()...)
	stale := b.snapshot(t) // holds the tombstone
	a.clk.Set(t0.Add(31 * 24 * time.Hour))
	if n, err := a.r.Compact(); err != nil || n != 1 {
		t.Fatalf("compact: %d %v", n, err)
	}
	a.merge(t, old...)
	a.merge(t, stale)
	st := state(t, a)
	if _, ok := st.Functions["fn"]; ok {
		t.Fatal("replayed function came back after compaction")
	}
	snap := string(a.snapshot(t))
	if strings.Contains(snap, "tombstones") || !strings.Contains(snap, `"floor"`) {
		t.Fatalf("after compaction: %s", snap)
	}
}
