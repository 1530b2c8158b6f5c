package cluster

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/vergecdn/verge/internal/poll"
)

// TestScale measures convergence (publish → every node holds the change) and gossip bytes for
// fleets on this machine, with the production memberlist timings (200 ms gossip, 1 s probes).
// It runs only when asked:
//
//	VERGE_CLUSTER_SCALE=3,10,30,100 go test -run Scale -v -timeout 30m ./cluster/
func TestScale(t *testing.T) {
	spec := os.Getenv("VERGE_CLUSTER_SCALE")
	if spec == "" {
		t.Skip("set VERGE_CLUSTER_SCALE=3,10,30,100 to run the scale simulation")
	}
	trials := 20
	if v, err := strconv.Atoi(os.Getenv("VERGE_CLUSTER_SCALE_TRIALS")); err == nil && v > 0 {
		trials = v
	}
	var rows []string
	for _, f := range strings.Split(spec, ",") {
		size, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || size < 2 {
			t.Fatalf("bad size %q", f)
		}
		rows = append(rows, scaleRun(t, size, trials))
		t.Log(rows[len(rows)-1])
	}
	out := "| nodes | broadcast p50 | p99 | max | digest-only p50 | p99 | pulls/deploy | B/node/s at rest | B/node/s deploying |\n|---|---|---|---|---|---|---|---|---|\n" + strings.Join(rows, "\n")
	t.Log("\n" + out)
	fmt.Println(out)
}

func scaleRun(t *testing.T, size, trials int) string {
	nodes := make([]*testNode, 0, size)
	for i := range size {
		n := startScaleNode(t, "s"+itoa(i))
		nodes = append(nodes, n)
		if i > 0 {
			if _, err := n.c.Join([]string{nodes[0].c.Addr()}); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer func() { // stop like a crash, in parallel: leaving 100 nodes one by one is slow
		var wg sync.WaitGroup
		for _, n := range nodes {
			wg.Go(n.kill)
		}
		wg.Wait()
	}()
	poll.Until(t, 3*time.Minute, fmt.Sprintf("%d nodes alive everywhere", size), func() bool { return allAlive(nodes, size) })
	time.Sleep(2 * time.Second) // let join chatter settle

	sent := func() uint64 {
		var s uint64
		for _, n := range nodes {
			s += n.c.tr.sent.Load()
		}
		return s
	}
	pulls := func() float64 {
		var s float64
		for _, n := range nodes {
			var m dto.Metric
			_ = n.c.met.pulls.Write(&m)
			s += m.GetCounter().GetValue()
		}
		return s
	}
	rate := func(bytes uint64, d time.Duration) float64 { return float64(bytes) / float64(size) / d.Seconds() }

	restStart, restBytes := time.Now(), sent()
	time.Sleep(5 * time.Second)
	rest := rate(sent()-restBytes, time.Since(restStart))

	measure := func(trials int, publish func(n *testNode, key, value string)) ([]time.Duration, float64, float64) {
		var times []time.Duration
		start, bytes0, pulls0 := time.Now(), sent(), pulls()
		for i := range trials {
			key, value := "fn/"+itoa(i%10), fmt.Sprintf("v%d-%d", i, time.Now().UnixNano())
			began := time.Now()
			publish(nodes[(i*7)%size], key, value)
			poll.Until(t, 30*time.Second, "convergence", func() bool { return converged(nodes, key, value) })
			times = append(times, time.Since(began))
			time.Sleep(time.Second) // deploys a second apart
		}
		return times, rate(sent()-bytes0, time.Since(start)), (pulls() - pulls0) / float64(trials)
	}
	bcast, deployRate, pullsPer := measure(trials, func(n *testNode, k, v string) { n.set(k, v) })
	digestOnly, _, _ := measure(max(trials/4, 3), func(n *testNode, k, v string) { n.st.Set(k, v) })
	return fmt.Sprintf("| %d | %v | %v | %v | %v | %v | %.1f | %.0f | %.0f |", size,
		pct(bcast, 50), pct(bcast, 99), pct(bcast, 100), pct(digestOnly, 50), pct(digestOnly, 99), pullsPer, rest, deployRate)
}

// startScaleNode starts a node with the production timings.
func startScaleNode(t testing.TB, name string) *testNode {
	n := &testNode{t: t, name: name, st: newLWW(name), blobs: newMemBlobs(), purged: map[string]int{}}
	c, err := New(Config{NodeName: name, BindAddr: "127.0.0.1:0", Label: "verge-scale", SecretKey: testKey}, n.st, n.blobs, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	n.c = c
	return n
}

// pct returns the p-th percentile (nearest rank) of ds, rounded to milliseconds.
func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := max((p*len(s)+99)/100-1, 0)
	return s[i].Round(time.Millisecond)
}
