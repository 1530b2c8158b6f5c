package deploy

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/jsruntime"
)

// running is a built version as attachments call it. It counts the calls in flight so that a
// replaced version is closed (its worker process stopped) as soon as its last call ends,
// rather than after a fixed delay: with deploys seconds apart, a delay of a minute kept dozens
// of idle workers per node.
//
// A call that arrives after the version closed gets errRetired without running; slotFunc
// then runs the behavior's current function instead. Such a call comes from a request that
// picked its attachments before the swap and reached this stage after the last call ended
// (another stage of the same request, after a slow origin): it runs the version that
// replaced this one, as a request that started a moment later would.
type running struct {
	fn *jsruntime.Function
	// state is the number of calls in flight, plus retiredBit once the version is no longer
	// attached and closedBit once it closed. One word, so that "retired, idle, not closed"
	// is observed and left in a single compare-and-swap: a call that enters after it sees
	// closedBit.
	state atomic.Int64
	// onClose runs once, when closedBit is set by a call ending or by retire; it must not be
	// called with the Activator's mutex held.
	onClose func()
	timer   *time.Timer // the drain's backstop (Options.DrainDelay); guarded by Activator.mu
}

const (
	retiredBit = int64(1) << 61
	closedBit  = int64(1) << 60
)

// errRetired is running.Invoke's answer after the version closed. It never reaches the edge:
// slotFunc replaces it with the current function's answer.
var errRetired = errors.New("deploy: the version was replaced and has closed")

var (
	_ hooks.SelfTimed = (*running)(nil)
	_ hooks.SelfTimed = (*slotFunc)(nil)
)

// Invoke runs the version, unless it has closed.
func (r *running) Invoke(ctx context.Context, ev *hooks.Event) (hooks.Result, error) {
	if r.state.Add(1)&closedBit != 0 {
		r.state.Add(-1)
		return hooks.Result{}, errRetired
	}
	res, err := r.fn.Invoke(ctx, ev)
	if r.state.Add(-1) == retiredBit && r.markClosed(false) {
		r.onClose()
	}
	return res, err
}

// StopsAtDeadline: the version is a jsruntime.Function, which stops itself at its deadline.
func (r *running) StopsAtDeadline() {}

// retire marks the version detached; it closes at once if no call is in flight, otherwise
// when the last one ends.
func (r *running) retire() {
	r.state.Or(retiredBit)
	if r.markClosed(false) {
		r.onClose()
	}
}

// markClosed sets closedBit: when the version is retired and idle, or with force whatever its
// calls in flight (jsruntime.Function.Close lets them finish). It reports whether this call
// set it: the caller then closes the Function, exactly once.
func (r *running) markClosed(force bool) bool {
	if force {
		return r.state.Or(closedBit)&closedBit == 0
	}
	return r.state.CompareAndSwap(retiredBit, retiredBit|closedBit)
}

// slotFunc is the function of one behavior's event in an attachment table: a version, or a
// weighted pair of versions. A call that finds its version closed runs the slot's current
// function (see running).
type slotFunc struct {
	fn  hooks.Function // *running or *weighted
	a   *Activator
	key slot
}

// Invoke runs the slot's function.
func (s *slotFunc) Invoke(ctx context.Context, ev *hooks.Event) (hooks.Result, error) {
	res, err := s.fn.Invoke(ctx, ev)
	if err != errRetired {
		return res, err
	}
	cur := s.a.current(s.key)
	if cur == nil || cur == hooks.Function(s) {
		return hooks.Result{}, hooks.Errorf(hooks.Execution, "deploy: the function of %s %s was removed while the request ran", s.key.behavior, s.key.stage)
	}
	return cur.Invoke(ctx, ev)
}

// StopsAtDeadline: every function a slot runs stops itself at its deadline.
func (s *slotFunc) StopsAtDeadline() {}
