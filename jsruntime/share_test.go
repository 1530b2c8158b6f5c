package jsruntime

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/internal/poll"
	"github.com/vergecdn/verge/kvs"
)

// versionOpts are the options of version v of a shared function named "fn" whose handler
// answers "v<version>" (after 1.5 s for the URI /slow).
func versionOpts(ws *Workers, version string) Options {
	return Options{Name: "fn", Version: version, Isolation: Process, Limits: hooks.Limits{Timeout: 5 * time.Second},
		Code: SingleFile(`exports.handler = async (e) => {
  if (e.Records[0].cf.request.uri === '/slow') await new Promise((ok) => setTimeout(ok, 1500));
  return { status: '200', body: 'v` + version + `' };
}`),
		Worker: WorkerOptions{Command: []string{os.Args[0]}, Env: []string{WorkerEnv + "=1"}, Group: ws.Group("fn")}}
}

// newWorkers returns a Workers whose spare workers stop when the test ends.
func newWorkers(t testing.TB) *Workers {
	ws := NewWorkers(0, 0)
	t.Cleanup(ws.Close)
	return ws
}

func newShared(t *testing.T, o Options) *Function {
	t.Helper()
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	f, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// workerOf returns the live worker process of a Process Function.
func workerOf(t *testing.T, f *Function) *workerProc {
	t.Helper()
	w := f.backend.(*remote).h.current()
	if w == nil {
		t.Fatalf("%s:%s has no live worker", f.Name(), f.Version())
	}
	return w
}

// waitTaken waits until something more than the first from bytes was written to w's calls
// ring and the worker has taken all that was written (its tail, the worker's word, caught up
// with the head), and returns the head. A test that writes one call at a time so knows that
// call reached the worker: no longer pending in the ring, it is not run again elsewhere
// should the worker die.
func waitTaken(t *testing.T, w *workerProc, from uint64) uint64 {
	t.Helper()
	var head uint64
	poll.Until(t, 10*time.Second, "the worker to take the call from its ring", func() bool {
		head = w.out.r.head.Load()
		return head > from && w.out.r.tail.Load() >= head
	})
	return head
}

// wantBody invokes f and checks that it answers body.
func wantBody(t *testing.T, f *Function, uri, body string) error {
	t.Helper()
	ev := seedEvent(t, hooks.ViewerRequest)
	ev.Request.URI = uri
	res, err := f.Invoke(context.Background(), ev)
	if err != nil {
		return err
	}
	if res.Response == nil || string(res.Response.Body) != body {
		t.Errorf("%s:%s answered %+v, want %q", f.Name(), f.Version(), res.Response, body)
	}
	return nil
}

// TestSharedWorkerVersions: two versions of one function in a group run in one worker process,
// each with its own code; a function of another group, or of the same group with other
// process settings, gets its own process. Closing one version leaves the other serving in the
// same process; closing the last one ends it.
func TestSharedWorkerVersions(t *testing.T) {
	ws := newWorkers(t)
	v1 := newShared(t, versionOpts(ws, "1"))
	v2 := newShared(t, versionOpts(ws, "2"))
	w := workerOf(t, v1)
	if workerOf(t, v2) != w {
		t.Fatalf("versions run in pids %d and %d, want one process", w.cmd.Process.Pid, workerOf(t, v2).cmd.Process.Pid)
	}
	other := versionOpts(ws, "1")
	other.Worker.Group = ws.Group("other")
	bigger := versionOpts(ws, "3")
	bigger.Worker.MemoryMB = 2048
	for _, o := range []Options{other, bigger} {
		if f := newShared(t, o); workerOf(t, f) == w {
			t.Errorf("group %q with worker memory %d MiB shares the process of fn", o.Worker.Group.name, o.Worker.MemoryMB)
		}
	}
	for _, f := range []*Function{v1, v2} {
		if err := wantBody(t, f, "/", "v"+f.Version()); err != nil {
			t.Fatal(err)
		}
	}

	v1.Close()
	if err := wantBody(t, v2, "/", "v2"); err != nil {
		t.Fatalf("v2 after v1 closed: %v", err)
	}
	if workerOf(t, v2) != w {
		t.Fatal("closing v1 replaced the process of v2")
	}
	v2.Close()
	select {
	case <-w.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the worker outlived the last version")
	}
}

// TestSharedWorkerLoadFailure: a version whose code has a syntax error, or throws at load,
// fails to load with the error New gives for it anywhere (a typed SyntaxError for the first),
// and the version already loaded in that worker serves on in the same process.
func TestSharedWorkerLoadFailure(t *testing.T) {
	ws := newWorkers(t)
	v1 := newShared(t, versionOpts(ws, "1"))
	w := workerOf(t, v1)

	bad := versionOpts(ws, "2")
	bad.Code = SingleFile("exports.handler = async (e) => {\n  return e.;\n};")
	_, err := New(bad)
	var se *SyntaxError
	if !errors.As(err, &se) || se.File != "index.js" || se.Line != 2 {
		t.Fatalf("syntax error: %#v (%v)", se, err)
	}
	throws := versionOpts(ws, "3")
	throws.Code = SingleFile(`throw new Error('boom')`)
	if _, err := New(throws); err == nil || !containsAll(err.Error(), "fn:3", "boom") {
		t.Fatalf("a version that throws at load: %v", err)
	}

	if err := wantBody(t, v1, "/", "v1"); err != nil {
		t.Fatalf("v1 after the failed loads: %v", err)
	}
	if workerOf(t, v1) != w {
		t.Fatal("a failed load replaced the worker")
	}
}

// TestSharedWorkerCrash: killing the shared process fails the calls in flight of both
// versions (hooks.Execution, a 503); the next call of each starts one new process and loads
// both versions into it again.
func TestSharedWorkerCrash(t *testing.T) {
	ws := newWorkers(t)
	fns := []*Function{newShared(t, versionOpts(ws, "1")), newShared(t, versionOpts(ws, "2"))}
	w := workerOf(t, fns[0])
	var wg sync.WaitGroup
	errs := make([]error, len(fns))
	// One call after the other, each taken by the worker: a call the worker had not yet taken
	// from its ring when it died is rightly run again on its successor.
	taken := w.out.r.head.Load()
	for i, f := range fns {
		wg.Go(func() {
			ev := seedEvent(t, hooks.ViewerRequest)
			ev.Request.URI = "/slow"
			_, errs[i] = f.Invoke(context.Background(), ev)
		})
		taken = waitTaken(t, w, taken)
	}
	_ = w.cmd.Process.Kill()
	wg.Wait()
	for i, err := range errs {
		if err == nil || hooks.KindOf(err) != hooks.Execution { // KindOf(nil) is Execution
			t.Errorf("v%d in flight when the worker died: %v, want an execution error", i+1, err)
		}
	}
	for _, f := range fns {
		if err := wantBody(t, f, "/", "v"+f.Version()); err != nil {
			t.Fatalf("%s after the crash: %v", f.Version(), err)
		}
	}
	if w2, w3 := workerOf(t, fns[0]), workerOf(t, fns[1]); w2 == w || w2 != w3 {
		t.Fatalf("after the crash: pids %d and %d (dead one %d), want one new process", w2.cmd.Process.Pid, w3.cmd.Process.Pid, w.cmd.Process.Pid)
	}
}

// TestSharedWorkerStores: two CloudFront versions in one worker each read their own
// KeyValueStore.
func TestSharedWorkerStores(t *testing.T) {
	ws := newWorkers(t)
	var fns []*Function
	for _, v := range []string{"1", "2"} {
		snap := &kvs.Snapshot{Name: "s" + v, Data: map[string]string{"k": "store" + v}}
		o := versionOpts(ws, v)
		o.Runtime = RuntimeCloudFrontJS2
		o.Code = SingleFile(`import cf from 'cloudfront';
const kvs = cf.kvs();
async function handler(event) {
  return { statusCode: 200, body: await kvs.get('k') };
}`)
		o.KVS = &KeyValueStore{Name: snap.Name, Snapshot: func() *kvs.Snapshot { return snap }}
		fns = append(fns, newShared(t, o))
	}
	if workerOf(t, fns[0]) != workerOf(t, fns[1]) {
		t.Fatal("the versions do not share a worker")
	}
	for _, f := range fns {
		if err := wantBody(t, f, "/", "store"+f.Version()); err != nil {
			t.Fatal(err)
		}
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// TestSharedWorkerCloseLetsCallsFinish: closing one version of a shared worker unloads it
// there, and its call in flight still gets its answer; the other version serves on.
func TestSharedWorkerCloseLetsCallsFinish(t *testing.T) {
	ws := newWorkers(t)
	v1, v2 := newShared(t, versionOpts(ws, "1")), newShared(t, versionOpts(ws, "2"))
	done := make(chan error, 1)
	w := workerOf(t, v1)
	before := w.out.r.head.Load()
	go func() { done <- wantBody(t, v1, "/slow", "v1") }()
	// Counted in flight before it is written: wait until the worker has taken it (the call
	// takes 1.5 s), as the activator closes a version only once its calls are done.
	waitTaken(t, w, before)
	v1.Close()
	if err := <-done; err != nil {
		t.Fatalf("the call in flight at Close: %v", err)
	}
	if err := wantBody(t, v1, "/", "v1"); err == nil || hooks.KindOf(err) != hooks.Execution { // KindOf(nil) is Execution
		t.Fatalf("a call after Close: %v", err)
	}
	if err := wantBody(t, v2, "/", "v2"); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkNewVersion measures what a deploy costs a node: New and Close of a version, in a
// process of its own or loaded into the worker its function already runs.
func BenchmarkNewVersion(b *testing.B) {
	for _, shared := range []bool{false, true} {
		name := map[bool]string{false: "own-process", true: "shared"}[shared]
		b.Run(name, func(b *testing.B) {
			ws := newWorkers(b)
			live, err := New(versionOpts(ws, "1"))
			if err != nil {
				b.Fatal(err)
			}
			defer live.Close()
			for b.Loop() {
				o := versionOpts(ws, "2")
				if !shared {
					o.Worker.Group = WorkerGroup{}
				}
				f, err := New(o)
				if err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
	}
}

// TestFailedReloadBacksOff: a version that loaded once but no longer loads into a restarted
// worker fails its calls at once while a back-off runs, instead of sending a load (which may
// take InitTimeout, or kill the shared worker) per call.
func TestFailedReloadBacksOff(t *testing.T) {
	o := versionOpts(newWorkers(t), "1")
	until := time.Now().Add(2 * time.Second)
	// The top-level code loads until a moment passes, and throws after it.
	o.Code = SingleFile(`if (Date.now() > ` + strconv.FormatInt(until.UnixMilli(), 10) + `) throw new Error('broken now');
exports.handler = async () => ({ status: '200', body: 'v1' });`)
	f := newShared(t, o)
	if err := wantBody(t, f, "/", "v1"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(until) + 10*time.Millisecond)
	_ = workerOf(t, f).cmd.Process.Kill()
	// The first call may meet the dead worker; one soon meets the failed load.
	var err error
	for range 3 {
		if err = wantBody(t, f, "/", "v1"); err != nil && strings.Contains(err.Error(), "broken now") {
			break
		}
	}
	if err == nil || !strings.Contains(err.Error(), "broken now") {
		t.Fatalf("calls after the restart: %v, want the load's error", err)
	}
	for range 2 {
		if err := wantBody(t, f, "/", "v1"); err == nil || !strings.Contains(err.Error(), "loading again in") {
			t.Fatalf("a call during the back-off: %v, want the last load error at once", err)
		}
	}
}

// spareOf waits for a spare worker of ws to be ready and returns it (ws's functions all have
// the same process settings).
func spareOf(t testing.TB, ws *Workers) *workerProc {
	t.Helper()
	var w *workerProc
	poll.Until(t, 20*time.Second, "a spare worker", func() bool {
		ws.mu.Lock()
		defer ws.mu.Unlock()
		for _, sp := range ws.spares {
			w = sp.w
		}
		return w != nil
	})
	return w
}

// TestSpareWorker: once a group has started a worker, the next process it or another group
// with the same settings needs is a spare started in the background. A spare that died idle
// is not handed out, and Close stops the spare.
func TestSpareWorker(t *testing.T) {
	ws := newWorkers(t)
	group := func(name string) Options {
		o := versionOpts(ws, "1")
		o.Name, o.Worker.Group = name, ws.Group(name)
		return o
	}
	a := newShared(t, group("a"))
	sp := spareOf(t, ws)
	if sp == workerOf(t, a) {
		t.Fatal("the spare is the worker it was started beside")
	}

	b := newShared(t, group("b"))
	if workerOf(t, b) != sp {
		t.Error("a new function's first version did not get the spare worker")
	}
	if err := wantBody(t, b, "/", "v1"); err != nil {
		t.Fatal(err)
	}

	next := spareOf(t, ws)
	if next == sp {
		t.Fatal("the spare handed out is still the spare")
	}
	_ = next.cmd.Process.Kill()
	poll.Until(t, 5*time.Second, "the killed spare to be seen as exited", next.exited)
	c := newShared(t, group("c"))
	if workerOf(t, c) == next {
		t.Error("a spare that died while idle was handed out")
	}
	if err := wantBody(t, c, "/", "v1"); err != nil {
		t.Fatal(err)
	}

	last := spareOf(t, ws)
	ws.Close()
	select {
	case <-last.done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close left the spare worker running")
	}
	if d := newShared(t, group("d")); wantBody(t, d, "/", "v1") != nil {
		t.Error("after Close, a new function did not get a worker of its own")
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for _, sp := range ws.spares {
		if sp.w != nil || sp.filling {
			t.Error("a spare was started after Close")
		}
	}
}

// TestPrepareSpare: a spare prepared before any Function ran is the first Function's worker,
// and preparing again while it is kept starts no second one.
func TestPrepareSpare(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	ws := newWorkers(t)
	o := versionOpts(ws, "1")
	ws.Prepare(o)
	sp := spareOf(t, ws)
	ws.Prepare(o)
	ws.mu.Lock()
	n := len(ws.spares)
	again := ws.spares[spareKey(processOptions(o.withDefaults()))]
	ws.mu.Unlock()
	if n != 1 || again == nil || again.w != sp || again.filling {
		t.Fatalf("preparing twice: %d spare entries, want the one kept and no start under way", n)
	}
	f := newShared(t, o)
	if workerOf(t, f) != sp {
		t.Error("the first function did not get the prepared spare")
	}
	if err := wantBody(t, f, "/", "v1"); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkNewFunction is the cold start of a function never run before: its first version
// in a new group, with a spare worker ready (one function has run before it), and without (a
// process start).
func BenchmarkNewFunction(b *testing.B) {
	for _, spare := range []bool{true, false} {
		b.Run(map[bool]string{true: "spare", false: "process-start"}[spare], func(b *testing.B) {
			ws := newWorkers(b)
			first, err := New(versionOpts(ws, "1"))
			if err != nil {
				b.Fatal(err)
			}
			defer first.Close()
			n := 0
			for b.Loop() {
				n++
				o := versionOpts(ws, "1")
				o.Name = "fn" + strconv.Itoa(n)
				o.Worker.Group = ws.Group(o.Name)
				if spare {
					b.StopTimer()
					spareOf(b, ws)
					b.StartTimer()
				} else {
					o.Worker.Group = WorkerGroup{}
				}
				f, err := New(o)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				f.Close()
				b.StartTimer()
			}
		})
	}
}

// capMetrics returns new Metrics and a reader of their count of processes ended for room.
func capMetrics(t *testing.T) (*Metrics, func() float64) {
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return m, func() float64 { return counterValue(m.reclaims) }
}

func counterValue(c prometheus.Counter) float64 {
	var d dto.Metric
	_ = c.Write(&d)
	return d.GetCounter().GetValue()
}

// groupFn returns version 1 of function name, alone in its group of ws, recording to m if not
// nil.
func groupFn(t *testing.T, ws *Workers, name string, m *Metrics) *Function {
	o := versionOpts(ws, "1")
	o.Name, o.Worker.Group, o.Metrics = name, ws.Group(name), m
	return newShared(t, o)
}

// cappedWorkers returns a Workers keeping maxLive processes once idle for idle, closed when
// the test ends.
func cappedWorkers(t *testing.T, maxLive int, idle time.Duration) *Workers {
	ws := NewWorkers(maxLive, 0)
	ws.idleForRoom = idle
	t.Cleanup(ws.Close)
	return ws
}

// TestWorkersCap: past its cap, a Workers ends the process of the function called least
// recently among those with no call in flight, and only that one. The function whose process
// was ended answers its next call from a new one; processes ended young for room do not count
// as crashes, so such restarts do not back off.
func TestWorkersCap(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	ws := cappedWorkers(t, 2, 0) // any process with no call in flight may go (TestWorkersCapBurst: the age)
	m, reclaimed := capMetrics(t)
	m.CountWorkers(ws)
	running := func() float64 {
		var d dto.Metric
		_ = m.workers.Write(&d)
		return d.GetGauge().GetValue()
	}
	fn := func(name string) *Function { return groupFn(t, ws, name, m) }
	ended := func(w *workerProc) bool {
		select {
		case <-w.done:
			return true
		case <-time.After(5 * time.Second):
			return false
		}
	}
	a, b := fn("a"), fn("b")
	if err := wantBody(t, a, "/", "v1"); err != nil { // b is now the least recently called
		t.Fatal(err)
	}
	wa, wb := workerOf(t, a), workerOf(t, b)
	c := fn("c")
	if !ended(wb) || wa.isDead() || reclaimed() != 1 {
		t.Fatalf("starting c: b's process ended %v (%s), a's dead %v, %v reclaimed; want b's ended only",
			wb.isDead(), wb.reason(), wa.isDead(), reclaimed())
	}
	if n := running(); n != 2 {
		t.Errorf("verge_function_workers is %v after starting c, want 2 (a's and c's)", n)
	}
	if rb := b.backend.(*remote); rb.h.current() != nil || rb.loaded.Load() != nil {
		t.Error("b's host or program still holds the process ended for room: it is not collected until b's next call")
	}
	if err := wantBody(t, b, "/", "v1"); err != nil { // starts b again, which ends a (c started after a's call)
		t.Fatalf("b after its process was ended: %v", err)
	}
	if !ended(wa) {
		t.Fatal("b's new process did not end a's")
	}

	// c's call is older than b's, but in flight: b's process goes when a's starts again.
	wc, wb2 := workerOf(t, c), workerOf(t, b)
	slow := make(chan error, 1)
	go func() { slow <- wantBody(t, c, "/slow", "v1") }()
	for n, _ := c.Stats(); n == 0; n, _ = c.Stats() {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // registered with the worker before the next call
	if err := wantBody(t, b, "/", "v1"); err != nil {
		t.Fatal(err)
	}
	if err := wantBody(t, a, "/", "v1"); err != nil {
		t.Fatalf("a after its process was ended: %v", err)
	}
	if !ended(wb2) || wc.isDead() {
		t.Fatalf("starting a again: b's process ended %v, c's (with a call in flight) dead %v", wb2.isDead(), wc.isDead())
	}
	// b's processes both ended within a second of starting: were they crashes, its next
	// start would back off. It ends a's (c's call is still in flight).
	if err := wantBody(t, b, "/", "v1"); err != nil {
		t.Fatalf("b's third process: %v", err)
	}
	if err := <-slow; err != nil {
		t.Fatalf("c's call in flight: %v", err)
	}
	if n := reclaimed(); n != 4 {
		t.Errorf("%v processes reclaimed, want 4 (b, a, b, a)", n)
	}
}

// TestWorkersCapBurst: a process called within idleForRoom is not ended for room, so while
// more functions than the cap are busy the node runs more processes rather than ending busy
// ones (which would leave each call waiting for a process start); once they are idle it comes
// back to the cap by itself; and past roomBurst times the cap it ends the least recently called
// process however recent.
func TestWorkersCapBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	m, reclaimed := capMetrics(t)
	fn := func(ws *Workers, name string) *Function { return groupFn(t, ws, name, m) }

	ws := cappedWorkers(t, 1, time.Second)
	a := fn(ws, "a")
	wa := workerOf(t, a)
	b := fn(ws, "b")
	wb := workerOf(t, b)
	if wa.isDead() || reclaimed() != 0 {
		t.Fatalf("starting b ended a's process, called %v ago: %s", time.Since(time.Unix(0, a.backend.(*remote).h.lastUse.Load())), wa.reason())
	}
	poll.Until(t, 10*time.Second, "a's process, idle, ended for room", wa.isDead)
	if wb.isDead() || ws.Running() != 1 || reclaimed() != 1 {
		t.Fatalf("after the trim: b's process dead %v, %d running, %v reclaimed; want b's only, 1 reclaimed", wb.isDead(), ws.Running(), reclaimed())
	}
	if err := wantBody(t, a, "/", "v1"); err != nil {
		t.Fatalf("a after its process was ended: %v", err)
	}

	burst := cappedWorkers(t, 1, time.Minute)
	var procs []*workerProc
	for _, name := range []string{"c", "d", "e", "f", "g"} {
		procs = append(procs, workerOf(t, fn(burst, name)))
	}
	poll.Until(t, 10*time.Second, "c's process ended past the burst bound", procs[0].isDead)
	for i, w := range procs[1:] {
		if w.isDead() {
			t.Errorf("process %d of the burst ended: %s", i+1, w.reason())
		}
	}
	if n := burst.Running(); n != roomBurst {
		t.Errorf("%d processes run, want %d (the burst bound for a cap of 1)", n, roomBurst)
	}
}

// TestWorkersCapSlowCall: a process is idle from the end of its last call, not its start: a
// call longer than idleForRoom leaves its process kept when another starts right after it.
func TestWorkersCapSlowCall(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	ws := cappedWorkers(t, 1, time.Second)
	fn := func(name string) *Function { return groupFn(t, ws, name, nil) }
	a := fn("a")
	if err := wantBody(t, a, "/slow", "v1"); err != nil { // 1.5 s
		t.Fatal(err)
	}
	wa := workerOf(t, a)
	fn("b")
	if wa.isDead() {
		t.Fatalf("starting b ended a's process, whose 1.5 s call had just ended: %s", wa.reason())
	}
	poll.Until(t, 10*time.Second, "a's process ended once idle", wa.isDead)
}

// idleEndWorkers returns a Workers with no cap that ends processes idle for maxIdle, closed
// when the test ends (which it skips with -short: it starts worker processes).
func idleEndWorkers(t *testing.T, maxIdle time.Duration) *Workers {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	ws := NewWorkers(0, maxIdle)
	t.Cleanup(ws.Close)
	return ws
}

// TestWorkersIdleEnd: with maxIdle set and no cap, a process that goes maxIdle without a
// call is ended, and counted as such; one called meanwhile is kept, and so is one whose call
// in flight lasts longer than maxIdle, until it has been idle that long after the call. The
// function's next call starts its process again.
func TestWorkersIdleEnd(t *testing.T) {
	const maxIdle = time.Second
	ws := idleEndWorkers(t, maxIdle)
	m, reclaimed := capMetrics(t)
	a := groupFn(t, ws, "a", m)
	wa := workerOf(t, a)
	stop, calling := make(chan struct{}), make(chan error, 1)
	go func() { // a is called every 20 ms from its start until stop
		for {
			select {
			case <-stop:
				calling <- nil
				return
			case <-time.After(20 * time.Millisecond):
				if err := wantBody(t, a, "/", "v1"); err != nil {
					calling <- err
					return
				}
			}
		}
	}()
	// Each process is taken as soon as its function is made: b's, never called, may end while
	// c's starts on a loaded machine.
	b := groupFn(t, ws, "b", m)
	wb := workerOf(t, b)
	c := groupFn(t, ws, "c", m)
	wc := workerOf(t, c)
	if err := wantBody(t, c, "/slow", "v1"); err != nil { // 1.5 s
		t.Fatal(err)
	}
	if wc.isDead() {
		t.Fatalf("c's process ended during its 1.5 s call: %s", wc.reason())
	}
	poll.Until(t, 10*time.Second, "b's process (never called) ended", wb.isDead)
	close(stop)
	if err := <-calling; err != nil {
		t.Fatalf("a's calls: %v", err)
	}
	if wa.isDead() {
		t.Fatalf("a's process, called every 20 ms, ended: %s", wa.reason())
	}
	poll.Until(t, 10*time.Second, "every process ended once idle", func() bool { return ws.Running() == 0 })
	if !wa.isDead() || !wc.isDead() || counterValue(m.idleEnds) != 3 || reclaimed() != 0 {
		t.Fatalf("a's dead %v, c's %v, %v ended idle, %v for room; want 3 and 0",
			wa.isDead(), wc.isDead(), counterValue(m.idleEnds), reclaimed())
	}
	if err := wantBody(t, b, "/", "v1"); err != nil {
		t.Fatalf("b after its process was ended: %v", err)
	}
	if n := ws.Running(); n != 1 {
		t.Fatalf("%d processes after b's call, want 1", n)
	}
}

// TestWorkersIdleEndLoad: a version loaded into a process counts as a use: the process is
// not ended maxIdle after its last call if a load came since.
func TestWorkersIdleEndLoad(t *testing.T) {
	// The load comes 0.4 maxIdle after the first version's, so that a slow start of the
	// second version on a loaded machine still finds the process; the check 0.7 maxIdle later.
	const maxIdle = 2 * time.Second
	ws := idleEndWorkers(t, maxIdle)
	v1 := newShared(t, versionOpts(ws, "1"))
	w := workerOf(t, v1)
	time.Sleep(maxIdle * 4 / 10)
	loaded := time.Now()
	v2 := newShared(t, versionOpts(ws, "2")) // loads into the same process
	if workerOf(t, v2) != w {
		t.Fatal("version 2 got a process of its own")
	}
	time.Sleep(maxIdle * 7 / 10) // past maxIdle from the start, within it from the load
	if w.isDead() && time.Since(loaded) < maxIdle {
		t.Fatalf("the process was ended %v after a version was loaded into it: %s", time.Since(loaded), w.reason())
	}
	poll.Until(t, 10*time.Second, "the process ended once idle", w.isDead)
}

// TestWorkersLookAgain: a look due earlier than the one armed brings it forward (past the
// burst bound a call in flight may end any time), one due later leaves it, and a closed
// Workers arms none.
func TestWorkersLookAgain(t *testing.T) {
	ws := NewWorkers(1, 0)
	now := time.Now()
	ws.lookAgain(now.Add(time.Hour))
	ws.lookAgain(now.Add(time.Minute))
	ws.lookAgain(now.Add(2 * time.Hour))
	ws.mu.Lock()
	at, armed := ws.trimAt, ws.trim != nil
	ws.mu.Unlock()
	if !armed || !at.Equal(now.Add(time.Minute)) {
		t.Fatalf("next look armed %v, at %v from now; want in a minute", armed, at.Sub(now))
	}
	ws.Close()
	ws.lookAgain(now.Add(time.Second))
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.trim != nil {
		t.Error("a closed Workers armed a look")
	}
}

// TestWorkersCapUnderLoad: calls to three functions from four goroutines, under a cap of one
// process, keep ending each other's processes, and none of them fails: a call never reaches a
// process ended for room, and one that finds its process ended starts another.
func TestWorkersCapUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	ws := cappedWorkers(t, 1, 0)
	var fns []*Function
	for _, name := range []string{"a", "b", "c"} {
		fns = append(fns, groupFn(t, ws, name, nil))
	}
	until := time.Now().Add(1500 * time.Millisecond)
	var calls, failed atomic.Int64
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; time.Now().Before(until); i++ {
				calls.Add(1)
				if err := wantBody(t, fns[i%len(fns)], "/", "v1"); err != nil {
					failed.Add(1)
					t.Errorf("call %d: %v", i, err)
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() != 0 || calls.Load() < int64(len(fns)) {
		t.Fatalf("%d of %d calls failed", failed.Load(), calls.Load())
	}
	t.Logf("%d calls", calls.Load())
}

// TestWorkersCapSparesPinned: a worker pinned by a caller about to register its call (between
// ready and register, or during a load's start) is not ended for room; once unpinned, it is.
func TestWorkersCapSparesPinned(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	ws := cappedWorkers(t, 1, 0)
	fn := func(name string) *Function { return groupFn(t, ws, name, nil) }
	a := fn("a")
	wa := workerOf(t, a)
	if !wa.pin() {
		t.Fatal("a's live worker did not pin")
	}
	fn("b")
	if wa.isDead() {
		t.Fatal("a's pinned worker was ended for room")
	}
	wa.unpin()
	fn("c")
	if !wa.isDead() {
		t.Fatal("a's worker, idle and unpinned, was not ended for room")
	}
	if wa.pin() {
		t.Error("a worker ended for room pinned")
	}
}
