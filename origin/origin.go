// Package origin holds the clients the edge uses to fetch from origins: one
// pooled keep-alive fasthttp.HostClient per origin, the request rewriting a
// CDN does when forwarding (base path, Host, X-Forwarded-For, Via,
// hop-by-hop headers), timeouts, and errors that carry the viewer's status.
package origin

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Fetcher is what the pipeline needs from an origin.
type Fetcher interface {
	// Fetch sends req to the origin and fills resp. req.RequestURI() holds
	// the viewer-side path and query; Fetch prefixes the base path. The
	// caller owns req and resp: Fetch does not modify req and retains
	// neither after returning. A non-nil error is an *Error and resp is
	// then reset.
	Fetch(ctx context.Context, req *fasthttp.Request, resp *fasthttp.Response, viewer Viewer) error
}

// Viewer is what a CDN adds about the client when forwarding.
type Viewer struct {
	IP   string // client IP, appended to X-Forwarded-For; "" adds nothing
	Host string // viewer's Host, sent instead of HostHeader when ForwardHost
	// SetHost is a Host chosen by an origin-request function (Lambda@Edge lets it rewrite
	// Host); when set, it wins over HostHeader and ForwardHost.
	SetHost string
	// Proto is the viewer's scheme, "http" or "https", sent as
	// X-Forwarded-Proto (the de facto header origins and frameworks read;
	// CloudFront's CloudFront-Forwarded-Proto is not sent). It replaces any
	// X-Forwarded-Proto the viewer sent; "" sends none.
	Proto string

	// ProtoMajor and ProtoMinor are the viewer's HTTP version, for Via
	// ("1.1 verge", "2 verge"). Zero means 1.1.
	ProtoMajor, ProtoMinor int

	// Interim, when set, gets the origin's interim (1xx) responses as they arrive, to pass
	// them on to the viewer. Only a fetch the viewer waits for sets it: Fetch calls it on the
	// caller's goroutine, never once it has returned, so a fetch it runs on a goroutine of its
	// own (a buffered one whose context can end it early, see doAsync) drops them.
	Interim Interim
}

var _ Fetcher = (*Origin)(nil)

// Origin is a client for one origin. It is safe for concurrent use.
// Every read from the origin must come within ReadTimeout of the request or
// the read before it. A buffered fetch never takes longer than
// ConnectTimeout+ReadTimeout, nor past the context's deadline, give or take
// scheduling; a streamed one (Response.StreamBody) lasts as long as its body
// keeps coming, or until the context's deadline if it has one, unless its
// body is read with ReadBody, which bounds it as a buffered fetch.
type Origin struct {
	cfg    Config // with defaults applied
	ep     endpoint
	hc     *fasthttp.HostClient
	dialer net.Dialer
	tlsCfg *tls.Config // nil for http
	closed atomic.Bool
}

// New validates cfg, applies its defaults and returns an Origin. It does
// not connect. Errors are prefixed "origin: ".
func New(cfg Config) (*Origin, error) {
	cfg = cfg.withDefaults()
	ep, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	if cfg.ID == "" {
		cfg.ID = ep.host
	}
	if cfg.HostHeader == "" {
		cfg.HostHeader = ep.host
	}
	o := &Origin{cfg: cfg, ep: ep}
	if ep.tls {
		o.tlsCfg = &tls.Config{
			ServerName:         ep.serverName,
			InsecureSkipVerify: cfg.TLSInsecureSkipVerify, //nolint:gosec // opt-in, for tests
			RootCAs:            cfg.RootCAs,
			NextProtos:         []string{"http/1.1"},
			ClientSessionCache: tls.NewLRUClientSessionCache(0),
			MinVersion:         tls.VersionTLS12,
		}
	}
	o.hc = &fasthttp.HostClient{
		Addr:                ep.addr,
		IsTLS:               ep.tls,
		DialTimeout:         o.dial, // also does the TLS handshake
		Transport:           transport{},
		MaxConns:            cfg.MaxConns,
		MaxConnWaitTimeout:  cfg.ConnectTimeout,
		MaxIdleConnDuration: cfg.KeepaliveTimeout,
		// No ReadTimeout: fasthttp's is one deadline for the whole response, which would cut
		// a long stream off; pacedConn applies cfg.ReadTimeout to each read instead.
		MaxResponseBodySize: cfg.MaxResponseBytes,
		ReadBufferSize:      readBufferSize,
		// One retry, only for an idempotent request that met a keep-alive
		// connection the origin had just closed.
		MaxIdemponentCallAttempts:     2,
		RetryIfErr:                    retryStale,
		NoDefaultUserAgentHeader:      true,
		DisableHeaderNamesNormalizing: true, // keep the origin's header case
		DisablePathNormalizing:        true, // forward the path byte for byte
	}
	return o, nil
}

// ID returns the origin's ID (Config.ID, or its default).
func (o *Origin) ID() string { return o.cfg.ID }

// Config returns the configuration in effect, defaults applied.
func (o *Origin) Config() Config { return o.cfg }

// Stats is a snapshot of an origin's connection pool.
type Stats struct {
	Conns   int // open connections, busy or idle
	Idle    int // idle keep-alive connections
	Pending int // fetches in progress
}

// Stats returns the pool's current counts. It is cheap (two short locks).
func (o *Origin) Stats() Stats {
	return Stats{Conns: o.hc.ConnsCount(), Idle: o.hc.IdleConnsCount(), Pending: o.hc.PendingRequests()}
}

// Close closes the idle connections and stops keeping any alive: fetches
// in flight finish, and their connections are closed when they end. The
// Origin stays usable (a Set may hand it out just before evicting it), but
// without keep-alive.
func (o *Origin) Close() {
	o.closed.Store(true)
	o.hc.CloseIdleConnections()
}

// Fetch implements Fetcher. The response is buffered (at most
// MaxResponseBytes); redirects are returned, not followed. Cancellation of
// ctx returns at once with Kind Canceled; the abandoned exchange goes on in
// the background on Fetch's own copies until its deadline at most. A
// request with a body stream is the exception: Fetch waits for it, since
// the stream belongs to the caller, and only ctx's deadline bounds it.
//
// With resp.StreamBody set, Fetch returns once the response header has
// arrived and the body is read from resp.BodyStream, whatever its size
// (MaxResponseBytes does not apply) and however long it takes, each read
// within ReadTimeout (and before ctx's deadline, if it has one); the caller
// must then call resp.CloseBodyStream, which gives the connection back
// (or closes it, when the body was not read to its end). BodyError
// classifies an error reading the stream. ctx's cancellation is not
// watched then, only its deadline.
func (o *Origin) Fetch(ctx context.Context, req *fasthttp.Request, resp *fasthttp.Response, viewer Viewer) error {
	if err := ctx.Err(); err != nil {
		return o.classify(ctx, err)
	}
	out := fasthttp.AcquireRequest()
	if err := o.prepare(req, out, viewer); err != nil {
		fasthttp.ReleaseRequest(out)
		return err
	}
	deadline := time.Now().Add(o.cfg.ConnectTimeout + o.cfg.ReadTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}

	// fasthttp reports "text/plain; charset=utf-8" as the Content-Type of a response that
	// has none; a proxy must pass on the origin's absence of one, not invent a type.
	resp.Header.SetNoDefaultContentType(true)
	var err error
	stream := resp.StreamBody
	ctxDeadline, bounded := ctx.Deadline()
	async := !stream && ctx.Done() != nil && !out.IsBodyStream() // see doAsync
	if viewer.Interim != nil && !async {
		x := &exchange{interim: viewer.Interim, deadline: deadline}
		if stream {
			x.deadline = ctxDeadline // zero when unbounded
		}
		out.SetUserValue(exchangeKey{}, x)
	}
	switch {
	case stream && !bounded:
		// Bounded by the read timeout per read (pacedConn), not as a whole.
		err = o.hc.Do(out, resp)
		fasthttp.ReleaseRequest(out)
	case stream:
		err = o.hc.DoDeadline(out, resp, ctxDeadline) // and per read
		fasthttp.ReleaseRequest(out)
	case !async:
		err = o.hc.DoDeadline(out, resp, deadline)
		fasthttp.ReleaseRequest(out)
	default:
		err = o.doAsync(ctx, out, resp, deadline)
	}
	if o.closed.Load() {
		o.hc.CloseIdleConnections()
	}
	if err != nil {
		resp.Reset()
		return o.classify(ctx, err)
	}
	StripHopByHopResponse(&resp.Header)
	if st := resp.StatusCode(); st >= 200 && st != fasthttp.StatusNoContent && !stream &&
		st != fasthttp.StatusNotModified && !req.Header.IsHead() && !resp.SkipBody {
		// The body is buffered: frame it by length, whatever the origin used.
		resp.Header.SetContentLength(len(resp.Body()))
	}
	return nil
}

// ReadBody reads the rest of a streamed response body whole, at most max bytes (the caller
// sees a longer one by its length), by ConnectTimeout+ReadTimeout after started (when the
// fetch began), as a buffered fetch is bounded: a body taken whole, to be stored, must arrive
// in that time however it trickles, or it would hold its fetch and every request collapsed
// on it. Past that the stream is closed and the error is a Timeout.
func (o *Origin) ReadBody(resp *fasthttp.Response, max int64, started time.Time) ([]byte, error) {
	bs := resp.BodyStream()
	closer, ok := bs.(interface{ CloseWithError(error) error })
	var expired atomic.Bool
	if ok {
		t := time.AfterFunc(time.Until(started.Add(o.cfg.ConnectTimeout+o.cfg.ReadTimeout)), func() {
			expired.Store(true)
			_ = closer.CloseWithError(errBodyTimeout)
		})
		defer t.Stop()
	}
	body, err := io.ReadAll(io.LimitReader(bs, max))
	if err != nil {
		if expired.Load() {
			return nil, &Error{Origin: o.cfg.ID, Kind: Timeout, Err: errBodyTimeout}
		}
		return nil, o.BodyError(err)
	}
	return body, nil
}

// errBodyTimeout is the cause of a body ReadBody cut off.
var errBodyTimeout = errors.New("the body did not arrive within the connect and read timeouts")

// BodyError classifies an error met reading a streamed response body (see Fetch).
func (o *Origin) BodyError(err error) error {
	return o.classify(context.Background(), err)
}

// doAsync runs the exchange on a goroutine so that ctx can cut it short.
// It takes ownership of out. The goroutine uses its own Response, moved
// into resp only on success, so nothing of the caller's is touched after
// doAsync returns.
func (o *Origin) doAsync(ctx context.Context, out *fasthttp.Request, resp *fasthttp.Response, deadline time.Time) error {
	in := fasthttp.AcquireResponse()
	in.SkipBody = resp.SkipBody
	in.Header.SetNoDefaultContentType(true)
	done := make(chan error, 1)
	go func() { done <- o.hc.DoDeadline(out, in, deadline) }()

	select {
	case err := <-done:
		fasthttp.ReleaseRequest(out)
		if err == nil {
			in.Header.CopyTo(&resp.Header)
			// Move the body without copying it: resp takes in's buffer and
			// in takes resp's old one back to the pool.
			in.SwapBody(resp.SwapBody(in.SwapBody(nil)))
		}
		fasthttp.ReleaseResponse(in)
		return err
	case <-ctx.Done():
		go func() {
			<-done
			fasthttp.ReleaseRequest(out)
			fasthttp.ReleaseResponse(in)
		}()
		return ctx.Err()
	}
}

// prepare fills out, the request sent to the origin, from in, the viewer's
// request, which it only reads.
func (o *Origin) prepare(in, out *fasthttp.Request, v Viewer) error {
	in.CopyTo(out)
	if in.IsBodyStream() {
		out.SetBodyStream(in.BodyStream(), in.Header.ContentLength())
	}
	StripHopByHopRequest(&out.Header)

	via := takeHeader(&out.Header, "Via")
	if viaNames(via, o.cfg.ViaName) {
		return &Error{Origin: o.cfg.ID, Kind: Loop, Err: errLoop}
	}
	out.Header.SetBytesV("Via", appendListItem(via, viaProtocol(v)+" "+o.cfg.ViaName))
	if v.IP != "" {
		xff := takeHeader(&out.Header, "X-Forwarded-For")
		out.Header.SetBytesV("X-Forwarded-For", appendListItem(xff, v.IP))
	}
	if v.Proto != "" {
		takeHeader(&out.Header, "X-Forwarded-Proto")
		out.Header.Set("X-Forwarded-Proto", v.Proto)
	}

	target := out.RequestURI()
	if len(target) == 0 || target[0] != '/' { // absolute-form or "*"
		target = out.URI().RequestURI()
	}
	path := make([]byte, 0, len(o.ep.basePath)+len(target))
	path = append(append(path, o.ep.basePath...), target...)
	out.SetRequestURIBytes(path)
	// fasthttp parses the URI from the Host header and the target. Parse it
	// with our own host, never the viewer's (a Host with user info would
	// turn into an Authorization header), then set the scheme, which the
	// HostClient checks against its own.
	out.Header.SetHost(o.ep.host)
	out.URI().SetScheme(o.ep.scheme)

	host := o.HostFor(v)
	out.Header.SetHost(host)
	out.UseHostHeader = true // send the header as set, not the URI's host
	return nil
}

// HostFor returns the Host header a fetch for viewer v sends.
func (o *Origin) HostFor(v Viewer) string {
	switch {
	case v.SetHost != "":
		return v.SetHost
	case o.cfg.ForwardHost && v.Host != "":
		return v.Host
	}
	return o.cfg.HostHeader
}

// dial connects to addr within ConnectTimeout (or timeout, the fetch's
// remaining time, if shorter) and, for https, completes the TLS handshake
// within the same bound.
func (o *Origin) dial(addr string, timeout time.Duration) (net.Conn, error) {
	limit, short := o.cfg.ConnectTimeout, false
	if timeout > 0 && timeout < limit {
		limit, short = timeout, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	tcp, err := o.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &dialError{err: err, short: short}
	}
	conn := newIdleCheckConn(tcp)
	paced := &pacedConn{Conn: conn, idle: o.cfg.ReadTimeout}
	if o.tlsCfg == nil {
		conn.armed = true
		return paced, nil
	}
	tc := tls.Client(paced, o.tlsCfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = tcp.Close()
		return nil, &dialError{err: err, short: short}
	}
	conn.armed, conn.read = true, false
	return tc, nil
}

// retryStale is the HostClient's retry policy (see isStaleConn).
func retryStale(req *fasthttp.Request, _ int, err error) (resetTimeout, retry bool) {
	// errIdleBytes: found before a byte of the request was sent, so safe for any method.
	return false, errors.Is(err, errIdleBytes) || isStaleConn(err) && isIdempotent(&req.Header)
}

// isIdempotent reports whether the method is idempotent (RFC 9110 9.2.2).
func isIdempotent(h *fasthttp.RequestHeader) bool {
	return h.IsGet() || h.IsHead() || h.IsOptions() || h.IsTrace() || h.IsPut() || h.IsDelete()
}

// viaProtocol is the received-protocol of our Via entry: "1.1", "2", ….
func viaProtocol(v Viewer) string {
	switch {
	case v.ProtoMajor == 0 || v.ProtoMajor == 1 && v.ProtoMinor == 1:
		return "1.1"
	case v.ProtoMajor == 1 && v.ProtoMinor == 0:
		return "1.0"
	case v.ProtoMinor == 0:
		return strconv.Itoa(v.ProtoMajor)
	default:
		return strconv.Itoa(v.ProtoMajor) + "." + strconv.Itoa(v.ProtoMinor)
	}
}
