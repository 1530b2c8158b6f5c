package jsruntime

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vergecdn/verge/hooks"
)

// Workers is a node's set of shared worker processes. Functions with Process isolation whose
// WorkerOptions.Group comes from the same Workers and names the same group run their programs
// in one worker process (a host), if their process-level settings are equal (see hostKey):
// a new version is then a compile in a running process instead of a process start.
// The zero WorkerGroup keeps one process per Function.
//
// A Workers also keeps one spare worker for each set of process settings its groups have
// used: started, its limits and sandbox in place, and no code. A group that needs a process
// (a function's first version, or a restart after a crash) takes the spare and the next one
// starts in the background, so a function never run before costs a compile, as a new version
// does, not a process start. Close stops the spares.
//
// A Workers may cap the processes its hosts keep running (see NewWorkers). Each holds its own
// Go runtime and heap, so a node with a thousand functions cannot keep one for each (see
// bench/README.md). Past the cap, processes idle for roomIdle are ended, those called least
// recently first: when one starts, and again as the next reaches roomIdle without a call. Their
// programs stay attached, and the next call to one of them starts the host again from the
// spare and loads them: a compile, not a process start.
//
// A process called within roomIdle is ended only past roomBurst times the cap. Ending busy
// functions' processes to start others' is a loop whose pace is the process start: more busy
// functions than processes leave the node serving a few hundred requests a second
// (`bench/run.sh busy`). So while more functions than the cap are busy, the node runs more
// processes, up to the burst bound, and comes back to the cap once they are idle.
//
// Under the cap too, a process not called for maxIdle is ended, if set: a function called
// once an hour need not hold a process and its heap between its calls, and its next call
// costs a compile in the spare, as after an end for room.
type Workers struct {
	mu      sync.Mutex
	hosts   map[hostKey]*host
	spares  map[hostKey]*spare // by spareKey
	closed  bool
	bg      sync.WaitGroup // spare starts and the stops of processes ended (shed)
	maxLive int            // the cap on hosts' processes; 0: none
	maxIdle time.Duration  // how long a process may go without a call; 0: for ever
	// idleForRoom is roomIdle; tests shorten it (0: any process with no call in flight).
	idleForRoom time.Duration
	trim        *time.Timer // the next shed, while more than maxLive run or maxIdle is set, due at trimAt
	trimAt      time.Time
	shedding    sync.Mutex // one shed at a time, so that each counts what the others ended
}

const (
	// roomIdle is how long a process must have had no call to be ended for room.
	roomIdle = 2 * time.Second
	// roomBurst bounds the processes called within roomIdle that run past the cap: roomBurst
	// times it at most (those with a call in flight are never ended, so they may make more).
	roomBurst = 4
	// minTrimEvery bounds how often a Workers looks again (see shed).
	minTrimEvery = 100 * time.Millisecond
)

// spare is the idle worker kept for one set of process settings.
type spare struct {
	w       *workerProc // ready, or nil
	filling bool        // a start is under way
}

// NewWorkers returns an empty set of shared worker processes whose hosts keep at most maxLive
// processes running once idle, spares not counted (no cap if maxLive <= 0). While more
// functions than that were called within the last roomIdle, or have a call in flight, more
// run: up to roomBurst times maxLive, or more while all of those have calls in flight. A
// process that has had no call for maxIdle is ended whatever the count (never if maxIdle <= 0).
func NewWorkers(maxLive int, maxIdle time.Duration) *Workers {
	return &Workers{hosts: map[hostKey]*host{}, spares: map[hostKey]*spare{}, maxLive: max(maxLive, 0),
		maxIdle: max(maxIdle, 0), idleForRoom: roomIdle}
}

// Running returns how many processes the hosts run, spares not counted.
func (ws *Workers) Running() int { return len(ws.running()) }

// runningHost is a host's live process, and when the host was last used.
type runningHost struct {
	h       *host
	w       *workerProc
	lastUse int64
}

// running returns the hosts' live processes.
func (ws *Workers) running() []runningHost {
	ws.mu.Lock()
	hosts := make([]*host, 0, len(ws.hosts))
	for _, h := range ws.hosts {
		hosts = append(hosts, h)
	}
	ws.mu.Unlock()
	var live []runningHost
	for _, h := range hosts {
		if w := h.current(); w != nil {
			live = append(live, runningHost{h, w, h.lastUse.Load()})
		}
	}
	return live
}

// shed ends the processes that have had no call for maxIdle, and then, while more than
// maxLive run, processes with no call in flight, those called least recently first: those idle
// for idleForRoom, and any past roomBurst times maxLive. It looks again when the next process
// will have been idle for maxIdle, and, if more than maxLive still run, when the next of them
// will have been idle for idleForRoom (or, past the bound, soon: a call in flight there may
// end any time).
// started, if not nil, has just started its process, which counts but is not ended: its
// caller is about to load and call it.
func (ws *Workers) shed(started *host) {
	if ws.maxLive == 0 && ws.maxIdle == 0 {
		return
	}
	ws.shedding.Lock()
	defer ws.shedding.Unlock()
	live := ws.running()
	if ws.maxIdle > 0 {
		var next time.Duration
		if live, next = ws.endIdle(live, started); next > 0 {
			ws.lookAgain(time.Now().Add(max(next, minTrimEvery)))
		}
	}
	n := len(live)
	if ws.maxLive == 0 || n <= ws.maxLive {
		return
	}
	slices.SortFunc(live, func(a, b runningHost) int { return cmp.Compare(a.lastUse, b.lastUse) })
	idleSince := time.Now().Add(-ws.idleForRoom).UnixNano()
	// wait is until the next look, if more than maxLive still run: a process with a call in
	// flight is idle for idleForRoom that long after the call ends, at the soonest.
	wait := ws.idleForRoom
	why := fmt.Sprintf("ended to keep the node under its %d worker processes; the next call starts it again", ws.maxLive)
	for _, r := range live {
		if n <= ws.maxLive {
			break
		}
		burst := n > roomBurst*ws.maxLive
		if r.h == started {
			continue
		}
		if r.lastUse > idleSince && !burst {
			// The rest were called more recently still: look again when this one has been
			// idle for idleForRoom.
			wait = min(wait, time.Duration(r.lastUse-idleSince))
			break
		}
		// A call may have begun or ended since running() read lastUse: retire looks again.
		if !ws.end(r, why, func() bool { return burst || r.h.lastUse.Load() <= idleSince }, endForRoom) {
			if burst {
				wait = minTrimEvery // a call in flight past the bound: it goes once the call ends
			}
			continue
		}
		n--
	}
	if n > ws.maxLive {
		ws.lookAgain(time.Now().Add(max(wait, minTrimEvery)))
	}
}

// endIdle ends the processes of live that have had no call for maxIdle, but started's, and
// returns the others, with the time until the next of them will have had none for maxIdle (0
// if none is left).
func (ws *Workers) endIdle(live []runningHost, started *host) ([]runningHost, time.Duration) {
	since := time.Now().Add(-ws.maxIdle).UnixNano()
	why := fmt.Sprintf("ended after %v without a call; the next call starts it again", ws.maxIdle)
	kept := live[:0]
	var next time.Duration
	for _, r := range live {
		if r.h != started && r.lastUse <= since &&
			ws.end(r, why, func() bool { return r.h.lastUse.Load() <= since }, endForIdle) {
			continue
		}
		kept = append(kept, r)
		// One with a call in flight since before the cut is looked at again soon.
		if d := max(time.Duration(r.h.lastUse.Load()-since), minTrimEvery); next == 0 || d < next {
			next = d
		}
	}
	return kept, next
}

// endReason says why Workers.end ended a process, for its metric.
type endReason uint8

const (
	endForRoom endReason = iota
	endForIdle
)

// end ends r's process if idle holds under the process's lock (see host.retire), counts it,
// and reports whether it did.
func (ws *Workers) end(r runningHost, why string, idle func() bool, reason endReason) bool {
	if !r.h.retire(r.w, why, idle) {
		return false
	}
	if m := r.h.o.Metrics; m != nil {
		if reason == endForIdle {
			m.idleEnds.Inc()
		} else {
			m.reclaims.Inc()
		}
	}
	ws.mu.Lock()
	if ws.closed { // Close waits only for what began before it
		go r.w.stop()
	} else {
		ws.bg.Go(r.w.stop)
	}
	ws.mu.Unlock()
	return true
}

// lookAgain makes the next shed run by at, unless the Workers is closed. A look already due
// earlier stands; one due later is brought forward.
func (ws *Workers) lookAgain(at time.Time) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.closed || ws.trim != nil && !at.Before(ws.trimAt) {
		return
	}
	if ws.trim != nil {
		ws.trim.Stop()
	}
	var t *time.Timer
	t = time.AfterFunc(time.Until(at), func() {
		ws.mu.Lock()
		if ws.trim == t {
			ws.trim = nil
		}
		closed := ws.closed
		ws.mu.Unlock()
		if !closed {
			ws.shed(nil)
		}
	})
	ws.trim, ws.trimAt = t, at
}

// Close stops the spare workers and keeps none from then on, and waits for the processes shed
// ended to exit. The hosts are not affected: each stops with the last Function that uses it.
func (ws *Workers) Close() {
	ws.mu.Lock()
	ws.closed = true
	if ws.trim != nil {
		ws.trim.Stop()
		ws.trim = nil
	}
	var idle []*workerProc
	for _, sp := range ws.spares {
		if sp.w != nil {
			idle = append(idle, sp.w)
			sp.w = nil
		}
	}
	ws.mu.Unlock()
	for _, w := range idle {
		w.stop()
	}
	ws.bg.Wait() // a start under way sees closed and stops what it started
}

// spareKey is what a spare for o must have been started with: o's hostKey without the group
// and the regular-expression cut-off, which a program's load sets.
func spareKey(o Options) hostKey {
	k := hostKeyOf(o)
	k.group, k.regexpTimeout = "", 0
	return k
}

// start returns a started worker for o's process settings (o is a host's processOptions): the
// spare, if one is ready and alive, else a new one. Either way the next spare then starts in
// the background.
func (ws *Workers) start(o Options) (*workerProc, error) {
	sp := ws.spareFor(o)
	ws.mu.Lock()
	w := sp.w
	sp.w = nil
	ws.mu.Unlock()
	if w != nil && !w.exited() {
		w.started = time.Now() // quick deaths count from the handover (see host.backOff)
		ws.fill(sp, o)
		return w, nil
	}
	if w != nil {
		w.kill("the spare worker exited while idle")
		w.stop()
	}
	w, err := startWorker(o)
	ws.fill(sp, o)
	return w, err
}

// Prepare starts a spare worker for the process settings of o (the Options of a Function
// with Process isolation) unless one is kept already, so that even the first Function that
// needs a process takes a started one. Only o's process-level settings count (see spareKey):
// a node calls it at start-up with the Options its uploaded functions get, without a name or
// code.
func (ws *Workers) Prepare(o Options) {
	o = processOptions(o.withDefaults())
	ws.fill(ws.spareFor(o), o)
}

// spareFor returns the spare kept for o's process settings, making its entry if needed.
func (ws *Workers) spareFor(o Options) *spare {
	k := spareKey(o)
	ws.mu.Lock()
	defer ws.mu.Unlock()
	sp := ws.spares[k]
	if sp == nil {
		sp = &spare{}
		ws.spares[k] = sp
	}
	return sp
}

// fill starts the next spare for sp in the background, unless one is under way.
func (ws *Workers) fill(sp *spare, o Options) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.closed || sp.filling || sp.w != nil {
		return
	}
	sp.filling = true
	o.Name, o.Version = "", "" // nobody's yet
	ws.bg.Go(func() {
		w, err := startWorker(o)
		ws.mu.Lock()
		sp.filling = false
		keep := err == nil && !ws.closed
		if keep {
			sp.w = w
		}
		ws.mu.Unlock()
		switch {
		case err != nil:
			o.Logger.Warn("spare worker did not start", "error", err)
		case !keep:
			w.stop()
		}
	})
}

// Group returns the group name of ws. Only code that may see each other's memory belongs in
// one group: the versions of one function, never two functions.
func (ws *Workers) Group(name string) WorkerGroup { return WorkerGroup{workers: ws, name: name} }

// WorkerGroup names the Functions that may share a worker process (see Workers). The zero
// value shares with nobody.
type WorkerGroup struct {
	workers *Workers
	name    string
}

// hostKey is what Functions sharing a process must have in common: the group and every
// setting the process applies to all its programs (its command and environment, its
// address-space limit and GOMEMLIMIT, and the regular-expression engine's cut-off, which is
// process-wide). Functions that differ in any of them get separate processes.
type hostKey struct {
	group          string
	command, env   string // NUL-joined
	workerMemoryMB int
	memoryMB       int
	regexpTimeout  time.Duration
}

func hostKeyOf(o Options) hostKey {
	return hostKey{group: o.Worker.Group.name, command: strings.Join(o.Worker.Command, "\x00"),
		env: strings.Join(o.Worker.Env, "\x00"), workerMemoryMB: o.Worker.MemoryMB, memoryMB: o.Limits.MemoryMB,
		regexpTimeout: o.RegexpTimeout}
}

// host owns one worker process at a time for the programs attached to it: it starts the
// process when one of them needs it, restarts it (with a back-off on quick deaths) after it
// died, and stops it when the last program is released. Loading the programs into the
// current process is each program's job (remote.ready).
type host struct {
	o       Options  // process-level settings (processOptions) of the Function that created the host
	key     hostKey  // its key in workers.hosts
	workers *Workers // nil for a host private to one Function
	users   int      // attached programs, under workers.mu

	mu       sync.Mutex
	w        *workerProc
	starting *workerStart // the start under way, if any; nobody holds mu while it runs
	stopped  bool
	// quickDeaths counts consecutive workers that died within a second of starting; from the
	// second one on, restarts back off (50 ms doubling to 5 s) so code that crashes every
	// worker cannot make the node fork in a loop.
	quickDeaths int
	notBefore   time.Time
	programs    uint64 // the last program id given out, under mu
	// loaded is each attached program's remote.loaded, by program id, under mu (see retire).
	loaded map[uint64]*atomic.Pointer[workerProc]
	// lastUse is when a call last began or ended, or the process last started, in Unix
	// nanoseconds: Workers.shed ends the least recent first.
	lastUse atomic.Int64
}

// workerStart is one worker start: done closes when w or err is set.
type workerStart struct {
	done chan struct{}
	w    *workerProc
	err  error
}

// attachHost returns the host o's program runs on, and the program's id there: the group's
// shared host for o's settings, or a private one. loaded is where the program keeps the worker
// it is loaded in (see host.forget).
func attachHost(o Options, loaded *atomic.Pointer[workerProc]) (*host, uint64) {
	ws := o.Worker.Group.workers
	if ws == nil {
		h := &host{o: processOptions(o), loaded: map[uint64]*atomic.Pointer[workerProc]{}}
		return h, h.newProgram(loaded)
	}
	k := hostKeyOf(o)
	ws.mu.Lock()
	h := ws.hosts[k]
	if h == nil {
		h = &host{o: processOptions(o), key: k, workers: ws, loaded: map[uint64]*atomic.Pointer[workerProc]{}}
		ws.hosts[k] = h
	}
	h.users++
	ws.mu.Unlock()
	return h, h.newProgram(loaded)
}

// processOptions keeps of o what starting a worker reads (startWorker, workerEnv), so that a
// host that outlives the Function that created it holds on to none of its code or store.
func processOptions(o Options) Options {
	return Options{Name: o.Name, Version: o.Version, Limits: hooks.Limits{MemoryMB: o.Limits.MemoryMB},
		Worker: o.Worker, Logger: o.Logger, Metrics: o.Metrics}
}

func (h *host) newProgram(loaded *atomic.Pointer[workerProc]) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.programs++
	h.loaded[h.programs] = loaded
	return h.programs
}

// retire ends w, an idle process of the host, for room or for being idle (workerProc.retire,
// idle included), and reports whether it did. Under the host's lock it also drops the
// references the host and its programs hold to w: no caller of worker then sees it dead and
// counts a crash, and it is collected with its buffers and its channel's mapping now rather
// than at each program's next call, which with a thousand functions may never come.
func (h *host) retire(w *workerProc, why string, idle func() bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !w.retire(why, idle) {
		return false
	}
	if h.w == w {
		h.w, h.quickDeaths = nil, 0 // an end for room or idleness is not a crash
	}
	for _, p := range h.loaded {
		p.CompareAndSwap(w, nil)
	}
	return true
}

// release detaches program id; the last one stops the process (its calls in flight finish
// first, see workerProc.stop). A later attach with the same key gets a new host.
func (h *host) release(id uint64) {
	h.mu.Lock()
	delete(h.loaded, id)
	h.mu.Unlock()
	if ws := h.workers; ws != nil {
		ws.mu.Lock()
		h.users--
		last := h.users == 0
		if last {
			delete(ws.hosts, h.key)
		}
		ws.mu.Unlock()
		if !last {
			return
		}
	}
	h.mu.Lock()
	h.stopped = true
	w, st := h.w, h.starting
	h.mu.Unlock()
	if w != nil {
		w.stop()
	}
	if st != nil {
		<-st.done // the start stops what it started once it sees stopped
	}
}

// worker returns the live worker, starting one if needed. A start holds no lock: the callers
// that need the worker wait for it until ctx is done or their deadline (if not zero) passes,
// and the other users of the host (stats, release) do not wait at all.
func (h *host) worker(ctx context.Context, deadline time.Time) (*workerProc, error) {
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return nil, errors.New("the worker was stopped")
	}
	if h.w != nil && !h.w.isDead() {
		w := h.w
		h.mu.Unlock()
		return w, nil
	}
	st := h.starting
	if st == nil {
		if err := h.backOff(); err != nil {
			h.mu.Unlock()
			return nil, err
		}
		st = &workerStart{done: make(chan struct{})}
		h.starting = st
		go h.start(st)
	}
	h.mu.Unlock()
	return awaitDone(ctx, deadline, st.done, "the worker is still starting", func() (*workerProc, error) { return st.w, st.err })
}

// awaitDone waits for done until ctx is done or deadline (if not zero) passes, then returns
// get's answer, or the error of the wait (late says why the deadline passed).
func awaitDone(ctx context.Context, deadline time.Time, done <-chan struct{}, late string, get func() (*workerProc, error)) (*workerProc, error) {
	var expired <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-done:
		return get()
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-expired:
		return nil, errors.New(late)
	}
}

// backOff forgets a dead worker and says whether a new one may start now. The caller holds
// h.mu.
func (h *host) backOff() error {
	if h.w != nil {
		if time.Since(h.w.started) < time.Second {
			h.quickDeaths++
		} else {
			h.quickDeaths = 0
		}
		if h.quickDeaths >= 2 {
			h.notBefore = time.Now().Add(retryDelay(h.quickDeaths - 1))
		}
		h.w = nil
	}
	if wait := time.Until(h.notBefore); wait > 0 {
		return fmt.Errorf("the worker keeps crashing; next restart in %v", wait.Round(time.Millisecond))
	}
	return nil
}

// start starts a worker for st, on its own goroutine so that no caller's wait bounds it.
func (h *host) start(st *workerStart) {
	var w *workerProc
	var err error
	if h.workers != nil {
		w, err = h.workers.start(h.o)
	} else {
		w, err = startWorker(h.o)
	}
	h.mu.Lock()
	h.starting = nil
	stopped := h.stopped
	if err == nil && !stopped {
		h.w = w
		h.lastUse.Store(time.Now().UnixNano())
	}
	h.mu.Unlock()
	switch {
	case err == nil && stopped:
		w.stop()
		w, err = nil, errors.New("the worker was stopped")
	case err == nil && h.workers != nil:
		h.workers.shed(h)
	case err != nil:
		err = &startError{err}
	}
	st.w, st.err = w, err
	close(st.done)
}

// current returns the live worker, if any, without starting one.
func (h *host) current() *workerProc {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.w != nil && !h.w.isDead() {
		return h.w
	}
	return nil
}

// retryDelay is the wait before the nth retry (n >= 1) of what keeps failing (a worker that
// dies at start, a program that does not load): 50 ms, doubling up to 5 s.
func retryDelay(n int) time.Duration {
	return min(50*time.Millisecond<<min(max(n-1, 0), 7), 5*time.Second)
}
