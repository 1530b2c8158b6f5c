package cluster

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/vergecdn/verge/cache"
	"github.com/vergecdn/verge/internal/poll"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// memberlist's Shutdown does not wait for an in-flight probe: that goroutine ends at its ack
	// timeout (up to 8 probe intervals on a loaded machine).
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/hashicorp/memberlist.(*Memberlist).probeNode"))
}

// testKey is the gossip key of test fleets (base64 of 16 bytes).
const testKey = "dmVyZ2UtdGVzdC1rZXkxMg=="

// testNode is one node of a test fleet.
type testNode struct {
	t     testing.TB
	name  string
	c     *Cluster
	st    *lwwState
	blobs *memBlobs
	fault *faultTransport
	admin *httptest.Server

	mu     sync.Mutex
	purged map[string]int // pattern → times purged
	block  chan struct{}  // when set, purges wait on it
	auths  []string       // the Authorization of each request to admin
}

// nodeOpts are the knobs a test may turn.
type nodeOpts struct {
	bind   string        // default 127.0.0.1:0
	rejoin time.Duration // default 10 s (out of the way)
	admin  bool          // serve the admin routes on an httptest server
	noKey  bool          // gossip in clear text (no SecretKey)
	key    string        // the gossip key, when not testKey
	log    *slog.Logger  // default testLogger
	st     *lwwState     // default a new one
	// leaveSenders bounds the leave messages sent at once (default 16)
	leaveSenders int
}

// fastTune makes memberlist fast enough for tests on one machine: 100 ms probes, 20 ms gossip,
// 1 s until dead nodes are forgotten, and push/pull every minute (so tests exercise the fast
// paths, not the backstop).
func fastTune(mc *memberlist.Config) {
	mc.ProbeInterval = 100 * time.Millisecond
	mc.ProbeTimeout = 50 * time.Millisecond
	mc.GossipInterval = 20 * time.Millisecond
	mc.SuspicionMult = 2
	mc.TCPTimeout = time.Second
	mc.PushPullInterval = time.Minute
	mc.GossipToTheDeadTime = time.Second
	mc.DeadNodeReclaimTime = 100 * time.Millisecond
}

func startNode(t testing.TB, name string, seeds []string, o nodeOpts) *testNode {
	t.Helper()
	n := &testNode{t: t, name: name, st: o.st, blobs: newMemBlobs(), purged: map[string]int{}}
	if n.st == nil {
		n.st = newLWW(name)
	}
	cfg := Config{
		NodeName: name, BindAddr: o.bind, Seeds: seeds, Label: "verge-test", SecretKey: testKey,
		RejoinInterval: o.rejoin, LeaveTimeout: 200 * time.Millisecond, leaveSenders: o.leaveSenders,
		tune: fastTune,
		wrapTransport: func(in memberlist.NodeAwareTransport) memberlist.NodeAwareTransport {
			n.fault = newFaultTransport(in)
			return n.fault
		},
	}
	if cfg.BindAddr == "" {
		cfg.BindAddr = "127.0.0.1:0"
	}
	if o.noKey {
		cfg.SecretKey = ""
	}
	if o.key != "" {
		cfg.SecretKey = o.key
	}
	if cfg.RejoinInterval == 0 {
		cfg.RejoinInterval = 10 * time.Second
	}
	mux := http.NewServeMux()
	if o.admin {
		n.admin = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.mu.Lock()
			n.auths = append(n.auths, r.Header.Get("Authorization"))
			n.mu.Unlock()
			mux.ServeHTTP(w, r)
		}))
		cfg.AdminURL = n.admin.URL
	}
	log := o.log
	if log == nil {
		log = testLogger(t)
	}
	c, err := New(cfg, n.st, n.blobs, Deps{Purge: n.purge, Logger: log})
	if err != nil {
		t.Fatalf("New(%s): %v", name, err)
	}
	n.c = c
	c.Register(mux)
	t.Cleanup(n.close)
	return n
}

func (n *testNode) purge(p cache.Purge) int {
	n.mu.Lock()
	block := n.block
	n.purged[p.Pattern]++
	n.mu.Unlock()
	if block != nil {
		<-block
	}
	return 1
}

func (n *testNode) purges(pattern string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.purged[pattern]
}

// close leaves and stops the node (idempotent).
func (n *testNode) close() {
	if err := n.c.Close(); err != nil {
		n.t.Errorf("Close(%s): %v", n.name, err)
	}
	if n.admin != nil {
		n.admin.Close()
	}
}

// kill stops the node as a crash would: no leave message.
func (n *testNode) kill() {
	n.c.closeOnce.Do(func() {
		close(n.c.stop)
		_ = n.c.shutdown()
	})
}

// set writes key=value on this node and broadcasts the delta.
func (n *testNode) set(key, value string) {
	if err := n.c.Broadcast(key, n.st.Set(key, value)); err != nil {
		n.t.Fatalf("Broadcast: %v", err)
	}
}

// startFleet starts size nodes, the first being the seed of the others, and waits until every
// node sees every other alive.
func startFleet(t testing.TB, size int, o nodeOpts) []*testNode {
	t.Helper()
	nodes := []*testNode{startNode(t, "n0", nil, o)}
	seed := []string{nodes[0].c.Addr()}
	for i := 1; i < size; i++ {
		n := startNode(t, "n"+itoa(i), seed, o)
		if _, err := n.c.Join(seed); err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, n)
	}
	poll.Until(t, 5*time.Second, "all members alive", func() bool { return allAlive(nodes, size) })
	return nodes
}

// allAlive reports whether every node sees want alive members.
func allAlive(nodes []*testNode, want int) bool {
	for _, n := range nodes {
		if countState(n.c.Members(), StateAlive) != want {
			return false
		}
	}
	return true
}

func countState(ms []Member, s MemberState) int {
	k := 0
	for _, m := range ms {
		if m.State == s {
			k++
		}
	}
	return k
}

// converged reports whether every node holds key=value.
func converged(nodes []*testNode, key, value string) bool {
	for _, n := range nodes {
		if v, _ := n.st.Get(key); v != value {
			return false
		}
	}
	return true
}

func itoa(i int) string {
	return string(rune('0'+i/100%10)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10))
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("VERGE_CLUSTER_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return nil
}

func testDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }
