package cluster

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vergecdn/verge/internal/poll"
)

// TestOversizedDelta: a delta too large for a gossip packet is not broadcast, and still reaches
// every node through the digest pull.
func TestOversizedDelta(t *testing.T) {
	nodes := startFleet(t, 3, nodeOpts{})
	big := strings.Repeat("x", 4000)
	nodes[0].set("big", big)
	if q := nodes[0].c.queue.NumQueued(); q != 0 {
		t.Fatalf("%d broadcasts queued, want the oversized delta left out", q)
	}
	poll.Until(t, 3*time.Second, "big value everywhere", func() bool { return converged(nodes, "big", big) })
}

func TestRemoteStateRefused(t *testing.T) {
	st := newLWW("x")
	c := &Cluster{cfg: Config{MaxStateBytes: 64}, state: st, log: testDiscard(), kick: make(chan struct{}, 1)}
	c.met, _ = newMetrics(nil, c)
	d := &delegate{c: c}
	other := newLWW("y")
	other.Set("k", strings.Repeat("v", 100))
	snap, _ := other.Snapshot()
	d.MergeRemoteState(append([]byte{stateVersion}, snap...), false)
	if _, ok := st.Get("k"); ok {
		t.Fatal("merged a remote state larger than MaxStateBytes")
	}
	c.cfg.MaxStateBytes = 1 << 20
	d.MergeRemoteState(append([]byte{99}, snap...), false)
	if _, ok := st.Get("k"); ok {
		t.Fatal("merged a remote state of an unknown version")
	}
	d.MergeRemoteState(append([]byte{stateVersion}, snap...), false)
	if _, ok := st.Get("k"); !ok {
		t.Fatal("did not merge a valid remote state")
	}
	if got := d.LocalState(false); len(got) == 0 || got[0] != stateVersion {
		t.Fatalf("LocalState = %q", got)
	}
	c.cfg.MaxStateBytes = 64
	if got := d.LocalState(false); got != nil {
		t.Fatalf("LocalState sent %d bytes over the bound", len(got))
	}
}

func TestMetricsRegisterAndUnregister(t *testing.T) {
	reg := prometheus.NewRegistry()
	for range 2 { // a second Cluster on the same registry works after the first closed
		c, err := New(Config{NodeName: "m", BindAddr: "127.0.0.1:0", tune: fastTune}, nil, nil, Deps{Registry: reg})
		if err != nil {
			t.Fatal(err)
		}
		fams, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, f := range fams {
			names[f.GetName()] = true
		}
		for _, want := range []string{"verge_cluster_members", "verge_cluster_broadcast_queue_depth", "verge_cluster_gossip_sent_bytes_total"} {
			if !names[want] {
				t.Errorf("metric %s not registered (have %v)", want, names)
			}
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReachableAdminURL(t *testing.T) {
	for _, tt := range []struct{ admin, gossip, want string }{
		{"http://0.0.0.0:8081", "10.0.0.5:7946", "http://10.0.0.5:8081"},
		{"http://[::]:8081", "10.0.0.5:7946", "http://10.0.0.5:8081"},
		{"http://:8081", "10.0.0.5:7946", "http://10.0.0.5:8081"}, // admin ":8081": Go dials an empty host locally
		{"http://:8081", "[2001:db8::5]:7946", "http://[2001:db8::5]:8081"},
		{"http://127.0.0.1:8081", "10.0.0.5:7946", "http://127.0.0.1:8081"},
		{"https://edge-1.example:8443", "10.0.0.5:7946", "https://edge-1.example:8443"},
		{"", "10.0.0.5:7946", ""},
	} {
		if got := reachableAdminURL(tt.admin, tt.gossip); got != tt.want {
			t.Errorf("reachableAdminURL(%q, %q) = %q, want %q", tt.admin, tt.gossip, got, tt.want)
		}
	}
}
