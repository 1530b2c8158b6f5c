package deploy

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/internal/poll"
	"github.com/vergecdn/verge/internal/proctest"
	"github.com/vergecdn/verge/jsruntime"
	"github.com/vergecdn/verge/registry"
)

// workerPIDs returns the live (not zombie) child processes of this test process: its workers.
func workerPIDs(t *testing.T) []int {
	t.Helper()
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	return proctest.Children(os.Getpid())
}

// TestOneWorkerPerFunction: with versions in worker processes, moving an alias across the
// versions of a function loads each new version into the function's running worker: the node
// keeps exactly one worker per function and one spare (the same processes throughout), every
// move is live when Sync returns, and no request fails while the versions change under it.
func TestOneWorkerPerFunction(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	reg := newRegistry(t)
	for v := 1; v <= 4; v++ {
		publish(t, reg, "f", answer("v"+strconv.Itoa(v), 2))
	}
	publish(t, reg, "g", answer("g", 0))
	if _, err := reg.PutAlias("t", "f", "live", registry.AliasSpec{Version: 1}); err != nil {
		t.Fatal(err)
	}
	for _, as := range []registry.Association{
		{Behavior: "default", Event: "viewer-request", Function: "f", Qualifier: "live"},
		{Behavior: "api", Event: "viewer-request", Function: "g", Qualifier: "1"},
	} {
		if _, err := reg.Associate("t", as); err != nil {
			t.Fatal(err)
		}
	}
	a, tb := startActivator(t, Options{Registry: reg, DrainDelay: 10 * time.Second,
		Worker: jsruntime.WorkerOptions{Command: []string{os.Args[0]}, Env: []string{jsruntime.WorkerEnv + "=1"}}})
	var workers []int
	poll.Until(t, 10*time.Second, "a worker per function and a spare", func() bool {
		workers = workerPIDs(t)
		return len(workers) == 3
	})

	var calls, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var once sync.Once
	halt := func() { once.Do(func() { close(stop); wg.Wait() }) }
	t.Cleanup(halt) // before the Activator closes, if the test stops early
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				calls.Add(1)
				if v, err := version(tb.last()); err != nil || !strings.HasPrefix(v, "v") {
					failed.Add(1)
					t.Errorf("a request during the moves: %q, %v", v, err)
				}
			}
		})
	}
	for _, v := range []int{2, 3, 4, 1, 3} {
		moveAlias(t, a, reg, v)
		if got, err := version(tb.last()); err != nil || got != "v"+strconv.Itoa(v) {
			t.Fatalf("after moving to %d: %q, %v", v, got, err)
		}
		poll.Until(t, 5*time.Second, "the replaced version to close", func() bool { _, draining := a.Stats(); return draining == 0 })
		if got := workerPIDs(t); !slices.Equal(got, workers) {
			t.Fatalf("after moving to %d the worker pids are %v, want %v throughout", v, got, workers)
		}
	}
	halt()
	tb.mu.Lock()
	g := tb.all[len(tb.all)-1]["api"][hooks.ViewerRequest].Function
	tb.mu.Unlock()
	if got, err := version(g); err != nil || got != "g" {
		t.Fatalf("the other function: %q, %v", got, err)
	}
	if calls.Load() == 0 || failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed", failed.Load(), calls.Load())
	}
	t.Logf("%d requests during 5 moves", calls.Load())
}

// TestMaxWorkers: with MaxWorkers 1, three attached functions share the node's one worker
// slot: called in turn, each answers from its own code (its process started again for the
// call if it had been ended), and once they are idle, one worker process runs beside the
// spare (jsruntime's tests check the order in which they go).
func TestMaxWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	reg := newRegistry(t)
	names := []string{"f", "g", "h"}
	for _, fn := range names {
		publish(t, reg, fn, answer(fn, 0))
		if _, err := reg.Associate("t", registry.Association{Behavior: fn, Event: "viewer-request", Function: fn, Qualifier: "1"}); err != nil {
			t.Fatal(err)
		}
	}
	_, tb := startActivator(t, Options{Registry: reg, MaxWorkers: 1,
		Worker: jsruntime.WorkerOptions{Command: []string{os.Args[0]}, Env: []string{jsruntime.WorkerEnv + "=1"}}})
	for round := range 2 {
		for _, fn := range names {
			tb.mu.Lock()
			f := tb.all[len(tb.all)-1][fn][hooks.ViewerRequest].Function
			tb.mu.Unlock()
			if got, err := version(f); err != nil || got != fn {
				t.Fatalf("round %d, %s answered %q, %v", round, fn, got, err)
			}
		}
		poll.Until(t, 10*time.Second, "one worker and the spare", func() bool { return len(workerPIDs(t)) == 2 })
	}
}
