package jsruntime

import (
	"sync"
	"time"

	"github.com/dop251/goja"
)

// alarm interrupts a vm's runtime when its running invocation passes its deadline. Re-arming
// a timer for every invocation (Reset, then Stop) was a few percent of a cache hit with one
// function; the alarm instead stays armed across invocations: when it goes off it interrupts
// only an invocation that is running and past its deadline, and otherwise re-arms itself for
// the running one's deadline, or rests until an invocation needs it. With deadlines of
// seconds and invocations of microseconds it fires about once per timeout.
//
// begin and end bracket an invocation on the vm's goroutine; the timer's goroutine calls
// ring. An interrupt is only ever raised between begin and end, and end reports it, so that
// the vm (whose runtime may still hold the pending interrupt) is discarded.
type alarm struct {
	rt *goja.Runtime

	mu       sync.Mutex
	t        *time.Timer
	armedFor time.Time // when t goes off; zero when it is not armed
	running  bool
	until    time.Time // the running invocation's deadline
	rang     bool      // ring interrupted the running invocation
}

// begin starts an invocation due by deadline; now is the current time.
func (a *alarm) begin(deadline, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.running, a.until, a.rang = true, deadline, false
	switch {
	case a.t == nil:
		a.t = time.AfterFunc(deadline.Sub(now), a.ring)
	case a.armedFor.IsZero() || a.armedFor.After(deadline):
		a.t.Reset(deadline.Sub(now))
	default:
		return // armed for earlier: ring re-arms for this deadline then
	}
	a.armedFor = deadline
}

// end finishes the invocation and reports whether the alarm interrupted it.
func (a *alarm) end() (interrupted bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.running = false
	return a.rang
}

func (a *alarm) ring() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.armedFor = time.Time{}
	if !a.running || a.rang {
		return
	}
	if now := time.Now(); now.Before(a.until) {
		a.t.Reset(a.until.Sub(now))
		a.armedFor = a.until
		return
	}
	a.rang = true
	a.rt.Interrupt(errTimeout)
}

// stop disarms the alarm for good.
func (a *alarm) stop() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.t != nil {
		a.t.Stop()
	}
	a.running = false
}
