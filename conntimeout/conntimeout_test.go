package conntimeout

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// serve starts a fasthttp server with no timeouts of its own whose connections keep to, and
// returns its address, its Tracker and its listener. handler defaults to a 2-byte answer.
func serve(t *testing.T, to Timeouts, handler fasthttp.RequestHandler) (string, *Tracker, net.Listener) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if handler == nil {
		handler = func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("ok") }
	}
	srv := &fasthttp.Server{Handler: handler}
	k := Enforce(srv, to)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return ln.Addr().String(), k, ln
}

// tracked is how many connections k tracks, and whether its sweeper runs.
func (k *Tracker) tracked() (int, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.open, k.sweeping
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip sends one GET on c and reads its answer.
func roundTrip(t *testing.T, c net.Conn, br *bufio.Reader) *fasthttp.Response {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	var resp fasthttp.Response
	if err := resp.Read(br); err != nil {
		t.Fatal(err)
	}
	return &resp
}

// closedAfter waits (up to limit) for the server to close c and says how long that took.
// Anything the server sends before it closes is returned too.
func closedAfter(t *testing.T, c net.Conn, limit time.Duration) (time.Duration, string) {
	t.Helper()
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(limit))
	got, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %v", limit)
	}
	return time.Since(start), string(got)
}

func TestTick(t *testing.T) {
	for _, tc := range []struct {
		t    Timeouts
		want time.Duration
	}{
		{Timeouts{Read: 30 * time.Second, Write: 60 * time.Second, Idle: 60 * time.Second}, 250 * time.Millisecond},
		{Timeouts{Read: 30 * time.Second, Write: 800 * time.Millisecond}, 50 * time.Millisecond},
		{Timeouts{Idle: 5 * time.Millisecond}, time.Millisecond},
		{Timeouts{}, 250 * time.Millisecond},
	} {
		if got := tc.t.tick(); got != tc.want {
			t.Errorf("%+v: tick %v, want %v", tc.t, got, tc.want)
		}
	}
}

// An idle keep-alive connection is closed once the idle timeout has passed, and not before.
func TestIdleTimeout(t *testing.T) {
	const idle = 300 * time.Millisecond
	addr, _, _ := serve(t, Timeouts{Read: 10 * time.Second, Write: 10 * time.Second, Idle: idle}, nil)
	c := dial(t, addr)
	br := bufio.NewReader(c)
	// The idle phase starts once the answer is written, after the request went out: timed
	// from before the request, the close comes no sooner than idle, however late this
	// goroutine runs after reading the answer.
	start := time.Now()
	if r := roundTrip(t, c, br); string(r.Body()) != "ok" {
		t.Fatalf("body %q", r.Body())
	}
	closedAfter(t, c, 5*time.Second)
	if took := time.Since(start); took < idle {
		t.Fatalf("closed %v after the request, before the idle timeout %v", took, idle)
	}
}

// Headers that trickle in never finish the request: the read timeout cuts it, however long
// the idle timeout, and bytes arriving do not extend it. fasthttp answers such a request 400
// and closes, as it does when it times the read itself.
func TestSlowHeadersCutAtReadTimeout(t *testing.T) {
	const read = 400 * time.Millisecond
	addr, _, _ := serve(t, Timeouts{Read: read, Write: 10 * time.Second, Idle: time.Minute}, nil)
	start := time.Now() // before the dial: the server's budget starts at its accept
	c := dial(t, addr)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(30 * time.Millisecond):
			}
			if _, err := io.WriteString(c, "a"); err != nil {
				return
			}
		}
	}()
	_, got := closedAfter(t, c, 5*time.Second)
	close(stop)
	wg.Wait()
	took := time.Since(start)
	if !strings.HasPrefix(got, "HTTP/1.1 400 ") {
		t.Fatalf("got %q, want fasthttp's 400", got)
	}
	if took < read {
		t.Fatalf("cut after %v, before the read timeout %v", took, read)
	}
}

// A connection that keeps working is never cut, however long it lives, and a handler slower
// than the read timeout still gets its answer out.
func TestBusyConnectionAndSlowHandlerSurvive(t *testing.T) {
	// The client's pause between requests is a twentieth of the timeouts: a test goroutine
	// held up for the rest (380 ms) on a loaded machine would be rightly cut.
	const short = 400 * time.Millisecond
	addr, _, _ := serve(t, Timeouts{Read: short, Write: short, Idle: short}, func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) == "/slow" {
			time.Sleep(3 * short)
		}
		ctx.SetBodyString("ok")
	})
	c := dial(t, addr)
	br := bufio.NewReader(c)
	for end := time.Now().Add(6 * short); time.Now().Before(end); {
		if r := roundTrip(t, c, br); string(r.Body()) != "ok" {
			t.Fatalf("body %q", r.Body())
		}
		time.Sleep(short / 20)
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	var resp fasthttp.Response
	if err := resp.Read(br); err != nil {
		t.Fatalf("slow handler: %v", err)
	}
	if resp.StatusCode() != 200 || string(resp.Body()) != "ok" {
		t.Fatalf("slow handler: %d %q", resp.StatusCode(), resp.Body())
	}
	if r := roundTrip(t, c, br); string(r.Body()) != "ok" {
		t.Fatalf("after the slow handler: body %q", r.Body())
	}
}

// A viewer that stops reading a large response is cut at the write timeout: the server does
// not stay blocked on it.
func TestStalledReaderCutAtWriteTimeout(t *testing.T) {
	const write = 300 * time.Millisecond
	body := strings.Repeat("x", 32<<20)
	done := make(chan struct{})
	addr, _, _ := serve(t, Timeouts{Read: 10 * time.Second, Write: write, Idle: 10 * time.Second}, func(ctx *fasthttp.RequestCtx) {
		ctx.SetBodyString(body)
		close(done)
	})
	c := dial(t, addr)
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	<-done
	time.Sleep(write + time.Second) // not reading: the server's write blocks, then times out
	_, got := closedAfter(t, c, 10*time.Second)
	if len(got) >= len(body) {
		t.Fatalf("got all %d bytes: the write never timed out", len(got))
	}
	if !strings.HasPrefix(got, "HTTP/1.1 200 OK") {
		t.Fatalf("got %.40q", got)
	}
}

// Closing the listener stops accepting, but the connections it accepted keep their timeouts
// while they drain.
func TestTimeoutsOutliveListener(t *testing.T) {
	const idle = 200 * time.Millisecond
	addr, k, ln := serve(t, Timeouts{Read: 10 * time.Second, Write: 10 * time.Second, Idle: idle}, nil)
	c := dial(t, addr)
	start := time.Now() // before the request: the idle phase starts after its answer
	roundTrip(t, c, bufio.NewReader(c))
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	closedAfter(t, c, 5*time.Second)
	if took := time.Since(start); took < idle {
		t.Fatalf("closed %v after the request, before the idle timeout %v", took, idle)
	}
	waitUntracked(t, k)
}

// waitUntracked waits for k to track no connection and stop its sweeper.
func waitUntracked(t *testing.T, k *Tracker) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		open, sweeping := k.tracked()
		if open == 0 && !sweeping {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections tracked (sweeping %v) after their clients closed", open, sweeping)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Many connections at once, each through several phases, under the race detector: none is
// cut while it works, and every one is forgotten once closed.
func TestManyConnections(t *testing.T) {
	addr, k, _ := serve(t, Timeouts{Read: time.Second, Write: time.Second, Idle: time.Second}, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			br := bufio.NewReader(c)
			for range 50 {
				if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
					errs <- err
					return
				}
				var resp fasthttp.Response
				if err := resp.Read(br); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	waitUntracked(t, k)
}

// The sweeper stops when the last connection closes and starts again with the next: a
// connection accepted after a quiet spell is not cut early.
func TestQuietSpell(t *testing.T) {
	const read = time.Second // the request comes read/3 after the dial: 667 ms to spare
	addr, k, _ := serve(t, Timeouts{Read: read, Write: read, Idle: read}, nil)
	c := dial(t, addr)
	roundTrip(t, c, bufio.NewReader(c))
	c.Close()
	waitUntracked(t, k)
	time.Sleep(2 * read)
	c = dial(t, addr)
	time.Sleep(read / 3)
	if r := roundTrip(t, c, bufio.NewReader(c)); string(r.Body()) != "ok" {
		t.Fatalf("body %q", r.Body())
	}
}

// The handler sees the server's own connection, not a wrapper: fasthttp sends a large
// response with one writev only to a *net.TCPConn.
func TestServerKeepsItsConn(t *testing.T) {
	addr, _, _ := serve(t, Timeouts{Read: time.Second, Write: time.Second, Idle: time.Second}, func(ctx *fasthttp.RequestCtx) {
		if _, ok := ctx.Conn().(*net.TCPConn); ok {
			ctx.SetBodyString("ok")
		} else {
			ctx.SetBodyString(fmt.Sprintf("%T", ctx.Conn()))
		}
	})
	c := dial(t, addr)
	if r := roundTrip(t, c, bufio.NewReader(c)); string(r.Body()) != "ok" {
		t.Fatalf("the handler saw a %s", r.Body())
	}
}

// A new connection's first request has read_timeout from the accept, as with fasthttp's own
// timeouts: a first byte sent just before it ends does not buy the headers a second one.
func TestFirstRequestBudgetStartsAtAccept(t *testing.T) {
	const read = 400 * time.Millisecond
	addr, _, _ := serve(t, Timeouts{Read: read, Write: 10 * time.Second, Idle: time.Minute}, nil)
	start := time.Now() // before the dial: the server's budget starts at its accept
	c := dial(t, addr)
	time.Sleep(read * 4 / 5)
	stop := make(chan struct{})
	defer close(stop)
	var firstByte atomic.Int64 // when the first byte went out, in ns since start; 0 before
	go func() {
		for _, b := range []byte("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 1000)) {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			firstByte.CompareAndSwap(0, int64(time.Since(start)))
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
		}
	}()
	closedAfter(t, c, 5*time.Second)
	took := time.Since(start)
	if took < read {
		t.Fatalf("cut after %v, before the read timeout %v", took, read)
	}
	// A budget restarted by the first byte would end read after it at the soonest: the cut
	// must come before that, however late a loaded machine runs the sweeper or this test.
	if fb := time.Duration(firstByte.Load()); fb > 0 && took >= fb+read {
		t.Fatalf("cut after %v, the read timeout %v after the first byte (sent at %v): the budget restarted", took, read, fb)
	}
}

// A viewer that pipelines requests and never reads its answers cannot hold a connection:
// what fasthttp flushes while reading the next request is bounded by the write timeout.
func TestPipelinedStallIsCut(t *testing.T) {
	const short = 300 * time.Millisecond
	body := strings.Repeat("b", 2048)
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString(body) }}
	Enforce(srv, Timeouts{Read: short, Write: short, Idle: 10 * short})
	go func() { _ = srv.Serve(smallSendBuffers{raw}) }()
	t.Cleanup(func() { _ = srv.Shutdown() })

	nc, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := nc.(*net.TCPConn)
	_ = c.SetReadBuffer(4096)
	// Each write completes one request and starts the next, so fasthttp holds the answer back
	// and flushes it while it reads the rest of the next: in the read phase. With the small
	// buffers that flush soon blocks.
	_ = c.SetWriteDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.WriteString(c, "G"); err != nil {
		t.Fatal(err)
	}
	for range 200 {
		if _, err := io.WriteString(c, "ET / HTTP/1.1\r\nHost: x\r\n\r\nG"); err != nil {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	deadline := time.Now().Add(5 * time.Second)
	for srv.GetOpenConnectionsCount() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still open 5 s after the viewer stalled", srv.GetOpenConnectionsCount())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// smallSendBuffers gives accepted connections a small send buffer, so that a viewer that
// does not read blocks the server's writes soon. The connections stay *net.TCPConn.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	return c, err
}

// A timeout too long to encode (an operator's "never", 2,000,000 h) is unbounded: the end of a
// phase once came out of the shift negative, and the connection was cut at the next sweep.
func TestHugeTimeoutsNeverFire(t *testing.T) {
	k := &Tracker{start: time.Now()}
	later := int64(time.Hour)
	for _, d := range []time.Duration{1 << 62, 2_000_000 * time.Hour, 1<<63 - 1} {
		if st := k.phase(reading, d); overdue(st, later) {
			t.Errorf("a phase of %v is overdue an hour after it started (state %d)", d, st)
		}
	}
	const huge = 2_000_000 * time.Hour
	addr, _, _ := serve(t, Timeouts{Read: huge, Write: huge, Idle: huge}, nil)
	c := dial(t, addr)
	br := bufio.NewReader(c)
	roundTrip(t, c, br)
	time.Sleep(600 * time.Millisecond) // the tick is 250 ms: two sweeps at least
	roundTrip(t, c, br)
}

// Never early, even when the sweeper runs late: on one busy core its clock readings can be
// late by a scheduler quantum, ten times a 1 ms tick. Phases once ended from the sweeper's
// last reading, so an idle connection could be cut as soon as it went idle. The idle time is
// measured in the server, from before the phase starts until after the connection is closed:
// it can only be longer than the phase.
func TestNeverEarlyWithALateSweeper(t *testing.T) {
	const idle = 16 * time.Millisecond // the tick: 1 ms
	var mu sync.Mutex
	idleAt := map[net.Conn]time.Time{}
	shortest := time.Hour
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("ok") }}
	Enforce(srv, Timeouts{Read: time.Second, Write: time.Second, Idle: idle})
	hook := srv.ConnState
	srv.ConnState = func(nc net.Conn, s fasthttp.ConnState) {
		if s == fasthttp.StateIdle {
			mu.Lock()
			idleAt[nc] = time.Now()
			mu.Unlock()
		}
		hook(nc, s)
		if s == fasthttp.StateClosed {
			mu.Lock()
			if at, ok := idleAt[nc]; ok {
				shortest = min(shortest, time.Since(at))
				delete(idleAt, nc)
			}
			mu.Unlock()
		}
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown() })

	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	stop := make(chan struct{})
	spun := make(chan struct{})
	go func() { // keeps the one core busy, so that the sweeper waits its turn
		defer close(spun)
		for x := 0; ; x++ {
			if x&0xffff == 0 {
				select {
				case <-stop:
					return
				default:
				}
			}
		}
	}()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 40 {
				c, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
				if err != nil {
					t.Error(err)
					return
				}
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				br := bufio.NewReader(c)
				var resp fasthttp.Response
				if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
					t.Error(err)
				} else if err := resp.Read(br); err != nil {
					t.Error(err)
				}
				_, _ = br.ReadByte() // until the idle timeout closes it
				c.Close()
			}
		})
	}
	wg.Wait()
	close(stop)
	<-spun
	deadline := time.Now().Add(5 * time.Second)
	for srv.GetOpenConnectionsCount() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if shortest < idle {
		t.Fatalf("an idle connection was closed %v after it went idle, before the idle timeout %v", shortest, idle)
	}
}

// A hijacked connection is the hijack handler's, untimed, from the moment the handler
// returns: a slow hand-over (StateHijacked delayed past the write timeout, as a descheduled
// goroutine would) must not leave it a deadline in the past.
func TestHijackedConnectionUntimed(t *testing.T) {
	const write = 32 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	werr := make(chan error, 1)
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.HijackSetNoResponse(true)
		ctx.Hijack(func(c net.Conn) {
			time.Sleep(3 * write)
			_, err := io.WriteString(c, "hello from the hijack handler")
			werr <- err
		})
	}}
	Enforce(srv, Timeouts{Read: 10 * time.Second, Write: write, Idle: 10 * time.Second})
	hook := srv.ConnState
	srv.ConnState = func(nc net.Conn, s fasthttp.ConnState) {
		if s == fasthttp.StateHijacked {
			time.Sleep(2 * write)
		}
		hook(nc, s)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	c := dial(t, ln.Addr().String())
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-werr:
		if err != nil {
			t.Fatalf("the hijack handler's write: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the handler was not hijacked")
	}
}
