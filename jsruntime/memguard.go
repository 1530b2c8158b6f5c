package jsruntime

import (
	"errors"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// MemoryGuard is the in-process answer to runaway allocation. goja cannot account memory per
// runtime, so the guard samples the process's Go heap every Interval and, when it passes
// Limit, interrupts every invocation running under the guard: each fails with an execution
// error (503) and its runtime, with everything it allocated, is discarded. One guard is shared
// by the functions of a process (pass it in Options.MemoryGuard); it is safe for concurrent use.
//
// It is a best effort: a single native allocation larger than the memory left (one
// 'x'.repeat(2**33) past the string guard) still kills the process before the next sample,
// which is why untrusted code runs with Process isolation, where the same guard runs inside the
// worker in front of the RLIMIT_AS backstop.
type MemoryGuard struct {
	limit    uint64
	interval time.Duration
	trips    atomic.Int64

	mu   sync.Mutex
	vms  map[*vm]struct{} // every runtime of the guarded functions; vm.guarded says which run
	stop chan struct{}
	done chan struct{}

	// The guard samples only while an invocation runs under it: a process with nothing to run
	// is not woken a hundred times a second (each of a node's idle workers was, and a thousand
	// of them kept two cores busy).
	running atomic.Int64  // invocations under the guard now
	wake    chan struct{} // capacity 1: an invocation started while none ran
}

// errMemory is the interrupt value of a runtime stopped by a MemoryGuard.
var errMemory = errors.New("memory limit exceeded")

// NewMemoryGuard starts a guard that trips when the Go heap (live and not yet swept objects)
// exceeds limitBytes, sampling every interval (default 10ms). Close stops it.
func NewMemoryGuard(limitBytes uint64, interval time.Duration) *MemoryGuard {
	if interval <= 0 {
		interval = 10 * time.Millisecond
	}
	g := &MemoryGuard{limit: limitBytes, interval: interval, vms: map[*vm]struct{}{},
		stop: make(chan struct{}), done: make(chan struct{}), wake: make(chan struct{}, 1)}
	go g.watch()
	return g
}

// Trips returns how many times the guard has interrupted invocations.
func (g *MemoryGuard) Trips() int64 { return g.trips.Load() }

// Close stops the guard. It is safe to call more than once.
func (g *MemoryGuard) Close() {
	g.mu.Lock()
	select {
	case <-g.stop:
	default:
		close(g.stop)
	}
	g.mu.Unlock()
	<-g.done
}

// add puts v under the guard for its lifetime (vm.close removes it). An invocation marks
// itself in v.guarded and counts itself in running (enter, leave), atomic operations, rather
// than taking the guard's lock: every call of every guarded function would otherwise meet on
// that one mutex.
func (g *MemoryGuard) add(v *vm) {
	g.mu.Lock()
	g.vms[v] = struct{}{}
	g.mu.Unlock()
}

// enter and leave bracket an invocation on v under the guard.
func (g *MemoryGuard) enter(v *vm) {
	v.guarded.Store(true)
	if g.running.Add(1) == 1 {
		select {
		case g.wake <- struct{}{}:
		default: // a wake-up is pending already
		}
	}
}

func (g *MemoryGuard) leave(v *vm) {
	v.guarded.Store(false)
	g.running.Add(-1)
}

func (g *MemoryGuard) remove(v *vm) {
	g.mu.Lock()
	delete(g.vms, v)
	g.mu.Unlock()
}

func (g *MemoryGuard) watch() {
	defer close(g.done)
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	over := func() bool {
		metrics.Read(sample)
		return sample[0].Value.Kind() == metrics.KindUint64 && sample[0].Value.Uint64() > g.limit
	}
	t := time.NewTicker(g.interval)
	defer t.Stop()
	var lastTrip time.Time
	for {
		if g.running.Load() == 0 {
			t.Stop()
			select {
			case <-g.stop:
				return
			case <-g.wake:
			}
			t.Reset(g.interval)
		}
		select {
		case <-g.stop:
			return
		case <-t.C:
		}
		if !over() {
			continue
		}
		if time.Since(lastTrip) < time.Second {
			// The sample counts garbage not swept yet, and what the runs stopped by a recent
			// trip left becomes garbage only once their runtimes are dropped, which may be
			// after the tick that followed the trip: collect before stopping anything again,
			// or the next invocation, of any function, trips on it (seen on a loaded box).
			runtime.GC()
			if !over() {
				continue
			}
		}
		g.mu.Lock()
		n := 0
		for v := range g.vms {
			if v.guarded.Load() {
				v.rt.Interrupt(errMemory)
				n++
			}
		}
		g.mu.Unlock()
		if n > 0 {
			g.trips.Add(1)
			lastTrip = time.Now()
		}
	}
}
