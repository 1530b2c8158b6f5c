// Command fleet simulates a Verge fleet on one machine and measures deploys across it: N real
// nodes (the verge binary) on 127.0.0.1, each with its own ports and data directory, gossiping
// with memberlist; a scripted sequence of deploys published on one node; and, for every
// deploy, how long each node took to serve the new version, and whether any request got
// through unfiltered meanwhile.
//
//	go run ./bench/fleet -nodes 30 -deploys 10 -every 10s
//
// The function deployed is a gate: a viewer-request function that answers every request
// itself (403, with the version in X-Version), as an authentication function would for a
// viewer without credentials. A response from the origin is therefore a request that passed
// the edge with no function applied: the gap. Pollers ask every node for / all the time; a
// node has converged on version V when it first answers with X-Version V after the alias moved.
//
// With -restart, one node is stopped (SIGTERM) before a deploy and started again after it:
// the report says how long it took, from its start, to serve the current version.
//
// Everything binds 127.0.0.1; every node and the origin are stopped at the end.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	nodes := flag.Int("nodes", 10, "fleet size")
	deploys := flag.Int("deploys", 5, "deploys to measure, after the first")
	every := flag.Duration("every", 10*time.Second, "one deploy per this interval")
	poll := flag.Duration("poll", 50*time.Millisecond, "each node is asked for / this often")
	timeout := flag.Duration("timeout", 60*time.Second, "a deploy not converged by then counts as a failure")
	restart := flag.Bool("restart", false, "stop one node before a deploy and start it after, measuring its catch-up")
	bin := flag.String("verge", "", "the verge binary (default: built from ./cmd/verge)")
	flag.IntVar(&nextPort, "port-base", nextPort, "nodes' ports are taken from here up, below the ephemeral range")
	keep := flag.Bool("keep", false, "keep the work directory (node logs) at the end")
	flag.Parse()
	if *nodes < 1 || *deploys < 1 {
		log.Fatal("fleet: -nodes and -deploys must be at least 1")
	}
	work, err := os.MkdirTemp("", "verge-fleet-")
	if err != nil {
		log.Fatal(err)
	}
	if !*keep {
		defer os.RemoveAll(work)
	}
	if *bin == "" {
		*bin = filepath.Join(work, "verge")
		if out, err := exec.Command("go", "build", "-o", *bin, "./cmd/verge").CombinedOutput(); err != nil {
			log.Fatalf("fleet: building verge: %v\n%s", err, out)
		}
	}
	f := &fleet{bin: *bin, work: work, poll: *poll}
	defer f.stop()
	if err := f.run(*nodes, *deploys, *every, *timeout, *restart); err != nil {
		f.stop()
		log.Fatalf("fleet: %v (node logs in %s)", err, work)
	}
}

// node is one verge process and its addresses.
type node struct {
	i                    int
	listen, admin, gossp string
	args                 []string
	mu                   sync.Mutex
	cmd                  *exec.Cmd
	startedAt            time.Time
}

type fleet struct {
	bin, work string
	poll      time.Duration
	nodes     []*node
	origin    *http.Server
	originURL string
	hc        *http.Client

	unfiltered atomic.Int64 // responses that came from the origin
	failed     atomic.Int64 // requests that got no answer (a node restarting is excluded)
	answered   atomic.Int64
	mu         sync.Mutex
	seen       map[int]map[string]time.Time // node -> version -> first answer with it
}

func (f *fleet) run(n, deploys int, every, timeout time.Duration, restart bool) error {
	f.hc = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
	f.seen = map[int]map[string]time.Time{}
	if err := f.startOrigin(); err != nil {
		return err
	}
	seeds := []string{}
	for i := range n {
		nd := &node{i: i, listen: freeAddr(), admin: freeAddr(), gossp: freeAddr()}
		if i < 3 {
			seeds = append(seeds, nd.gossp)
		}
		f.nodes = append(f.nodes, nd)
	}
	for _, nd := range f.nodes {
		join := slices.DeleteFunc(slices.Clone(seeds), func(s string) bool { return s == nd.gossp })
		nd.args = []string{"serve", "--origin", f.originURL, "--listen", nd.listen, "--admin", nd.admin,
			"--data", filepath.Join(f.work, fmt.Sprintf("data-%d", nd.i)), "--gossip", nd.gossp}
		if len(join) > 0 {
			nd.args = append(nd.args, "--join", strings.Join(join, ","))
		}
	}
	start := time.Now()
	for _, nd := range f.nodes {
		if err := f.start(nd); err != nil {
			return err
		}
	}
	for _, nd := range f.nodes {
		if err := waitOK(f.hc, "http://"+nd.admin+"/readyz", 60*time.Second); err != nil {
			return fmt.Errorf("node %d: %w", nd.i, err)
		}
	}
	if err := f.waitMembers(n, 120*time.Second); err != nil {
		return err
	}
	fmt.Printf("fleet: %d nodes up and joined in %.1fs (work dir %s)\n", n, time.Since(start).Seconds(), f.work)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for _, nd := range f.nodes {
		wg.Go(func() { f.pollNode(ctx, nd) })
	}
	defer wg.Wait()
	defer cancel()

	// The first version, associated once: not measured (nodes have nothing to keep serving).
	if _, _, err := f.deploy(1, true); err != nil {
		return err
	}
	if _, err := f.converge("v1", time.Now(), timeout); err != nil {
		return err
	}
	f.unfiltered.Store(0)
	fmt.Printf("%-7s %8s %8s %8s %8s %10s %11s\n", "deploy", "alias_s", "median_s", "p99_s", "max_s", "converged", "unfiltered")
	var all []time.Duration
	var catchUp []string
	for d := 2; d <= deploys+1; d++ {
		next := time.Now().Add(every)
		var down *node
		if restart && n > 1 && d%2 == 0 {
			down = f.nodes[1+d%(n-1)]
			f.halt(down)
		}
		before := f.unfiltered.Load()
		t0, aliasTook, err := f.deploy(d, false)
		if err != nil {
			return err
		}
		want := "v" + strconv.Itoa(d)
		if down != nil {
			time.Sleep(time.Second) // the fleet moves on without it
			if err := f.start(down); err != nil {
				return err
			}
		}
		lat, err := f.converge(want, t0, timeout)
		if err != nil {
			fmt.Printf("deploy %d: %v\n", d, err)
		}
		if down != nil {
			f.mu.Lock()
			at, ok := f.seen[down.i][want]
			f.mu.Unlock()
			if ok {
				catchUp = append(catchUp, fmt.Sprintf("node %d served %s %.2fs after its start", down.i, want, at.Sub(down.started()).Seconds()))
			} else {
				catchUp = append(catchUp, fmt.Sprintf("node %d never served %s", down.i, want))
			}
		}
		all = append(all, lat...)
		slices.Sort(lat)
		fmt.Printf("%-7d %8.3f %8.3f %8.3f %8.3f %6d/%-3d %11d\n", d, aliasTook.Seconds(), pct(lat, 0.5), pct(lat, 0.99), pct(lat, 1),
			len(lat), n, f.unfiltered.Load()-before)
		time.Sleep(time.Until(next))
	}
	slices.Sort(all)
	fmt.Printf("all     %8s %8.3f %8.3f %8.3f %6d/%-3d %11d\n", "", pct(all, 0.5), pct(all, 0.99), pct(all, 1),
		len(all), n*deploys, f.unfiltered.Load())
	fmt.Printf("answers %d, unanswered %d, unfiltered (reached the origin with no function) %d\n",
		f.answered.Load(), f.failed.Load(), f.unfiltered.Load())
	for _, c := range catchUp {
		fmt.Println("restart:", c)
	}
	return nil
}

// gate is the deployed function: it answers every request itself, with its version.
func gate(version int) string {
	return fmt.Sprintf(`exports.handler = async () => ({
  status: '403', statusDescription: 'Forbidden',
  headers: {'x-version': [{key: 'X-Version', value: 'v%d'}]},
  body: 'blocked by v%d',
});
`, version, version)
}

// deploy publishes version v of the gate on node 0 and moves the alias live to it (the first
// time, associating the default behavior's viewer-request with gate:live). It returns when the
// alias call started (the convergence clock's zero) and how long the call took.
func (f *fleet) deploy(v int, first bool) (time.Time, time.Duration, error) {
	base := "http://" + f.nodes[0].admin
	if err := f.call(http.MethodPut, base+"/v1/functions/gate/code", "application/javascript", gate(v), nil); err != nil {
		return time.Time{}, 0, err
	}
	var pub map[string]any
	if err := f.call(http.MethodPost, base+"/v1/functions/gate/versions", "application/json", "{}", &pub); err != nil {
		return time.Time{}, 0, err
	}
	num := fmt.Sprint(pub["version"])
	t0 := time.Now()
	if err := f.call(http.MethodPut, base+"/v1/functions/gate/aliases/live", "application/json", `{"version": `+num+`}`, nil); err != nil {
		return time.Time{}, 0, err
	}
	took := time.Since(t0)
	if first {
		if err := f.call(http.MethodPut, base+"/v1/associations/default/viewer-request", "application/json",
			`{"function": "gate", "qualifier": "live"}`, nil); err != nil {
			return time.Time{}, 0, err
		}
	}
	if num != strconv.Itoa(v) {
		return time.Time{}, 0, fmt.Errorf("published version %s, expected %d (a data directory reused?)", num, v)
	}
	return t0, took, nil
}

func (f *fleet) call(method, url, ctype, body string, out any) error {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", ctype)
	resp, err := f.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// converge waits until every node answered with version want, and returns each node's delay
// from t0 (nodes that did not converge within timeout are left out, and an error says so).
func (f *fleet) converge(want string, t0 time.Time, timeout time.Duration) ([]time.Duration, error) {
	deadline := t0.Add(timeout)
	for {
		var lat []time.Duration
		f.mu.Lock()
		for _, nd := range f.nodes {
			if at, ok := f.seen[nd.i][want]; ok {
				lat = append(lat, max(at.Sub(t0), 0))
			}
		}
		f.mu.Unlock()
		if len(lat) == len(f.nodes) {
			return lat, nil
		}
		if time.Now().After(deadline) {
			return lat, fmt.Errorf("%d of %d nodes serve %s after %v", len(lat), len(f.nodes), want, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pollNode asks nd for / every f.poll until ctx ends, recording versions and gaps.
func (f *fleet) pollNode(ctx context.Context, nd *node) {
	t := time.NewTicker(f.poll)
	defer t.Stop()
	url := "http://" + nd.listen + "/"
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !nd.running() {
			continue
		}
		resp, err := f.hc.Get(url)
		if err != nil {
			if nd.running() {
				f.failed.Add(1)
			}
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		f.answered.Add(1)
		v := resp.Header.Get("X-Version")
		if string(body) == originBody || (v == "" && resp.StatusCode < 500) {
			f.unfiltered.Add(1)
			continue
		}
		if v == "" {
			continue
		}
		now := time.Now()
		f.mu.Lock()
		if f.seen[nd.i] == nil {
			f.seen[nd.i] = map[string]time.Time{}
		}
		if _, ok := f.seen[nd.i][v]; !ok {
			f.seen[nd.i][v] = now
		}
		f.mu.Unlock()
	}
}

const originBody = "from the origin: no function ran"

func (f *fleet) startOrigin() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	f.origin = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, originBody)
	})}
	go f.origin.Serve(ln)
	f.originURL = "http://" + ln.Addr().String()
	return nil
}

func (f *fleet) start(nd *node) error {
	out, err := os.OpenFile(filepath.Join(f.work, fmt.Sprintf("node-%d.log", nd.i)), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(f.bin, nd.args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("node %d: %w", nd.i, err)
	}
	nd.mu.Lock()
	nd.cmd, nd.startedAt = cmd, time.Now()
	nd.mu.Unlock()
	go func() { _ = cmd.Wait(); out.Close() }()
	return nil
}

// halt stops nd with SIGTERM and waits for it to exit.
func (f *fleet) halt(nd *node) {
	nd.mu.Lock()
	cmd := nd.cmd
	nd.cmd = nil
	nd.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	for cmd.ProcessState == nil && cmd.Process.Signal(syscall.Signal(0)) == nil {
		time.Sleep(20 * time.Millisecond)
	}
}

func (nd *node) running() bool {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return nd.cmd != nil
}

func (nd *node) started() time.Time {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return nd.startedAt
}

func (f *fleet) stop() {
	var wg sync.WaitGroup
	for _, nd := range f.nodes {
		wg.Go(func() { f.halt(nd) })
	}
	wg.Wait()
	if f.origin != nil {
		f.origin.Close()
	}
}

// waitMembers waits until node 0 sees n alive members.
func (f *fleet) waitMembers(n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	alive := 0
	for time.Now().Before(deadline) {
		var m struct {
			Members []struct {
				State string `json:"state"`
			} `json:"members"`
		}
		if err := f.call(http.MethodGet, "http://"+f.nodes[0].admin+"/v1/cluster/members", "", "", &m); err == nil {
			alive = 0
			for _, x := range m.Members {
				if x.State == "alive" {
					alive++
				}
			}
			if alive >= n {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("node 0 sees %d of %d members alive after %v", alive, n, timeout)
}

func waitOK(hc *http.Client, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if resp, err := hc.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New(url + " did not answer 200")
}

// nextPort is the next port freeAddr tries. The ports come from below the kernel's ephemeral
// range (32768-60999 on Linux by default): an ephemeral port that was free a moment ago may be
// taken meanwhile by one of the fleet's own outgoing connections, and a node that cannot bind
// its address does not start.
var nextPort = 20000

// freeAddr returns a loopback address whose port is free for TCP and UDP (gossip uses both).
func freeAddr() string {
	for ; nextPort < 32768; nextPort++ {
		addr := "127.0.0.1:" + strconv.Itoa(nextPort)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		pc, err := net.ListenPacket("udp", addr)
		ln.Close()
		if err != nil {
			continue
		}
		pc.Close()
		nextPort++
		return addr
	}
	log.Fatal("fleet: no free port below 32768")
	return ""
}

// pct is the q-quantile of sorted durations, in seconds (nearest rank).
func pct(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	i = min(max(i, 0), len(sorted)-1)
	return sorted[i].Seconds()
}
