package origin

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Interim receives an origin's interim (1xx) responses to a fetch as they arrive, before the
// final response (RFC 9110 15.2: a proxy forwards them), hop-by-hop headers removed. It runs
// on the fetching goroutine and must not keep h.
type Interim func(status int, h *fasthttp.ResponseHeader)

// maxInterims bounds the interim responses one fetch accepts, as fasthttp's own reader does.
const maxInterims = 100

// errTooManyInterims is the error of a response that never got past its interim responses.
var errTooManyInterims = errors.New("more than 100 interim (1xx) responses")

// exchangeKey is the Request user value that carries an *exchange to transport.
type exchangeKey struct{}

// exchange is what a fetch that passes interim responses on tells its transport: fasthttp
// keeps a request's deadline to itself.
type exchange struct {
	deadline time.Time // zero: none
	interim  Interim
}

// transport is the HostClient's RoundTripper. fasthttp's reads and drops interim responses
// with no hook, so a fetch with an Interim runs here instead: the same exchange on a pooled
// connection, with the interim heads read first and handed over as they come. Every other
// fetch goes to fasthttp's own. It relies on the HostClient having no ReadTimeout,
// WriteTimeout or MaxConnDuration (New sets none; pacedConn bounds each read and write).
type transport struct{}

func (transport) RoundTrip(hc *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response) (bool, error) {
	x, _ := req.UserValue(exchangeKey{}).(*exchange)
	if x == nil {
		return fasthttp.DefaultTransport.RoundTrip(hc, req, resp)
	}
	return x.roundTrip(hc, req, resp)
}

// roundTrip returns, as fasthttp's transports do, whether a failed exchange may be retried
// (HostClient.Do then asks RetryIfErr).
func (x *exchange) roundTrip(hc *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response) (bool, error) {
	var timeout time.Duration
	if !x.deadline.IsZero() {
		if timeout = time.Until(x.deadline); timeout <= 0 {
			return false, fasthttp.ErrTimeout
		}
	}
	cc, err := hc.AcquireConn(timeout, req.ConnectionClose())
	if err != nil {
		return false, err
	}
	conn := cc.Conn()
	resp.ParseNetConn(conn)
	// The connection goes back to a pool fasthttp's transport also draws from: ReleaseConn
	// tells it the deadlines were touched, and a closed one is gone.
	_ = conn.SetDeadline(x.deadline)
	// release gives the connection back with no deadline left on it, or closes it.
	release := func(closeIt bool) {
		if closeIt {
			hc.CloseConn(cc)
			return
		}
		_ = conn.SetDeadline(time.Time{})
		hc.ReleaseConn(cc)
	}

	bw := hc.AcquireWriter(conn)
	err = req.Write(bw)
	if err == nil {
		err = bw.Flush()
	}
	hc.ReleaseWriter(bw)
	if err != nil {
		release(true)
		if isTimeout(err) {
			err = fasthttp.ErrTimeout
		}
		return true, err
	}

	if req.Header.IsHead() {
		resp.SkipBody = true
	}
	resp.Header.DisableNormalizing() // as the HostClient asks (DisableHeaderNamesNormalizing)
	br := hc.AcquireReader(conn)
	if err := readInterims(br, x.interim); err != nil {
		hc.ReleaseReader(br)
		release(true)
		return !errors.Is(err, errTooManyInterims), err
	}
	if !resp.StreamBody {
		err := resp.ReadLimitBody(br, hc.MaxResponseBodySize)
		hc.ReleaseReader(br)
		if err != nil {
			release(true)
			return !errors.Is(err, fasthttp.ErrBodyTooLarge), err
		}
		release(req.ConnectionClose() || resp.ConnectionClose())
		return false, nil
	}

	// A streamed body: the connection is the stream's until it is closed. The response is read
	// into one of our own, whose body stream is wrapped and moved to resp: a stream handed to
	// SetBodyStream must not be fasthttp's own, which it would recycle.
	in := new(fasthttp.Response)
	in.StreamBody, in.SkipBody = true, resp.SkipBody
	in.Header.DisableNormalizing()
	in.Header.SetNoDefaultContentType(true)
	if err := in.ReadLimitBody(br, 0); err != nil {
		hc.ReleaseReader(br)
		release(true)
		return true, err
	}
	in.Header.CopyTo(&resp.Header)
	keep := !req.ConnectionClose() && !in.Header.ConnectionClose()
	rs := in.BodyStream()
	if rs == nil { // no body (HEAD, 1xx, 204, 304)
		hc.ReleaseReader(br)
		release(!keep)
		return false, nil
	}
	resp.SetBodyStream(&streamBody{
		r:    rs,
		done: in.Header.ContentLength() == 0,
		conn: conn,
		release: func(discard bool) {
			hc.ReleaseReader(br)
			release(discard || !keep)
		},
	}, in.Header.ContentLength())
	return false, nil
}

// readInterims reads the interim responses at the head of br and hands them to f, leaving the
// final response's head unread. A 100 (Continue) answers an Expect the origin request does not
// carry and is dropped; a 101 ends the exchange as fasthttp's reader sees it, so it is final.
// What is not an interim head, or fails to arrive, is left for fasthttp's reader to judge,
// except a timeout, which would otherwise be waited for twice.
func readInterims(br *bufio.Reader, f Interim) error {
	for n := 0; ; n++ {
		b, err := br.Peek(len("HTTP/1.1 100"))
		if err != nil {
			if isTimeout(err) {
				return err
			}
			return nil
		}
		status, ok := interimStatus(b)
		if !ok {
			return nil
		}
		if n == maxInterims {
			return errTooManyInterims
		}
		var h fasthttp.ResponseHeader
		h.DisableNormalizing()
		h.SetNoDefaultContentType(true)
		if err := h.Read(br); err != nil {
			return err
		}
		if status != fasthttp.StatusContinue {
			StripHopByHopResponse(&h)
			f(status, &h)
		}
	}
}

// interimStatus reads the status of a status line's start, "HTTP/1.x 1dd", and reports
// whether it is an interim one (1xx other than 101).
func interimStatus(b []byte) (int, bool) {
	if len(b) < 12 || string(b[:7]) != "HTTP/1." || b[7] < '0' || b[7] > '9' || b[8] != ' ' || b[9] != '1' ||
		b[10] < '0' || b[10] > '9' || b[11] < '0' || b[11] > '9' {
		return 0, false
	}
	status := 100 + int(b[10]-'0')*10 + int(b[11]-'0')
	return status, status != fasthttp.StatusSwitchingProtocols
}

// streamBody is the body stream of a response read by transport: its connection goes back to
// the pool when the stream is closed after being read to its end, and is closed otherwise. A
// close may come from another goroutine while a Read is blocked (ReadBody's timer): it then
// closes the connection to end the Read, and waits for it before releasing anything.
type streamBody struct {
	r       io.Reader
	mu      sync.Mutex // held by a Read
	closed  atomic.Bool
	done    bool // read to its end
	once    sync.Once
	conn    net.Conn
	release func(discard bool)
}

func (s *streamBody) Read(p []byte) (int, error) {
	if s.closed.Load() {
		return 0, io.ErrClosedPipe
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return 0, io.ErrClosedPipe
	}
	n, err := s.r.Read(p)
	if err == io.EOF {
		s.done = true
	}
	return n, err
}

// CloseWithError implements fasthttp.ReadCloserWithError, which Response.CloseBodyStream calls.
func (s *streamBody) CloseWithError(err error) error {
	s.once.Do(func() {
		s.closed.Store(true)
		idle := s.mu.TryLock()
		discard := err != nil || !idle || !s.done
		if discard {
			_ = s.conn.Close()
		}
		if !idle {
			s.mu.Lock()
		}
		defer s.mu.Unlock()
		s.release(discard)
	})
	return nil
}
