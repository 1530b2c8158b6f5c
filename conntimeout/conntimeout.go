// Package conntimeout enforces a server's read, write and idle timeouts on every connection
// from one sweeping goroutine, instead of net.Conn deadlines re-armed on every request.
//
// fasthttp enforces its timeouts with deadlines: three SetDeadline calls per keep-alive
// request, each a clock read and a runtime timer moved under a lock. On the bench VM that was
// 0.55 us of the 7.6 us a 1 KiB cache hit costs the server, and 6-7% of its throughput
// (bench/run.sh 1k with and without them). Here a connection notes with an atomic store which
// phase it is in and when that phase must end. A sweeper looks at every connection a few
// times per timeout and, for one that overstayed, sets the real deadline to the past: the
// blocked Read or Write fails with a timeout, as it would have with the deadline armed.
//
// The phases are the ones fasthttp's timeouts bound, inferred from the order of calls of the
// one goroutine serving a connection:
//
//   - read: from accepting the connection, or from the first byte of a request, until the
//     response starts (Server.ReadTimeout);
//   - write: from the first Write of a response until the next Read (Server.WriteTimeout);
//   - idle: from a Read after a response until its first byte arrives (Server.IdleTimeout).
//
// A timeout fires between its duration and that plus two ticks of the sweeper; a tick is a
// sixteenth of the shortest timeout, from 1 ms to 250 ms. A read deadline that passes while
// the handler runs (a slow origin) fails nothing: the response's first Write clears it.
package conntimeout

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
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

// Listener wraps a listener so that the connections it accepts enforce Timeouts.
type Listener struct {
	net.Listener
	t     Timeouts
	tick  time.Duration
	start time.Time
	now   atomic.Int64 // nanoseconds since start, as of the last tick

	mu       sync.Mutex
	conns    map[*conn]struct{}
	sweeping bool // a sweeper runs: there are connections
}

// Listen wraps ln. A sweeper runs while there are connections, closed or not by the Listener,
// so that connections draining during a graceful shutdown keep their timeouts.
func Listen(ln net.Listener, t Timeouts) *Listener {
	return &Listener{Listener: ln, t: t, tick: t.tick(), start: time.Now(), conns: map[*conn]struct{}{}}
}

// Accept waits for a connection; its read phase starts now.
func (l *Listener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c := &conn{Conn: nc, l: l}
	l.mu.Lock()
	if !l.sweeping {
		// The clock stood still while no sweeper ran.
		l.now.Store(int64(time.Since(l.start)))
		l.sweeping = true
		go l.sweep()
	}
	l.conns[c] = struct{}{}
	l.mu.Unlock()
	c.enter(phaseRead, l.t.Read)
	return c, nil
}

// clock is the coarse time: nanoseconds since start as of the last tick, at most a tick old.
func (l *Listener) clock() int64 { return l.now.Load() }

// sweep advances the clock and expires overdue connections every tick, until none is left.
func (l *Listener) sweep() {
	t := time.NewTicker(l.tick)
	defer t.Stop()
	for range t.C {
		now := int64(time.Since(l.start))
		l.now.Store(now)
		l.mu.Lock()
		for c := range l.conns {
			if d := c.deadline.Load(); d != 0 && now > d {
				c.expire(now)
			}
		}
		if len(l.conns) == 0 {
			l.sweeping = false
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
	}
}

type phase uint8

const (
	phaseRead phase = iota
	phaseWrite
	phaseIdle
)

// conn is an accepted connection whose phases are timed. Read and Write must be called from
// one goroutine at a time, as an HTTP/1 server does; Close may come from any.
type conn struct {
	net.Conn
	l     *Listener
	phase phase // owned by the goroutine calling Read and Write

	// deadline is when the current phase ends, on the Listener's clock (0: never). The
	// sweeper reads it; only the owner stores it.
	deadline atomic.Int64
	// fired says the sweeper has set the real deadline into the past. The owner stores the
	// next phase's deadline before it loads fired, the sweeper stores fired before it loads
	// the deadline again: one of them sees the other, so a new phase never inherits an
	// expiry meant for the old one.
	fired  atomic.Bool
	mu     sync.Mutex // serialises expire and rearm
	closed sync.Once
}

// enter starts phase p bounded by d.
func (c *conn) enter(p phase, d time.Duration) {
	c.phase = p
	var at int64
	if d > 0 {
		// The clock lags real time by up to a tick: add one so that a phase never ends early.
		at = c.l.clock() + int64(d) + int64(c.l.tick)
	}
	c.deadline.Store(at)
	if c.fired.Load() {
		c.rearm()
	}
}

// rearm clears a deadline the sweeper set, once the phase it was meant for is over.
func (c *conn) rearm() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fired.Load() {
		_ = c.Conn.SetDeadline(time.Time{})
		c.fired.Store(false)
	}
}

// expire fails the blocked (or next) Read and Write, if the phase has really ended.
func (c *conn) expire(now int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fired.Store(true)
	if d := c.deadline.Load(); d != 0 && now > d {
		_ = c.Conn.SetDeadline(time.Unix(1, 0))
		return
	}
	c.fired.Store(false)
}

func (c *conn) Read(b []byte) (int, error) {
	if c.phase == phaseWrite {
		c.enter(phaseIdle, c.l.t.Idle)
	}
	n, err := c.Conn.Read(b)
	if n > 0 && c.phase == phaseIdle {
		c.enter(phaseRead, c.l.t.Read)
	}
	return n, err
}

func (c *conn) Write(b []byte) (int, error) {
	if c.phase != phaseWrite {
		c.enter(phaseWrite, c.l.t.Write)
	}
	return c.Conn.Write(b)
}

func (c *conn) Close() error {
	c.closed.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}
