package jsruntime

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/internal/poll"
)

func newProcessFn(t *testing.T, src string) *Function {
	t.Helper()
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	f, err := New(Options{Name: "remote", Code: SingleFile(src), Isolation: Process, MaxConcurrency: 16,
		Limits: hooks.Limits{Timeout: 5 * time.Second},
		Worker: WorkerOptions{Command: []string{os.Args[0]}, Env: []string{WorkerEnv + "=1"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// newSlowFn returns a worker function that answers its request at once, or after ms
// milliseconds for the URI /slow, with an event of each kind.
func newSlowFn(t *testing.T, ms int) (f *Function, ev, slow *hooks.Event) {
	t.Helper()
	f = newProcessFn(t, `exports.handler = async (e) => {
  const r = e.Records[0].cf.request;
  if (r.uri === '/slow') await new Promise((ok) => setTimeout(ok, `+strconv.Itoa(ms)+`));
  return r;
}`)
	ev = seedEvent(t, hooks.ViewerRequest)
	s := *ev
	s.Request = ev.Request.Clone()
	s.Request.URI = "/slow"
	return f, ev, &s
}

// TestProcessConcurrentResults: concurrent invocations on one worker, finishing out of order,
// each get their own result whichever caller happens to read the results ring.
func TestProcessConcurrentResults(t *testing.T) {
	f := newProcessFn(t, `exports.handler = async (e) => {
  const r = e.Records[0].cf.request;
  await new Promise((ok) => setTimeout(ok, Number(r.querystring) % 7));
  return r;
}`)
	ev := seedEvent(t, hooks.ViewerRequest)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 15 {
				e := *ev
				e.Request = ev.Request.Clone()
				e.Request.QueryString = strconv.Itoa(g*100 + i)
				res, err := f.Invoke(context.Background(), &e)
				if err != nil {
					t.Error(err)
					return
				}
				if res.Request == nil || res.Request.QueryString != e.Request.QueryString {
					t.Errorf("call %s got %+v", e.Request.QueryString, res.Request)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestProcessCancelAndIdleDeath: a cancelled invocation returns at once and the worker keeps
// serving (its late result is dropped); a worker that dies between invocations is replaced
// without failing the next one.
func TestProcessCancelAndIdleDeath(t *testing.T) {
	const slowFor = 3 * time.Second
	f, ev, slow := newSlowFn(t, int(slowFor/time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel)
	start := time.Now()
	if _, err := f.Invoke(ctx, slow); err == nil || hooks.KindOf(err) != hooks.Execution {
		t.Fatalf("cancelled: %v", err)
	}
	// The worker's timer cannot answer sooner than slowFor: an Invoke that waited for the
	// answer would return no earlier, however loaded the machine.
	if d := time.Since(start); d >= slowFor {
		t.Fatalf("cancel took %v: it waited for the call's answer", d)
	}
	for range 3 {
		if _, err := f.Invoke(context.Background(), ev); err != nil {
			t.Fatalf("after cancel: %v", err)
		}
	}
	// The cancelled call's late result arrives in the results ring, where nobody reads it
	// until the next call.
	rr := f.backend.(*remote).h.current().fr.r.(*ringReader)
	poll.Until(t, 10*time.Second, "the cancelled call's result in the ring", func() bool { return rr.r.head.Load() > rr.r.tail.Load() })
	if _, err := f.Invoke(context.Background(), ev); err != nil {
		t.Fatalf("after the late result: %v", err)
	}

	// A worker that died while it polled its ring (waiting 0: the call goes into the ring
	// unannounced) or parked (1: the doorbell finds it gone); either way it never took the
	// call. A second idle death within a second of the first restart backs off (host.backOff),
	// hence the pause.
	for i, waiting := range []uint64{0, 1} {
		if i > 0 {
			time.Sleep(1100 * time.Millisecond)
		}
		w := f.backend.(*remote).h.current()
		_ = w.cmd.Process.Kill()
		poll.Until(t, 5*time.Second, "the killed worker to exit", func() bool { return procGone(w.cmd.Process.Pid) })
		w.out.r.waiting.Store(waiting)
		if res, err := f.Invoke(context.Background(), ev); err != nil || res.Request == nil {
			t.Fatalf("after an idle death (waiting %d): %+v, %v", waiting, res, err)
		}
		<-w.done // the dead worker was reaped
	}
}

// TestWorkerStalledRing: a call that does not fit in the ring of a worker that takes nothing
// (stopped here with SIGSTOP, as a compromised or wedged worker could be) returns at its
// watchdog deadline as a timeout, and the worker is killed: the writer's wait is bounded.
func TestWorkerStalledRing(t *testing.T) {
	f, err := New(Options{Name: "stalled", Code: SingleFile(`exports.handler = async (e) => e.Records[0].cf.request;`),
		Isolation: Process, Limits: hooks.Limits{Timeout: 200 * time.Millisecond},
		Worker: WorkerOptions{Command: []string{os.Args[0]}, Env: []string{WorkerEnv + "=1"}, Grace: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ev := seedEvent(t, hooks.ViewerRequest)
	if _, err := f.Invoke(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	w := f.backend.(*remote).h.current()
	if err := w.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	big := *ev
	big.Request = ev.Request.Clone()
	big.Request.Body = &hooks.Body{Data: bytes.Repeat([]byte("x"), 2*ringSize)}
	start := time.Now()
	_, err = f.Invoke(context.Background(), &big)
	if hooks.KindOf(err) != hooks.Timeout {
		t.Fatalf("a call into a stalled ring: %v, want a timeout", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("it returned after %v", d)
	}
	select {
	case <-w.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the stalled worker was not killed")
	}
	if why := w.reason(); !strings.Contains(why, "full ring") {
		t.Errorf("the worker ended for %q", why)
	}
}

// TestProcessRestartHoldsNoLock: while a worker restarts and loads the function again (its
// module's top-level code takes a second), a caller with a 100 ms deadline gets its answer by then, and Stats answers at once:
// nobody queues behind the start.
func TestProcessRestartHoldsNoLock(t *testing.T) {
	f := newProcessFn(t, `const t = Date.now(); while (Date.now() - t < 1000) {}
exports.handler = async (e) => e.Records[0].cf.request`)
	r := f.backend.(*remote)
	w := r.h.current()
	w.kill("test")
	<-w.done
	ev := seedEvent(t, hooks.ViewerRequest)
	go f.Invoke(context.Background(), ev) // starts the new worker
	for {
		r.mu.Lock()
		ld := r.loading
		r.mu.Unlock()
		if ld != nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := f.Invoke(ctx, ev)
	f.Stats()
	if d := time.Since(start); err == nil || d > 500*time.Millisecond {
		t.Fatalf("a caller during the restart waited %v (err %v)", d, err)
	}
	if _, err := f.Invoke(context.Background(), ev); err != nil {
		t.Fatalf("after the restart: %v", err)
	}
}

// TestWorkerBreaksChannel: a worker whose ring indices claim more than a ring holds, as a
// compromised worker could write them, is killed; the call that met them fails as an execution
// error (503), and the next call runs on a new worker. The test writes the indices in the
// worker's place: the calls ring's tail, which the node checks before it writes, and the
// results ring's head, which it checks before it reads.
func TestWorkerBreaksChannel(t *testing.T) {
	f, ev, slow := newSlowFn(t, 2000)
	for _, c := range []struct {
		name    string
		corrupt func(w *workerProc)
		ev      *hooks.Event
	}{
		{"calls tail", func(w *workerProc) { w.out.r.tail.Store(w.out.r.pos + 1) }, ev},
		{"results head", func(w *workerProc) {
			rr := w.fr.r.(*ringReader)
			rr.r.head.Store(rr.r.pos + ringSize + 1)
		}, slow},
	} {
		if _, err := f.Invoke(context.Background(), ev); err != nil {
			t.Fatalf("%s: before: %v", c.name, err)
		}
		w := f.backend.(*remote).h.current()
		c.corrupt(w)
		start := time.Now()
		_, err := f.Invoke(context.Background(), c.ev)
		if err == nil || hooks.KindOf(err) != hooks.Execution { // KindOf(nil) is Execution
			t.Fatalf("%s: %v, want an execution error", c.name, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: the call failed after %v, not at once", c.name, d)
		}
		select {
		case <-w.done:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: the worker was not killed", c.name)
		}
		if why := w.reason(); !strings.Contains(why, "out of range") {
			t.Errorf("%s: the worker ended for %q, want the index named", c.name, why)
		}
		// Two workers that died young make the next start wait (host.backOff): the call
		// after the second may fail until then.
		poll.Until(t, 5*time.Second, c.name+": a call on a new worker", func() bool {
			res, err := f.Invoke(context.Background(), ev)
			return err == nil && res.Request != nil
		})
		if f.backend.(*remote).h.current() == w {
			t.Fatalf("%s: the next call ran on the broken worker", c.name)
		}
	}
}

// TestWorkerChannelReleased: the workers that died and were replaced leave nothing open in the
// node: neither the descriptors of their pipes nor the mapping of their channel's memory.
func TestWorkerChannelReleased(t *testing.T) {
	f := newProcessFn(t, `exports.handler = async (e) => e.Records[0].cf.request;`)
	ev := seedEvent(t, hooks.ViewerRequest)
	held := func() (fds, maps int) {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skip("no /proc/self/fd")
		}
		m, _ := os.ReadFile("/proc/self/maps")
		return len(ents), strings.Count(string(m), "verge-worker-channel")
	}
	if _, err := f.Invoke(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	fds0, maps0 := held()
	if maps0 == 0 {
		t.Fatal("no channel mapping found for a live worker")
	}
	// Without a collection, finalizers cannot close what the node forgot to.
	gc := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(gc)
	for i := range 4 {
		w := f.backend.(*remote).h.current()
		_ = w.cmd.Process.Kill()
		poll.Until(t, 10*time.Second, fmt.Sprintf("a call on worker %d", i+2), func() bool {
			_, err := f.Invoke(context.Background(), ev)
			return err == nil
		})
		<-w.done // reaped once the call found it dead
	}
	if fds, _ := held(); fds > fds0 {
		t.Errorf("%d descriptors open after 4 workers died, %d before", fds, fds0)
	}
	// The mappings go with the workers' last references, at a collection.
	poll.Until(t, 10*time.Second, "the dead workers' channel mappings released", func() bool {
		runtime.GC()
		_, maps := held()
		return maps <= maps0
	})
}
