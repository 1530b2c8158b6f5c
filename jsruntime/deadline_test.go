package jsruntime

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vergecdn/verge/hooks"
)

// deepStringify builds an object nested 1e5 deep and serialises it: goja's JSON.stringify
// checks for cycles along its whole path at every level and never looks at the interrupt, so
// it runs for a minute past any deadline.
const deepStringify = `let o = {}; for (let i = 0; i < 1e5; i++) o = {o}; JSON.stringify(o);`

// TestWorkerDeadlinesFromOutside: an invocation stuck in a native built-in that ignores the
// runtime's interrupt is answered with a timeout at its deadline, and its worker is killed by
// the node at the deadline plus Grace; module code stuck the same way at init is killed at
// InitTimeout plus Grace, and New says so.
func TestWorkerDeadlinesFromOutside(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	wo := WorkerOptions{Command: []string{os.Args[0]}, Env: []string{WorkerEnv + "=1"}, Grace: 300 * time.Millisecond}
	f, err := New(Options{Code: SingleFile(`exports.handler = async () => { ` + deepStringify + ` return null }`),
		Isolation: Process, Limits: hooks.Limits{Timeout: 500 * time.Millisecond}, Worker: wo})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := f.backend.(*remote)
	r.mu.Lock()
	w := r.w
	r.mu.Unlock()
	start := time.Now()
	_, err = f.Invoke(context.Background(), seedEvent(t, hooks.ViewerRequest))
	if d := time.Since(start); hooks.KindOf(err) != hooks.Timeout || d > 2*time.Second {
		t.Fatalf("after %v: %v; want a timeout at 0.5 s + grace", d, err)
	}
	select {
	case <-w.done:
	case <-time.After(2 * time.Second):
		t.Fatal("the stuck worker was not killed")
	}

	start = time.Now()
	_, err = New(Options{Code: SingleFile(deepStringify + `exports.handler = async () => null`), Isolation: Process,
		InitTimeout: 500 * time.Millisecond, Worker: wo})
	if d := time.Since(start); err == nil || !strings.Contains(err.Error(), "took longer than") || d > 3*time.Second {
		t.Fatalf("init after %v: %v", d, err)
	}
}
