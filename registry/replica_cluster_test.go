package registry_test

import (
	"crypto/ed25519"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/vergecdn/verge/cluster"
	"github.com/vergecdn/verge/internal/poll"
	"github.com/vergecdn/verge/registry"
)

// clusterNode is a registry replicated by a real cluster on 127.0.0.1 ephemeral ports, with
// the cluster's admin routes (blobs) served on its own listener.
type clusterNode struct {
	*node
	c *cluster.Cluster
}

func startClusterNode(t *testing.T, name string, seeds []string) *clusterNode {
	t.Helper()
	return startClusterNodeWith(t, name, seeds, nil)
}

// startClusterNodeWith is startClusterNode with prepare run on the registry before it joins.
func startClusterNodeWith(t *testing.T, name string, seeds []string, prepare func(*node)) *clusterNode {
	t.Helper()
	n := newNode(t, name, registry.Options{Now: time.Now})
	if prepare != nil {
		prepare(n)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := cluster.New(cluster.Config{
		NodeName: name, BindAddr: "127.0.0.1:0", Seeds: seeds, Label: "verge-registry-test",
		SecretKey: "dmVyZ2UtdGVzdC1rZXkxMg==", AdminURL: "http://" + ln.Addr().String(), FleetToken: "fleet-secret",
		LeaveTimeout: 200 * time.Millisecond,
	}, n.r, n.r, cluster.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	c.Register(mux)
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	n.r.SetBroadcast(c.Broadcast)
	n.r.SetFetch(c.FetchBlob)
	n.r.Start()
	t.Cleanup(func() { c.Close(); srv.Close() }) // before the node's own cleanup (LIFO)
	return &clusterNode{node: n, c: c}
}

func TestRealClusterReplicates(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three memberlist nodes")
	}
	a := startClusterNode(t, "A", nil)
	b := startClusterNode(t, "B", []string{a.c.Addr()})
	putCode(t, a.node, "hello", src("fleet"))
	v := publish(t, a.node, "hello")
	if _, err := a.s.PutAlias("t", "hello", "live", registry.AliasSpec{Version: v.Number}); err != nil {
		t.Fatal(err)
	}
	c := startClusterNode(t, "C", []string{b.c.Addr()}) // a late joiner
	for _, n := range []*clusterNode{b, c} {
		poll.Until(t, 20*time.Second, "hello:live runnable on "+n.name, func() bool {
			st, err := n.s.Snapshot()
			if err != nil {
				return false
			}
			r, err := st.Resolve("hello", "live")
			return err == nil && n.s.Runnable(r.Primary) == nil
		})
	}
	// Concurrent alias moves on B and C converge everywhere.
	publishAfter(t, a.node, "hello", "v2")
	for _, n := range []*clusterNode{b, c} {
		poll.Until(t, 20*time.Second, "hello:2 on "+n.name, func() bool { _, ok := state(t, n.node).Versions["hello"][2]; return ok })
	}
	if _, err := b.s.PutAlias("t", "hello", "live", registry.AliasSpec{Version: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.s.PutAlias("t", "hello", "live", registry.AliasSpec{Version: 2}); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 20*time.Second, "digests equal", func() bool {
		da, db, dc := a.r.Digest(), b.r.Digest(), c.r.Digest()
		return string(da) == string(db) && string(db) == string(dc)
	})
	want := state(t, a.node).Aliases["hello"]["live"].Version
	for _, n := range []*clusterNode{b, c} {
		if got := state(t, n.node).Aliases["hello"]["live"].Version; got != want {
			t.Fatalf("%s: live -> %d, A has %d", n.name, got, want)
		}
	}
	// A peer serving wrong content under a sum is refused by the verifying Put.
	var sum [32]byte
	if err := c.r.Put(sum, stringsReader("x")); !errors.Is(err, registry.ErrCorrupt) {
		t.Fatalf("wrong hash: %v", err)
	}
}

// TestRealClusterQuarantineKeepsDigestsTogether: a node that holds the fleet's public key
// only, and a version published on it before signing was turned on, keeps that version in
// quarantine, where it is not offered: the fleet's members see each other in sync (the
// version deleted at start was once the only way to get there).
func TestRealClusterQuarantineKeepsDigestsTogether(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two memberlist nodes")
	}
	pub, priv, _ := ed25519.GenerateKey(nil)
	signer := startClusterNodeWith(t, "S", nil, func(n *node) {
		if _, err := n.s.SetTrust(registry.Trust{SigningKey: priv}); err != nil {
			t.Fatal(err)
		}
		putCode(t, n, "signed", src("signed"))
		publish(t, n, "signed")
	})
	verifier := startClusterNodeWith(t, "V", []string{signer.c.Addr()}, func(n *node) {
		putCode(t, n, "old", src("published before signing"))
		publish(t, n, "old")
		if rep, err := n.s.SetTrust(registry.Trust{FleetKey: pub}); err != nil || len(rep.Quarantined) != 1 {
			t.Fatalf("trust: %+v, %v", rep, err)
		}
	})
	for _, n := range []*clusterNode{signer, verifier} {
		poll.Until(t, 20*time.Second, n.name+" lists its peer in sync", func() bool {
			for _, m := range n.c.Members() {
				if m.Name != n.name && m.InSync {
					return true
				}
			}
			return false
		})
	}
	if _, ok := state(t, verifier.node).Versions["signed"][1]; !ok {
		t.Fatalf("the signed version did not reach V: %+v", state(t, verifier.node).Versions)
	}
}
