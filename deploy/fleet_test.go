package deploy_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vergecdn/verge/cluster"
	"github.com/vergecdn/verge/deploy"
	"github.com/vergecdn/verge/edge"
	"github.com/vergecdn/verge/internal/poll"
	"github.com/vergecdn/verge/jsruntime"
	"github.com/vergecdn/verge/registry"
)

// peer is a second registry that replicates with an env's by hand: its changes reach the
// env when deliver is called, and the env fetches code from it once serveCode was called.
type peer struct {
	reg         *registry.Store
	here, there *registry.Replica
	deltas      [][]byte
}

func newPeer(t *testing.T, e *env) *peer {
	t.Helper()
	p := &peer{here: registry.NewReplica(e.reg, registry.ReplicaOptions{FetchBackoff: 5 * time.Millisecond})}
	t.Cleanup(func() { p.here.Close() })
	var err error
	if p.reg, err = registry.Open(registry.Options{Dir: t.TempDir(), NodeID: "peer"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.reg.Close() })
	p.there = registry.NewReplica(p.reg, registry.ReplicaOptions{})
	t.Cleanup(func() { p.there.Close() })
	p.there.SetBroadcast(func(_ string, d []byte) error { p.deltas = append(p.deltas, d); return nil })
	snap, err := p.here.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.there.Merge(snap); err != nil {
		t.Fatal(err)
	}
	return p
}

// deliver merges the peer's changes so far into the env's registry.
func (p *peer) deliver(t *testing.T) {
	t.Helper()
	for _, d := range p.deltas {
		if err := p.here.Merge(d); err != nil {
			t.Fatal(err)
		}
	}
	p.deltas = nil
}

// serveCode lets the env fetch the code it lacks from the peer.
func (p *peer) serveCode() {
	p.here.SetFetch(func(_ context.Context, sum [32]byte) error {
		rc, err := p.there.Open(sum)
		if err != nil {
			return err
		}
		defer rc.Close()
		return p.here.Put(sum, rc)
	})
	p.here.Start()
}

// TestRemoteVersionWaitsForItsCode: an alias moved on a peer to a version whose code has not
// arrived here keeps running the previous version; once the blob is fetched (and verified),
// the new version goes live.
func TestRemoteVersionWaitsForItsCode(t *testing.T) {
	e := start(t, deploy.Options{InProcess: true, DrainDelay: 50 * time.Millisecond})
	e.deploy(t, "tag", "one")
	if _, err := e.reg.PutAlias("t", "tag", "live", registry.AliasSpec{Version: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.reg.Associate("t", registry.Association{Behavior: "*", Event: "viewer-response", Function: "tag", Qualifier: "live"}); err != nil {
		t.Fatal(err)
	}
	e.sync(t)
	p := newPeer(t, e)
	if _, err := p.reg.PutCode("t", "tag", registry.Upload{Package: versionFn("two")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.reg.Publish("t", "tag", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := p.reg.PutAlias("t", "tag", "live", registry.AliasSpec{Version: 2}); err != nil {
		t.Fatal(err)
	}
	p.deliver(t)
	e.sync(t)
	if got := e.version(t, "/x"); got != "one" {
		t.Fatalf("ran code it does not hold: X-Version %q", got)
	}
	if f := e.act.Failures(); len(f) != 0 {
		t.Fatalf("failures: %v", f)
	}
	p.serveCode()
	poll.Until(t, 10*time.Second, "the new version to go live after its code arrived", func() bool { return e.version(t, "/x") == "two" })
}

// TestRemoteFunctionWithoutCodeAnswers503: a behavior associated on a peer with a function
// whose code has not arrived here, and nothing attached before, answers CloudFront's 503 in
// the function's dialect (never the origin's page) until the code arrives; then it runs.
func TestRemoteFunctionWithoutCodeAnswers503(t *testing.T) {
	cases := []struct {
		runtime, xcache string
		code            []byte
	}{
		{registry.RuntimeLambdaEdge, "LambdaExecutionError from verge", blockerFn(1)},
		{registry.RuntimeCloudFrontFunctions, "FunctionExecutionError from verge", []byte(`function handler(event) {
  return {statusCode: 403, statusDescription: 'Forbidden', headers: {'x-version': {value: '1'}}};
}`)},
	}
	for _, c := range cases {
		t.Run(c.runtime, func(t *testing.T) {
			e := start(t, deploy.Options{InProcess: true})
			p := newPeer(t, e)
			if _, err := p.reg.PutCode("t", "auth", registry.Upload{Runtime: c.runtime, Package: c.code}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := p.reg.Publish("t", "auth", ""); err != nil {
				t.Fatal(err)
			}
			if _, err := p.reg.Associate("t", registry.Association{Behavior: "*", Event: "viewer-request", Function: "auth", Qualifier: "1"}); err != nil {
				t.Fatal(err)
			}
			p.deliver(t)
			e.sync(t)
			if st, xc, _ := e.get(t, "/x"); st != http.StatusServiceUnavailable || xc != c.xcache {
				t.Fatalf("without the code: %d %q, want 503 %q", st, xc, c.xcache)
			}
			if f := e.act.Failures(); len(f) != 1 {
				t.Fatalf("failures: %v", f)
			}
			p.serveCode()
			poll.Until(t, 10*time.Second, "the function to run once its code arrived", func() bool {
				st, _, v := e.get(t, "/x")
				return st == http.StatusForbidden && v == "1"
			})
			if f := e.act.Failures(); len(f) != 0 {
				t.Fatalf("failures after the code arrived: %v", f)
			}
		})
	}
}

// fleetNode is one node of a test fleet, wired as `verge serve` wires it: a registry
// replicated over a real memberlist cluster (blobs fetched from peers' admin routes), an
// activator and an edge server.
type fleetNode struct {
	reg *registry.Store
	rep *registry.Replica
	c   *cluster.Cluster
	act *deploy.Activator
	srv *edge.Server
}

// startFleet starts n nodes on 127.0.0.1 behind originURL, each joining the first, and waits
// until every node sees every other alive.
func startFleet(t *testing.T, n int, originURL string, o deploy.Options) []*fleetNode {
	t.Helper()
	nodes := make([]*fleetNode, n)
	var seeds []string
	for i := range nodes {
		nd := &fleetNode{}
		var err error
		if nd.reg, err = registry.Open(registry.Options{Dir: t.TempDir(), NodeID: fmt.Sprintf("n%d", i)}); err != nil {
			t.Fatal(err)
		}
		nd.rep = registry.NewReplica(nd.reg, registry.ReplicaOptions{FetchBackoff: 20 * time.Millisecond})
		mux := http.NewServeMux()
		admin := httptest.NewServer(mux)
		nd.c, err = cluster.New(cluster.Config{NodeName: fmt.Sprintf("n%d", i), BindAddr: "127.0.0.1:0", Seeds: seeds,
			AdminURL: admin.URL, FleetToken: "fleet", LeaveTimeout: 200 * time.Millisecond}, nd.rep, nd.rep, cluster.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		nd.c.Register(mux)
		nd.rep.SetBroadcast(nd.c.Broadcast)
		nd.rep.SetFetch(nd.c.FetchBlob)
		nd.rep.Start()
		if i == 0 {
			seeds = []string{nd.c.Addr()}
		}
		o := o
		o.Registry = nd.reg
		if nd.act, err = deploy.New(o); err != nil {
			t.Fatal(err)
		}
		if nd.srv, err = edge.New(edgeConfig(t, originURL), edge.Deps{}); err != nil {
			t.Fatal(err)
		}
		if err := nd.srv.Start(); err != nil {
			t.Fatal(err)
		}
		if err := nd.act.Start(nd.srv); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			nd.srv.Shutdown(ctx)
			nd.c.Close()
			nd.rep.Close()
			nd.act.Close()
			nd.reg.Close()
			admin.Close()
		})
		nodes[i] = nd
	}
	poll.Until(t, 20*time.Second, "every node to see the whole fleet alive", func() bool {
		for _, nd := range nodes {
			alive := 0
			for _, m := range nd.c.Members() {
				if m.State == cluster.StateAlive {
					alive++
				}
			}
			if alive != n {
				return false
			}
		}
		return true
	})
	return nodes
}

// blockerFn is a viewer-request function that answers every request 403 itself, tagged with
// its version: an authentication function that lets nobody in.
func blockerFn(v int) []byte {
	return fmt.Appendf(nil, `exports.handler = async () => ({status: '403', statusDescription: 'Forbidden',
  headers: {'x-version': [{key: 'X-Version', value: '%d'}]}, body: 'blocked'});`, v)
}

// TestFleetDeployNeverFailsOpen: a function that blocks every request keeps blocking on every
// node of a 5-node fleet while its alias is moved 50 times, each time to a version just
// published on one node (so the other nodes learn of the alias, the version record and the
// code in any order). Versions run in worker processes, as uploaded code does, so each move
// also waits for a worker to start. No request may reach the origin, and every answer is the
// function's.
func TestFleetDeployNeverFailsOpen(t *testing.T) {
	var reached atomic.Int64
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		reached.Add(1)
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, "secret")
	}))
	t.Cleanup(origin.Close)
	exe, _ := os.Executable()
	nodes := startFleet(t, 5, origin.URL, deploy.Options{Worker: jsruntime.WorkerOptions{Command: []string{exe}, Env: []string{jsruntime.WorkerEnv + "=1"}}})
	pub := nodes[0].reg
	if _, err := pub.PutCode("t", "auth", registry.Upload{Package: blockerFn(1)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := pub.Publish("t", "auth", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := pub.PutAlias("t", "auth", "live", registry.AliasSpec{Version: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Associate("t", registry.Association{Behavior: "*", Event: "viewer-request", Function: "auth", Qualifier: "live"}); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(nd *fleetNode, i int) (status int, version string, err error) {
		resp, err := client.Get(fmt.Sprintf("http://%s/p/%d", nd.srv.Addr(), i))
		if err != nil {
			return 0, "", err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("X-Version"), nil
	}
	poll.Until(t, 20*time.Second, "the function to run on every node", func() bool {
		for _, nd := range nodes {
			if st, _, err := get(nd, 0); err != nil || st != http.StatusForbidden {
				return false
			}
		}
		return true
	})
	reached.Store(0)

	// Hammer every node while the alias moves.
	var mu sync.Mutex
	statuses := map[int]int{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, nd := range nodes {
		wg.Go(func() {
			for i := 1; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				st, _, err := get(nd, i)
				if err != nil {
					t.Errorf("GET: %v", err)
					return
				}
				mu.Lock()
				statuses[st]++
				mu.Unlock()
			}
		})
	}
	const flips = 50
	for v := 2; v <= flips+1; v++ {
		if _, err := pub.PutCode("t", "auth", registry.Upload{Package: blockerFn(v)}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := pub.Publish("t", "auth", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := pub.PutAlias("t", "auth", "live", registry.AliasSpec{Version: v}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond) // a deploy every 100 ms: the gaps of one never hide the next's
	}
	want := fmt.Sprint(flips + 1)
	poll.Until(t, 30*time.Second, "every node to run version "+want, func() bool {
		for _, nd := range nodes {
			if _, v, err := get(nd, 0); err != nil || v != want {
				return false
			}
		}
		return true
	})
	close(stop)
	wg.Wait()
	// The 50 replaced versions' workers stopped with their last calls, not a minute later.
	poll.Until(t, 10*time.Second, "one worker per node", func() bool {
		for _, nd := range nodes {
			if attached, draining := nd.act.Stats(); attached != 1 || draining != 0 {
				return false
			}
		}
		return true
	})
	mu.Lock()
	defer mu.Unlock()
	total := 0
	for _, n := range statuses {
		total += n
	}
	t.Logf("%d requests during %d alias moves on %d nodes: by status %v; %d reached the origin", total, flips, len(nodes), statuses, reached.Load())
	if n := reached.Load(); n != 0 || statuses[http.StatusOK] != 0 {
		t.Errorf("fail-open: %d requests reached the origin, %d were answered 200", n, statuses[http.StatusOK])
	}
	if statuses[http.StatusForbidden] != total {
		t.Errorf("answers other than the function's 403: %v", statuses)
	}
}
