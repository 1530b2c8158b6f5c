package jsruntime

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vergecdn/verge/hooks"
)

// remote runs a Function's invocations as one program in a worker process (Process
// isolation), on a host it may share with the other versions of its function (see Workers).
// The program is loaded into the host's process on first use after each (re)start. A worker
// that dies, or that the watchdog kills because an invocation overran its timeout plus Grace,
// fails only the invocations in flight in it (hooks.Execution or hooks.Timeout, so 503), of
// every program it hosts; the next invocation starts a new worker and loads the program again.
type remote struct {
	o      Options
	onCold func()
	h      *host
	id     uint64 // the program's id in h's processes

	loaded  atomic.Pointer[workerProc] // the process the program is loaded in, if any
	mu      sync.Mutex
	loading *programLoad // the load under way, if any; nobody holds mu while it runs
	closed  bool
	// loadFails counts consecutive failed loads; after one, the next waits until notBefore
	// (50 ms doubling to 5 s), and callers meanwhile get lastErr at once: a version that no
	// longer loads must not send a load, which may take InitTimeout or kill the shared worker,
	// per call.
	loadFails int
	notBefore time.Time
	lastErr   error
	idle      atomic.Int64 // the program's idle runtimes, as last reported
	inFlight  atomic.Int64 // this Function's calls in flight
}

// programLoad is one load of the program into a process: done closes when err is set.
type programLoad struct {
	w    *workerProc
	done chan struct{}
	err  error
}

func newRemote(o Options, onCold func()) (*remote, error) {
	// Nothing of the code is parsed here: the worker compiles it and answers syntax errors
	// typed (SyntaxError), so a hostile upload can crash at most the worker.
	r := &remote{o: o, onCold: onCold}
	r.h, r.id = attachHost(o, &r.loaded)
	w, err := r.ready(context.Background(), time.Time{})
	if err != nil {
		r.close()
		return nil, err
	}
	w.unpin()
	return r, nil
}

// ready returns a live worker with the program loaded, starting the worker and loading the
// program as needed. Neither holds a lock: callers wait for them until ctx is done or their
// deadline (if not zero) passes, and the function's other users (stats, close) do not wait.
// The worker is pinned (workerProc.pin), so that Workers.shed does not end it before the
// caller's call is registered: the caller unpins it then.
func (r *remote) ready(ctx context.Context, deadline time.Time) (*workerProc, error) {
	if w := r.loaded.Load(); w != nil && w.pin() {
		return w, nil
	}
	if err := r.checkOpen(); err != nil {
		return nil, err
	}
	var w *workerProc
	// A worker ended for room between the host's answer and the pin is forgotten by the
	// host, which starts another for the next try.
	for try := 0; w == nil; try++ {
		got, err := r.h.worker(ctx, deadline)
		if err != nil {
			return nil, err
		}
		if got.pin() {
			w = got
		} else if try == 2 {
			return nil, fmt.Errorf("the worker process exited: %s", got.reason())
		}
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		w.unpin()
		return nil, r.closedError()
	}
	if r.loaded.Load() == w {
		r.mu.Unlock()
		return w, nil
	}
	ld := r.loading
	if ld == nil || ld.w != w {
		if wait := time.Until(r.notBefore); wait > 0 {
			err := r.lastErr
			r.mu.Unlock()
			w.unpin()
			return nil, fmt.Errorf("%w (loading again in %v)", err, wait.Round(time.Millisecond))
		}
		ld = &programLoad{w: w, done: make(chan struct{})}
		r.loading = ld
		go r.load(ld)
	}
	r.mu.Unlock()
	got, err := awaitDone(ctx, deadline, ld.done, "the function is still loading", func() (*workerProc, error) {
		if ld.err != nil {
			return nil, ld.err
		}
		return w, nil
	})
	if err != nil {
		w.unpin()
	}
	return got, err
}

// load loads the program into ld.w, on its own goroutine so that no caller's wait bounds it.
// A load that completes after close unloads what it loaded.
func (r *remote) load(ld *programLoad) {
	err := ld.w.load(r.id, r.o)
	r.mu.Lock()
	if r.loading == ld {
		r.loading = nil
	}
	closed := r.closed
	if err == nil && !closed && !ld.w.isDead() {
		// A load into a worker that died meanwhile must not replace one into its successor.
		if cur := r.loaded.Load(); cur == nil || cur.isDead() {
			r.loaded.Store(ld.w)
		}
	}
	if err != nil {
		r.loadFails++
		r.lastErr = err
		r.notBefore = time.Now().Add(retryDelay(r.loadFails))
	} else {
		r.loadFails, r.lastErr, r.notBefore = 0, nil, time.Time{}
		// A version just loaded is about to be called: the process is not idle (Workers.shed).
		r.h.lastUse.Store(time.Now().UnixNano())
	}
	r.mu.Unlock()
	if err == nil && closed {
		ld.w.unload(r.id)
		err = r.closedError()
	}
	ld.err = err
	close(ld.done)
}

func (r *remote) checkOpen() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return r.closedError()
	}
	return nil
}

func (r *remote) closedError() error {
	return hooks.Errorf(hooks.Execution, "jsruntime: function %s:%s is closed", r.o.Name, r.o.Version)
}

func (r *remote) run(ctx context.Context, c *call) outcome {
	r.h.lastUse.Store(c.start.UnixNano())
	for attempt := 0; ; attempt++ {
		w, err := r.ready(ctx, c.deadline)
		if err != nil {
			return outcome{err: hooks.Errorf(hooks.Execution, "jsruntime: starting a worker: %v", err)}
		}
		out, retry := r.runOn(ctx, w, c)
		if !retry || attempt > 0 {
			return out
		}
	}
}

// runOn runs c on w, which ready pinned. retry is true when w turned out to have died before c
// reached it (a worker that dies between invocations is noticed only by the next call, as
// nobody reads its channel then): the caller starts a new worker and tries once more, as that
// death is not this invocation's failure; out is the error to report if it does not. The call
// did not reach the worker if it was dead before the call was registered (killed after ready
// returned it; the pin keeps Workers.shed from retiring it), if it was gone before the
// whole call was in its ring (syscall.EPIPE), or if it died without taking the call from its
// ring (while polling for it, or parked on a doorbell that found it gone). The ring's tail is
// the worker's word; one that lies about it wins one retry on a new worker.
func (r *remote) runOn(ctx context.Context, w *workerProc, c *call) (_ outcome, retry bool) {
	id, ch := w.claim()
	if ch == nil {
		return outcome{err: hooks.Errorf(hooks.Execution, "%s: the worker process exited: %s", c.ev.Stage, w.reason())}, true
	}
	r.inFlight.Add(1)
	defer r.inFlight.Add(-1)
	defer w.unregister(id)
	// A process is idle (Workers.shed) from its last call's end, however long that call ran:
	// noted before the call is unregistered, so that no shed finds it neither in flight nor
	// recent.
	defer func() { r.h.lastUse.Store(time.Now().UnixNano()) }()
	until := c.deadline.Add(r.o.Worker.Grace)
	end, err := w.sendCall(&wireCall{ID: id, Program: r.id, Event: c.ev, Deadline: c.deadline.UnixNano(), RequestID: c.id(), WantJSON: c.wantJSON}, r.o.KVS, until)
	switch {
	case errors.Is(err, errRingStalled):
		w.kill("watchdog: the worker took nothing from a full ring")
		return outcome{err: timeoutError(c)}, false
	case err != nil:
		w.kill("write failed: " + err.Error())
		out := outcome{err: hooks.Errorf(hooks.Execution, "%s: the worker process is gone: %v", c.ev.Stage, err)}
		return out, errors.Is(err, syscall.EPIPE) // the call is not whole in the ring of a worker that is gone
	}
	// A caller that gave a deadline gets its answer by then, as it would from a done context
	// (hooks.SelfTimed callers arm no timer): a worker stuck in native code past Interrupt's
	// reach must not hold the viewer until the watchdog.
	var soft time.Time
	if _, ok := ctx.Deadline(); ok {
		soft = c.deadline
	}
	res, st := w.await(ctx, id, ch, soft, until)
	switch st {
	case awaitExited:
		return outcome{err: hooks.Errorf(hooks.Execution, "%s: the worker process exited: %s", c.ev.Stage, w.reason())}, !w.took(end)
	case awaitWatchdog:
		w.kill("watchdog: an invocation overran its timeout")
		return outcome{err: timeoutError(c)}, false
	case awaitCanceled:
		return outcome{err: cancelError(ctx, c)}, false
	case awaitDeadline:
		return outcome{err: timeoutError(c)}, false
	}
	if res.Cold && r.onCold != nil {
		r.onCold()
	}
	r.idle.Store(int64(res.Idle))
	return res.outcome(), false
}

func (r *remote) stats() (int, int) {
	if r.h.current() == nil {
		return 0, 0
	}
	return int(r.inFlight.Load()), int(r.idle.Load())
}

// close unloads the program (its calls in flight finish) and releases the host, which stops
// the process if no other program uses it.
func (r *remote) close() {
	r.mu.Lock()
	r.closed = true
	ld := r.loading
	r.mu.Unlock()
	if ld != nil {
		<-ld.done // the load unloads what it loaded once it sees closed
	}
	if w := r.loaded.Swap(nil); w != nil && !w.isDead() {
		w.unload(r.id)
	}
	r.h.release(r.id)
}
