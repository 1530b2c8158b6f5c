package deploy

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vergecdn/verge/edge"
	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/internal/poll"
	"github.com/vergecdn/verge/jsruntime"
	"github.com/vergecdn/verge/registry"
)

// tables is a Target that keeps every attachment table it is given, so that a test can call
// a table's functions after a newer one replaced it, as a request in flight does.
type tables struct {
	mu  sync.Mutex
	all []edge.Attachments
}

func (t *tables) SetAttachments(a edge.Attachments) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.all = append(t.all, a)
}

// last returns the function the newest table runs at viewer-request of the default behavior.
func (t *tables) last() hooks.Function {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.all[len(t.all)-1]["default"][hooks.ViewerRequest].Function
}

// started is an Activator on a fresh registry, started on a tables Target, with function
// "f" published in the given versions, alias "live" on version 1, and the default behavior's
// viewer-request associated with f:live.
func started(t *testing.T, o Options, versions ...[]byte) (*Activator, *registry.Store, *tables) {
	t.Helper()
	reg := newRegistry(t)
	for _, code := range versions {
		publish(t, reg, "f", code)
	}
	if _, err := reg.PutAlias("t", "f", "live", registry.AliasSpec{Version: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Associate("t", registry.Association{Behavior: "default", Event: "viewer-request", Function: "f", Qualifier: "live"}); err != nil {
		t.Fatal(err)
	}
	o.Registry, o.InProcess = reg, true
	a, tb := startActivator(t, o)
	return a, reg, tb
}

// newRegistry returns an empty registry that closes when the test ends.
func newRegistry(t *testing.T) *registry.Store {
	t.Helper()
	reg, err := registry.Open(registry.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	return reg
}

// publish uploads code as function fn's $LATEST and publishes it as its next version.
func publish(t *testing.T, reg *registry.Store, fn string, code []byte) {
	t.Helper()
	if _, err := reg.PutCode("t", fn, registry.Upload{Package: code}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := reg.Publish("t", fn, ""); err != nil {
		t.Fatal(err)
	}
}

// startActivator builds an Activator from o, starts it on a table recorder and closes it when the test
// ends.
func startActivator(t *testing.T, o Options) (*Activator, *tables) {
	t.Helper()
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	tb := &tables{}
	if err := a.Start(tb); err != nil {
		t.Fatal(err)
	}
	return a, tb
}

// answer is a viewer-request function that waits ms milliseconds, then answers 403 with
// X-Version: v.
func answer(v string, ms int) []byte {
	return fmt.Appendf(nil, `exports.handler = async () => {
  await new Promise((resolve) => setTimeout(resolve, %d));
  return {status: '403', headers: {'x-version': [{key: 'X-Version', value: %q}]}};
};`, ms, v)
}

// version calls fn on a viewer request and returns the X-Version of its answer.
func version(fn hooks.Function) (string, error) {
	res, err := fn.Invoke(context.Background(), &hooks.Event{Stage: hooks.ViewerRequest,
		Request: &hooks.Request{ClientIP: "192.0.2.1", Method: "GET", URI: "/"}})
	if err != nil {
		return "", err
	}
	if res.Response == nil {
		return "", fmt.Errorf("no response")
	}
	return res.Response.Headers.Get("x-version"), nil
}

func moveAlias(t *testing.T, a *Activator, reg *registry.Store, v int) {
	t.Helper()
	if _, err := reg.PutAlias("t", "f", "live", registry.AliasSpec{Version: v}); err != nil {
		t.Fatal(err)
	}
	if err := a.Sync(); err != nil {
		t.Fatal(err)
	}
}

// TestReplacedVersionClosesWhenIdle: a replaced version with a call in flight stays open
// until that call ends (the call finishes on it), then closes at once, long before
// DrainDelay; an idle replaced version closes at the swap.
func TestReplacedVersionClosesWhenIdle(t *testing.T) {
	for i, ms := range callLengths {
		a, reg, tb, got, ok := swapDuringCall(t, Options{DrainDelay: time.Hour}, i, ms)
		if !ok {
			continue
		}
		if v := <-got; v != "one" {
			t.Fatalf("the call in flight answered %q, want it to finish on version one", v)
		}
		poll.Until(t, 5*time.Second, "version one to close after its last call", func() bool { _, d := a.Stats(); return d == 0 })
		moveAlias(t, a, reg, 3) // version two is idle: it closes at the swap
		poll.Until(t, 5*time.Second, "idle version two to close", func() bool { _, d := a.Stats(); return d == 0 })
		if v, err := version(tb.last()); v != "three" || err != nil {
			t.Fatalf("live: %q %v", v, err)
		}
		return
	}
}

// callLengths are the lengths, in ms, a test's call in flight tries in turn: JavaScript can
// wait for nothing the test controls, only for a timer, so a machine too loaded to swap
// versions while a call of 300 ms runs gets the test again with a longer call.
var callLengths = []int{300, 1500, 6000}

// stillInFlight reports whether the call of f started by inFlight, the i-th of callLengths,
// still runs, and so ran when the stats just read were read. If it does not, and a longer
// length is left, it waits for the call's end and logs that the test runs again; the last
// length is taken as running.
func stillInFlight(t *testing.T, f *jsruntime.Function, i int, got <-chan string) bool {
	t.Helper()
	if inUse, _ := f.Stats(); inUse == 1 || i == len(callLengths)-1 {
		return true
	}
	<-got
	t.Logf("the %d ms call ended before the swap's stats were read: again with a %d ms one", callLengths[i], callLengths[i+1])
	return false
}

// TestCallAfterCloseRunsCurrent: a request that picked the old table before a swap and calls
// its function after the replaced version closed (another stage of it, after a slow origin)
// runs the version that replaced it rather than failing.
func TestCallAfterCloseRunsCurrent(t *testing.T) {
	a, reg, tb := started(t, Options{DrainDelay: time.Hour}, answer("one", 0), answer("two", 0))
	old := tb.last()
	moveAlias(t, a, reg, 2)
	poll.Until(t, 5*time.Second, "version one to close", func() bool { _, d := a.Stats(); return d == 0 })
	if v, err := version(old); v != "two" || err != nil {
		t.Fatalf("a call through the old table: %q %v, want two", v, err)
	}
	if err := reg.Dissociate("t", "default", "viewer-request"); err != nil {
		t.Fatal(err)
	}
	if err := a.Sync(); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 5*time.Second, "version two to close", func() bool { at, d := a.Stats(); return at == 0 && d == 0 })
	if _, err := version(old); err == nil || hooks.KindOf(err) != hooks.Execution {
		t.Fatalf("a call after the association was removed: %v, want an execution error (503)", err)
	}
}

// TestMaxVersions: building past the cap first closes replaced versions, even with a call in
// flight (the call still finishes); when the attached versions alone are at the cap, the
// association keeps its previous target and Failures reports it.
func TestMaxVersions(t *testing.T) {
	for i, ms := range callLengths {
		a, reg, tb, got, ok := swapDuringCall(t, Options{DrainDelay: time.Hour, MaxVersions: 2}, i, ms)
		if !ok {
			continue
		}
		moveAlias(t, a, reg, 3) // at the cap: version one closes, its call goes on
		if attached, draining := a.Stats(); attached != 1 || draining > 1 {
			t.Fatalf("after the second move: %d attached, %d draining", attached, draining)
		}
		if v := <-got; v != "one" {
			t.Fatalf("the call in flight answered %q", v)
		}
		if f := a.Failures(); len(f) != 0 {
			t.Fatalf("failures: %v", f)
		}
		// Two versions at once, plus the one attached: over the cap.
		if _, err := reg.PutAlias("t", "f", "live", registry.AliasSpec{Version: 1, AdditionalVersion: 2, Weight: 0.5}); err != nil {
			t.Fatal(err)
		}
		if err := a.Sync(); err != nil {
			t.Fatal(err)
		}
		if v, err := version(tb.last()); v != "three" || err != nil {
			t.Fatalf("live: %q %v, want the previous target, three", v, err)
		}
		if f := a.Failures(); len(f) != 1 {
			t.Fatalf("failures: %v", f)
		}
		return
	}
}

// swapDuringCall starts an Activator with o and versions one (answering after the i-th of
// callLengths, ms), two and three, calls one, and moves the alias to two during the call: then
// one drains. ok is false if the call ended before the stats were read (see stillInFlight):
// the caller goes on to a longer call.
func swapDuringCall(t *testing.T, o Options, i, ms int) (a *Activator, reg *registry.Store, tb *tables, got <-chan string, ok bool) {
	t.Helper()
	a, reg, tb = started(t, o, answer("one", ms), answer("two", 0), answer("three", 0))
	f1 := onlyVersion(t, a)
	got = inFlight(t, tb.last(), f1)
	moveAlias(t, a, reg, 2)
	attached, draining := a.Stats()
	if !stillInFlight(t, f1, i, got) {
		return a, reg, tb, got, false
	}
	if attached != 1 || draining != 1 {
		t.Fatalf("during the call, after the move to two: %d attached, %d draining; want 1, 1", attached, draining)
	}
	return a, reg, tb, got, true
}

// onlyVersion returns the one version a has built.
func onlyVersion(t *testing.T, a *Activator) *jsruntime.Function {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.cache) != 1 {
		t.Fatalf("%d versions built, want 1", len(a.cache))
	}
	for _, f := range a.cache {
		return f
	}
	return nil
}

// inFlight calls fn in the background and returns once f runs the call; the channel gets the
// answer's X-Version (or the error).
func inFlight(t *testing.T, fn hooks.Function, f *jsruntime.Function) <-chan string {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		v, err := version(fn)
		if err != nil {
			v = err.Error()
		}
		got <- v
	}()
	poll.Until(t, 5*time.Second, "the call to be in flight", func() bool { inUse, _ := f.Stats(); return inUse == 1 })
	return got
}
