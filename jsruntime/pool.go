package jsruntime

import (
	"sync"
	"time"

	"github.com/vergecdn/verge/hooks"
)

// pool holds the warm runtimes of one function version. It is safe for concurrent use.
// get hands a vm out exclusively; put returns it (or drops it when it must not be reused).
// At most max vms are out at once: one more get fails at once with hooks.Throttled, as Lambda
// throttles past its concurrency limit instead of queueing.
type pool struct {
	p       *program
	min     int
	max     int
	idleTTL time.Duration
	now     func() time.Time
	onCold  func() // called for every runtime created on demand (a cold start)

	mu     sync.Mutex
	idle   []*vm // LIFO: the most recently used vm is reused first, so extras age out
	inUse  int
	closed bool
	bg     sync.WaitGroup // background re-warming
}

func newPool(p *program, onCold func()) *pool {
	return &pool{p: p, min: p.opts.MinWarm, max: p.opts.MaxConcurrency, idleTTL: p.opts.IdleTimeout, now: time.Now, onCold: onCold}
}

// warm creates runtimes until min are idle. The first error is returned.
func (pl *pool) warm() error {
	for {
		pl.mu.Lock()
		need := !pl.closed && len(pl.idle)+pl.inUse < pl.min
		pl.mu.Unlock()
		if !need {
			return nil
		}
		v, err := newVM(pl.p, false)
		if err != nil {
			return err
		}
		v.lastUse = pl.now()
		pl.mu.Lock()
		if pl.closed {
			pl.mu.Unlock()
			v.close()
			return nil
		}
		pl.idle = append(pl.idle, v)
		pl.mu.Unlock()
	}
}

// adopt adds v, a fresh runtime of the pool's program, to the idle ones.
func (pl *pool) adopt(v *vm) {
	v.lastUse = pl.now()
	pl.mu.Lock()
	pl.idle = append(pl.idle, v)
	pl.mu.Unlock()
}

// get returns an idle vm or creates one (cold is then true).
func (pl *pool) get() (v *vm, cold bool, err error) {
	pl.mu.Lock()
	if pl.closed {
		pl.mu.Unlock()
		return nil, false, hooks.Errorf(hooks.Execution, "jsruntime: function %s:%s is closed", pl.p.opts.Name, pl.p.opts.Version)
	}
	if pl.inUse >= pl.max {
		pl.mu.Unlock()
		return nil, false, hooks.Errorf(hooks.Throttled, "jsruntime: function %s:%s is at its concurrency limit of %d", pl.p.opts.Name, pl.p.opts.Version, pl.max)
	}
	pl.inUse++
	if n := len(pl.idle); n > 0 {
		v = pl.idle[n-1]
		pl.idle[n-1] = nil
		pl.idle = pl.idle[:n-1]
		pl.mu.Unlock()
		return v, false, nil
	}
	pl.mu.Unlock()
	if pl.onCold != nil {
		pl.onCold()
	}
	v, err = newVM(pl.p, false)
	if err != nil {
		pl.mu.Lock()
		pl.inUse--
		pl.mu.Unlock()
		return nil, true, err
	}
	return v, true, nil
}

// put returns v to the pool, or drops it when discard is set or the pool is closed.
func (pl *pool) put(v *vm, discard bool) {
	pl.mu.Lock()
	pl.inUse--
	if discard || pl.closed {
		pl.mu.Unlock()
		v.close()
		if discard {
			pl.bg.Go(func() { _ = pl.warm() }) // replace a discarded runtime in the background
		}
		return
	}
	pl.idle = append(pl.idle, v)
	pl.mu.Unlock()
}

// reap drops idle runtimes unused for idleTTL, keeping min.
func (pl *pool) reap() {
	cut := pl.now().Add(-pl.idleTTL)
	pl.mu.Lock()
	var drop []*vm
	keep := pl.idle[:0]
	for i, v := range pl.idle {
		// idle is LIFO, so the oldest are first; keep enough to honour min.
		if v.lastUse.Before(cut) && len(pl.idle)-i+pl.inUse > pl.min && len(drop) < len(pl.idle)-pl.min {
			drop = append(drop, v)
			continue
		}
		keep = append(keep, v)
	}
	clear(pl.idle[len(keep):])
	pl.idle = keep
	pl.mu.Unlock()
	for _, v := range drop {
		v.close()
	}
}

// stats returns the runtimes in use and idle.
func (pl *pool) stats() (inUse, idle int) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return pl.inUse, len(pl.idle)
}

func (pl *pool) close() {
	pl.mu.Lock()
	pl.closed = true
	idle := pl.idle
	pl.idle = nil
	pl.mu.Unlock()
	for _, v := range idle {
		v.close()
	}
	pl.bg.Wait()
}
