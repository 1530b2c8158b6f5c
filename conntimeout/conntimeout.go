// Package conntimeout enforces a fasthttp server's read, write and idle timeouts on every
// connection from one sweeping goroutine, instead of net.Conn deadlines re-armed on every
// request.
//
// fasthttp enforces its timeouts with deadlines: three SetDeadline calls per keep-alive
// request, each a clock read and a runtime timer moved under a lock. On the bench VM that was
// 0.4-0.75 us of the 7.5-7.8 us a 1 KiB cache hit costs the server, and 4-7% of its
// throughput (four paired wrk runs of the bench's 1k scenario, with fasthttp's timeouts and
// with none). Here a connection notes with an atomic store which
// phase it is in and when that phase must end. A sweeper looks at every connection a few
// times per timeout and, for one that overstayed, sets the real deadline to the past: the
// blocked read or write fails with a timeout, as it would have with the deadline armed.
//
// The phases are the ones fasthttp's timeouts bound, told by the server's ConnState hook and
// by the handler's return:
//
//   - read: from accepting the connection (for its first request) or from the first byte of
//     a later request, until the handler returns (Server.ReadTimeout);
//   - write: from the handler's return until the response is written (Server.WriteTimeout);
//   - idle: from then until the next request's first byte (Server.IdleTimeout).
//
// The connections stay the server's own (*net.TCPConn): a wrapper would hide them from
// fasthttp, which then sends a large response in two writes instead of one writev.
//
// A timeout never fires before its duration: a phase's end is its start, read from the clock,
// plus the timeout. It fires at the first sweep after that, a tick later at most while the
// sweeper runs on time; a tick is a sixteenth of the shortest timeout, from 1 ms to 250 ms.
// A timeout too long to count (beyond about 146 years) is unbounded. An expiry fails the
// side the phase waits on and bounds the other by its own timeout: a read phase that
// overstayed fails the read, and what fasthttp still writes in it (its 400, a pipelined
// response it held back) must go out within the write timeout. A read deadline that passes while the handler runs (a slow
// origin) fails nothing: the write phase clears it.
//
// Only connections served by fasthttp.Server.Serve are timed: ServeConn reports no StateNew.
package conntimeout

import (
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Timeouts are the bounds of each phase; zero means unbounded.
type Timeouts struct {
	Read, Write, Idle time.Duration
}

// tick is the sweeper's period for t: fine enough that a timeout fires close to its
// duration, coarse enough that a sweep of every connection is rare.
func (t Timeouts) tick() time.Duration {
	shortest := time.Duration(0)
	for _, d := range []time.Duration{t.Read, t.Write, t.Idle} {
		if d > 0 && (shortest == 0 || d < shortest) {
			shortest = d
		}
	}
	if shortest == 0 {
		return 250 * time.Millisecond
	}
	return min(max(shortest/16, time.Millisecond), 250*time.Millisecond)
}

// Tracker times the connections of one server.
type Tracker struct {
	t     Timeouts
	tick  time.Duration
	start time.Time // the clock phases are read from: nanoseconds since start

	conns sync.Map // net.Conn -> *conn

	mu       sync.Mutex
	open     int  // connections tracked
	sweeping bool // a sweeper runs: open > 0, or it is about to notice it is not
}

// Enforce makes srv's connections keep t: it sets srv.ConnState and wraps srv.Handler, so
// call it after setting the handler. srv's own ReadTimeout, WriteTimeout and IdleTimeout
// must be zero, or both would time the connections.
func Enforce(srv *fasthttp.Server, t Timeouts) *Tracker {
	k := &Tracker{t: t, tick: t.tick(), start: time.Now()}
	srv.ConnState = k.connState
	h := srv.Handler
	srv.Handler = func(ctx *fasthttp.RequestCtx) {
		nc := ctx.Conn()
		h(ctx)
		if ctx.Hijacked() {
			k.closed(nc) // fasthttp hands it over untimed: stop timing it now
			return
		}
		k.enter(nc, writing, t.Write)
	}
	return k
}

func (k *Tracker) connState(nc net.Conn, s fasthttp.ConnState) {
	switch s {
	case fasthttp.StateNew:
		k.opened(nc)
	case fasthttp.StateActive:
		switch c := k.conn(nc); {
		case c == nil:
		case !c.started:
			// The first request's read phase started at accept, as fasthttp's does: a byte
			// sent just before it ends must not buy the headers a second one.
			c.started = true
		default:
			c.enter(k.phase(reading, k.t.Read))
		}
	case fasthttp.StateIdle:
		k.enter(nc, reading, k.t.Idle)
	case fasthttp.StateClosed, fasthttp.StateHijacked:
		k.closed(nc)
	}
}

// opened tracks nc, in its read phase, and starts the sweeper if none runs.
func (k *Tracker) opened(nc net.Conn) {
	c := &conn{Conn: nc, k: k}
	k.mu.Lock()
	if !k.sweeping {
		k.sweeping = true
		go k.sweep()
	}
	k.open++
	k.mu.Unlock()
	c.state.Store(k.phase(reading, k.t.Read))
	k.conns.Store(nc, c)
}

func (k *Tracker) closed(nc net.Conn) {
	if v, ok := k.conns.LoadAndDelete(nc); ok {
		c := v.(*conn)
		c.mu.Lock()
		c.gone = true // a sweep still holding c must not touch it
		if c.fired.Load() {
			_ = c.SetDeadline(time.Time{})
			c.fired.Store(false)
		}
		c.mu.Unlock()
		k.mu.Lock()
		k.open--
		k.mu.Unlock()
	}
}

// conn returns the tracked connection nc, or nil.
func (k *Tracker) conn(nc net.Conn) *conn {
	v, _ := k.conns.Load(nc)
	c, _ := v.(*conn)
	return c
}

// enter starts nc's next phase, of kind p and bounded by d.
func (k *Tracker) enter(nc net.Conn, p kind, d time.Duration) {
	if c := k.conn(nc); c != nil {
		c.enter(k.phase(p, d))
	}
}

// kind says which of a connection's deadlines a phase's expiry sets: the read phase and the
// idle one wait for the viewer, the write phase for the viewer's window. Failing only that
// side lets the server still answer a request whose headers never finished (fasthttp's 400).
type kind int64

const (
	reading kind = iota
	writing
)

// phase encodes a phase of kind p and duration d starting now: when it ends on the Tracker's
// clock (0: never), shifted left of its kind, so that both change in one atomic store. It
// reads the clock itself: the sweeper's last reading can be late by more than a tick on a
// busy machine, and a phase ended from it would end early.
func (k *Tracker) phase(p kind, d time.Duration) int64 {
	now := int64(time.Since(k.start))
	if d <= 0 || int64(d) >= maxEnd-now {
		return int64(p) // unbounded, or too long to encode: never
	}
	return (now+int64(d))<<1 | int64(p)
}

// maxEnd is the largest end that survives the shift left of the kind.
const maxEnd = math.MaxInt64 >> 1

// sweep expires overdue connections every tick, until none is left.
func (k *Tracker) sweep() {
	t := time.NewTicker(k.tick)
	defer t.Stop()
	for range t.C {
		now := int64(time.Since(k.start))
		k.conns.Range(func(_, v any) bool {
			c := v.(*conn)
			if overdue(c.state.Load(), now) {
				c.expire(now)
			}
			return true
		})
		k.mu.Lock()
		if k.open == 0 {
			k.sweeping = false
			k.mu.Unlock()
			return
		}
		k.mu.Unlock()
	}
}

// overdue reports whether the phase state has ended by now.
func overdue(state, now int64) bool {
	end := state >> 1
	return end != 0 && now > end
}

// conn is one tracked connection. Its phases change on the goroutine serving it.
type conn struct {
	net.Conn
	k       *Tracker
	started bool // the first request's first byte has come; owned by the serving goroutine
	// state is the current phase (Tracker.phase). The sweeper reads it; only the serving
	// goroutine stores it.
	state atomic.Int64
	// fired says the sweeper has set a real deadline into the past. The server stores the
	// next phase before it loads fired, the sweeper stores fired before it loads
	// the phase again: one of them sees the other, so a new phase never inherits an
	// expiry meant for the old one.
	fired atomic.Bool
	mu    sync.Mutex // serialises expire and rearm
	gone  bool       // no longer tracked (closed or hijacked); under mu
}

// enter starts the phase state.
func (c *conn) enter(state int64) {
	c.state.Store(state)
	if c.fired.Load() {
		c.rearm()
	}
}

// rearm clears a deadline the sweeper set, once the phase it was meant for is over.
func (c *conn) rearm() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fired.Load() {
		_ = c.SetDeadline(time.Time{})
		c.fired.Store(false)
	}
}

// expire fails the blocked (or next) read or write, if the phase has really ended, and
// bounds the other side by its own timeout. A phase whose expiry has fired is left alone.
func (c *conn) expire(now int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone || c.fired.Load() {
		return
	}
	c.fired.Store(true)
	st := c.state.Load()
	if !overdue(st, now) {
		c.fired.Store(false)
		return
	}
	past := time.Unix(1, 0)
	if kind(st&1) == writing {
		_ = c.SetWriteDeadline(past)
		_ = c.SetReadDeadline(bound(c.k.t.Read))
	} else {
		_ = c.SetReadDeadline(past)
		_ = c.SetWriteDeadline(bound(c.k.t.Write))
	}
}

// bound is a deadline d from now, or none for d <= 0.
func bound(d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	return time.Now().Add(d)
}
