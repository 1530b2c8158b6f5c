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
		stop: make(chan struct{}), done: make(chan struct{})}
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
// itself in v.guarded, an atomic store, rather than taking the guard's lock: every call of
// every guarded function would otherwise meet on that one mutex.
func (g *MemoryGuard) add(v *vm) {
	g.mu.Lock()
	g.vms[v] = struct{}{}
	g.mu.Unlock()
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
	tripped := false // the last tick tripped
	for {
		select {
		case <-g.stop:
			return
		case <-t.C:
		}
		if !over() {
			tripped = false
			continue
		}
		if tripped {
			// The sample counts garbage not swept yet, and what the runs stopped last tick
			// left is garbage now: collect it before stopping anything again, or the next
			// invocation trips on it (seen on a loaded box).
			runtime.GC()
			if !over() {
				tripped = false
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
		}
		tripped = n > 0
	}
}
