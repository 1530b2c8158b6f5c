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

// remote runs invocations in a worker process (Process isolation). One worker hosts one
// function version. A worker that dies, or that the watchdog kills because an invocation
// overran its timeout plus Grace, fails only its in-flight invocations (hooks.Execution or
// hooks.Timeout, so 503); the next invocation starts a new worker.
type remote struct {
	o      Options
	onCold func()

	mu       sync.Mutex
	w        *workerProc
	starting *workerStart // the start under way, if any; nobody holds mu while it runs
	closed   bool
	// quickDeaths counts consecutive workers that died within a second of starting; from the
	// second one on, restarts back off (50 ms doubling to 5 s) so a function that crashes
	// every worker cannot make the node fork in a loop.
	quickDeaths int
	notBefore   time.Time
	nextID      atomic.Uint64
	idle        atomic.Int64 // the worker's idle runtimes, as last reported
}

// workerStart is one worker start: done closes when w or err is set.
type workerStart struct {
	done chan struct{}
	w    *workerProc
	err  error
}

func newRemote(o Options, onCold func()) (*remote, error) {
	// Nothing of the code is parsed here: the worker compiles it and answers syntax errors
	// typed (SyntaxError), so a hostile upload can crash at most the worker.
	r := &remote{o: o, onCold: onCold}
	if _, err := r.worker(context.Background(), time.Time{}); err != nil {
		return nil, err
	}
	return r, nil
}

// worker returns the live worker, starting one if needed. A start (which runs the module's
// top-level code, for up to InitTimeout) holds no lock: the callers that need the worker wait
// for it until ctx is done or their deadline (if not zero) passes, and the function's other
// users (stats, close) do not wait at all.
func (r *remote) worker(ctx context.Context, deadline time.Time) (*workerProc, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, hooks.Errorf(hooks.Execution, "jsruntime: function %s:%s is closed", r.o.Name, r.o.Version)
	}
	if r.w != nil && !r.w.isDead() {
		w := r.w
		r.mu.Unlock()
		return w, nil
	}
	st := r.starting
	if st == nil {
		if err := r.backOff(); err != nil {
			r.mu.Unlock()
			return nil, err
		}
		st = &workerStart{done: make(chan struct{})}
		r.starting = st
		go r.start(st)
	}
	r.mu.Unlock()
	var expired <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-st.done:
		return st.w, st.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-expired:
		return nil, errors.New("the worker is still starting")
	}
}

// backOff forgets a dead worker and says whether a new one may start now. The caller holds
// r.mu.
func (r *remote) backOff() error {
	if r.w != nil {
		if time.Since(r.w.started) < time.Second {
			r.quickDeaths++
		} else {
			r.quickDeaths = 0
		}
		if r.quickDeaths >= 2 {
			r.notBefore = time.Now().Add(min(50*time.Millisecond<<(r.quickDeaths-2), 5*time.Second))
		}
		r.w = nil
	}
	if wait := time.Until(r.notBefore); wait > 0 {
		return fmt.Errorf("the worker keeps crashing; next restart in %v", wait.Round(time.Millisecond))
	}
	return nil
}

// start starts a worker for st, on its own goroutine so that no caller's wait bounds it.
func (r *remote) start(st *workerStart) {
	w, err := startWorker(r.o)
	r.mu.Lock()
	r.starting = nil
	closed := r.closed
	if err == nil && !closed {
		r.w = w
	}
	r.mu.Unlock()
	if err == nil && closed {
		w.stop()
		err = hooks.Errorf(hooks.Execution, "jsruntime: function %s:%s is closed", r.o.Name, r.o.Version)
		w = nil
	}
	st.w, st.err = w, err
	close(st.done)
}

func (r *remote) run(ctx context.Context, c *call) outcome {
	for attempt := 0; ; attempt++ {
		w, err := r.worker(ctx, c.deadline)
		if err != nil {
			return outcome{err: hooks.Errorf(hooks.Execution, "jsruntime: starting a worker: %v", err)}
		}
		out, retry := r.runOn(ctx, w, c)
		if !retry || attempt > 0 {
			return out
		}
	}
}

// runOn runs c on w. retry is true when w turned out to have died before c reached it (a
// worker that dies between invocations is noticed only by the next write, as nobody reads its
// pipe then): the caller starts a new worker and tries once more, as that death is not this
// invocation's failure; out is the error to report if it does not.
func (r *remote) runOn(ctx context.Context, w *workerProc, c *call) (_ outcome, retry bool) {
	id := r.nextID.Add(1)
	ch := w.register(id)
	if ch == nil {
		return outcome{err: hooks.Errorf(hooks.Execution, "%s: the worker process exited: %s", c.ev.Stage, w.reason())}, false
	}
	defer w.unregister(id)
	if err := w.sendCall(&wireCall{ID: id, Event: c.ev, Deadline: c.deadline.UnixNano(), RequestID: c.id(), WantJSON: c.wantJSON}); err != nil {
		w.kill("write failed: " + err.Error())
		out := outcome{err: hooks.Errorf(hooks.Execution, "%s: the worker process is gone: %v", c.ev.Stage, err)}
		return out, errors.Is(err, syscall.EPIPE) // EPIPE: nobody read the call, the worker was gone
	}
	// A caller that gave a deadline gets its answer by then, as it would from a done context
	// (hooks.SelfTimed callers arm no timer): a worker stuck in native code past Interrupt's
	// reach must not hold the viewer until the watchdog.
	var soft time.Time
	if _, ok := ctx.Deadline(); ok {
		soft = c.deadline
	}
	res, st := w.await(ctx, id, ch, soft, c.deadline.Add(r.o.Worker.Grace))
	switch st {
	case awaitExited:
		return outcome{err: hooks.Errorf(hooks.Execution, "%s: the worker process exited: %s", c.ev.Stage, w.reason())}, false
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
	r.mu.Lock()
	w := r.w
	r.mu.Unlock()
	if w == nil {
		return 0, 0
	}
	return w.inFlight(), int(r.idle.Load())
}

func (r *remote) close() {
	r.mu.Lock()
	r.closed = true
	w, st := r.w, r.starting
	r.mu.Unlock()
	if w != nil {
		w.stop()
	}
	if st != nil {
		<-st.done // the start stops what it started once it sees closed
	}
}
