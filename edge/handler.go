package edge

import (
	"fmt"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/vergecdn/verge/cache"
	"github.com/vergecdn/verge/hooks"
)

// reqState is the per-request scratch space of the hot path, pooled so that a cache hit
// allocates nothing.
type reqState struct {
	view viewerRequest
	key  []byte // primary cache key
	vkey []byte // secondary (Vary) key scratch
	num  []byte // scratch for formatting numbers
	now  time.Time
	// tls: the viewer came over HTTPS. Set by handle from the connection; a background
	// revalidation, whose RequestCtx has no connection, carries the viewer's.
	tls bool
	id  string        // request id, made when a function first needs it
	pre preconditions // the request's Range and conditional headers, views into it
	// origin is a CloudFront function's viewer-request origin choice; nil: the behavior's.
	origin *chosenOrigin
	// bypass: the request carries what its behavior forwards beyond the key, so only an
	// object stored as public may answer it, and only a public answer is stored.
	bypass bool
	// stale is the stored object for the key when it is no longer fresh: a fetch revalidates
	// it (RFC 9111 4.3.1) instead of downloading it again.
	stale *cache.Object
	// vr is the viewer-response event, reused: a function must not retain its event, and
	// viewer-response is the last stage, so nothing refers to it once the request is done.
	vr struct {
		ev   hooks.Event
		req  hooks.Request
		resp hooks.Response
	}
}

// reset drops what st refers to, keeping the capacity of its buffers.
func (st *reqState) reset() {
	st.view.r = nil
	st.id = ""
	st.tls = false
	st.pre = preconditions{}
	st.origin = nil
	st.bypass = false
	st.stale = nil
	clear(st.vr.req.Headers)
	clear(st.vr.resp.Headers)
	st.vr.ev = hooks.Event{}
	st.vr.req = hooks.Request{Headers: st.vr.req.Headers[:0]}
	st.vr.resp = hooks.Response{Headers: st.vr.resp.Headers[:0]}
}

var statePool = sync.Pool{New: func() any {
	return &reqState{key: make([]byte, 0, 256), vkey: make([]byte, 0, 256), num: make([]byte, 0, 20)}
}}

// handle is the viewer-facing fasthttp handler: the request flow of docs/architecture.md.
func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	st := statePool.Get().(*reqState)
	st.view.r = &ctx.Request
	st.now = s.requestTime(ctx)
	st.tls = ctx.IsTLS()
	p := s.pipe.Load()
	normalizeHost(&ctx.Request, st.tls)
	b := p.match(ctx.Request.Host(), ctx.Path())
	defer s.recoverPanic(ctx)
	out := s.serve(ctx, p, b, st)
	ctx.Response.Header.SetBytesV("X-Cache", s.xcache[out])
	if st.id != "" {
		// The id a function saw as requestId, and `verge fn logs` shows: CloudFront's header.
		ctx.Response.Header.Set("X-Amz-Cf-Id", st.id)
	}
	elapsed := s.since(st.now)
	s.metrics.request(out, ctx.Response.StatusCode(), elapsed.Seconds())
	if s.access != nil {
		s.logAccess(ctx, b.id, out, elapsed)
	}
	st.reset()
	statePool.Put(st)
}

// requestTime is when the request arrived: fasthttp's reading of the clock, unless a test
// clock is in use. Clock reads were 4-5% of a hit's CPU on the bench VM (a profile of
// bench/run.sh 1k), so a hit reads it once, for the duration metric (since), not three times.
func (s *Server) requestTime(ctx *fasthttp.RequestCtx) time.Time {
	if s.realClock {
		return ctx.Time()
	}
	return s.now()
}

// since is the time elapsed since t, from the monotonic clock alone when the clock is real.
func (s *Server) since(t time.Time) time.Duration {
	if s.realClock {
		return time.Since(t)
	}
	return s.now().Sub(t)
}

// recoverPanic turns a panic while serving (a bug of ours or of a Go function called outside
// invoke) into a 500 for this viewer, so that one request cannot take the node down.
func (s *Server) recoverPanic(ctx *fasthttp.RequestCtx) {
	if r := recover(); r != nil {
		s.log.Error("panic while serving", "uri", string(ctx.RequestURI()), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		ctx.Response.Reset()
		ctx.Response.SetStatusCode(fasthttp.StatusInternalServerError)
		ctx.Response.Header.Set("X-Cache", "Error from "+s.cfg().Name)
		ctx.Response.SetBodyString("500 Internal Server Error\n")
	}
}

// serve runs the pipeline for one request and says how it was answered.
func (s *Server) serve(ctx *fasthttp.RequestCtx, p *pipeline, b *behavior, st *reqState) outcome {
	if out, done := s.refusePlainHTTP(ctx, b, st.tls); done {
		return out
	}
	if out, done := refuseLongURI(ctx); done {
		return out
	}
	if bind := b.fns[hooks.ViewerRequest]; bind != nil {
		ev := s.event(st, hooks.ViewerRequest, requestOf(&ctx.Request, s.ips.text(ctx.RemoteIP())))
		if bind.includeBody {
			withBody(ev.Request, &ctx.Request, bind.limits.BodyBytes)
		}
		res, err := s.invoke(bind, ev)
		if err != nil {
			return s.failFunction(ctx, bind, err)
		}
		if res.Response != nil {
			// A viewer-request answer goes straight back: not cached, no viewer-response.
			writeGenerated(&ctx.Response, res.Response)
			return generatedOutcome(bind.dialect)
		}
		applyRequest(&ctx.Request, ev.Request, res.Request)
		if c := res.Request.OriginChoice; c != nil && bind.dialect == hooks.CloudFrontFunctions {
			if st.origin, err = p.chooseOrigin(b, c); err != nil {
				err = hooks.Errorf(hooks.Validation, "viewer-request: %v", err)
				s.reportFailure(bind, ev, err)
				return s.failFunction(ctx, bind, err)
			}
		}
	}

	// A range request is answered from the whole object, fetched (once) on a miss; the range
	// of an object larger than max_object_size passes through (see the error path below).
	st.pre = preconditionsOf(&ctx.Request.Header)
	cacheable := ctx.IsGet() || ctx.IsHead()
	if cacheable {
		originID := b.originID
		if st.origin != nil { // a CloudFront function chose another origin
			originID = st.origin.key
		}
		st.key = appendKey(st.key[:0], originID, b, &st.view, st.tls)
		st.bypass = b.fwd.extraAny && b.fwd.bypasses(&ctx.Request, &st.pre)
		if s.serveStored(ctx, st) {
			if st.stale != nil {
				s.revalidateLater(ctx, p, b, st)
			}
			return s.viewerResponse(ctx, b, st, hitOutcome(st))
		}
	}
	out, err := s.miss(ctx, p, b, st, cacheable)
	if err != nil && cacheable && st.pre.rng != nil && tooLarge(err) {
		out, err = s.miss(ctx, p, b, st, false) // the range alone, from the origin
	}
	if err != nil {
		if s.serveStaleOnError(ctx, b, st, err) {
			return s.viewerResponse(ctx, b, st, outStale)
		}
		return s.fail(ctx, err)
	}
	if !cacheable {
		s.invalidate(ctx, p, b, st)
	}
	return s.viewerResponse(ctx, b, st, out)
}

// appendKey appends the cache key of request v under behavior b, served by origin originID,
// to dst. The origin is part of the key: two behaviors with different origins never share an object, even when a
// viewer-request function rewrites one's paths into the other's. So is the viewer's scheme,
// which the origin gets as X-Forwarded-Proto and may reflect (a redirect to https must not
// answer https viewers). Then come the parts b's cache policy selects.
func appendKey(dst, originID []byte, b *behavior, v *viewerRequest, tls bool) []byte {
	scheme := byte('h')
	if tls {
		scheme = 's'
	}
	dst = append(append(dst, originID...), 0, scheme)
	return b.policy.AppendKey(dst, v)
}

// serveStored writes the fresh stored object for the request's key, if there is one (and,
// for a request that bypasses the cache, if it was stored as public), or a stale one its
// stale-while-revalidate allows (then st.stale is set: see hitOutcome).
func (s *Server) serveStored(ctx *fasthttp.RequestCtx, st *reqState) bool {
	obj, buf, ok := cache.Lookup(s.store, st.key, &st.view, st.vkey)
	st.vkey = buf
	if !ok || st.bypass && !obj.Public {
		return false
	}
	if !obj.Fresh(st.now) {
		// Kept for revalidation, served now only within its stale-while-revalidate window.
		st.stale = obj
		if !obj.ServableStale(st.now, obj.StaleWhileRevalidate) {
			return false
		}
	}
	s.writeHit(ctx, st, obj)
	return true
}

// hitOutcome is the outcome of an answer serveStored gave: a stale one if it was stale.
func hitOutcome(st *reqState) outcome {
	if st.stale != nil {
		return outStale
	}
	return outHit
}

// writeHit answers the request with obj: a 304 when the viewer's conditional headers match it
// (RFC 9110 13.2.2), else the range it asks for (RFC 9110 14.2), else the object, with its Age.
func (s *Server) writeHit(ctx *fasthttp.RequestCtx, st *reqState, obj *cache.Object) {
	switch {
	case obj.Status == fasthttp.StatusOK && notModified(st.pre, obj):
		writeNotModified(&ctx.Response, obj)
	case st.pre.rng != nil && obj.Status == fasthttp.StatusOK && ifRangeHolds(st.pre.ifRange, obj) &&
		writeRange(&ctx.Response, st.pre.rng, obj.Headers, obj.Body):
	default:
		writeObject(&ctx.Response, obj)
	}
	ctx.Response.Header.SetBytesV("Age", strconv.AppendInt(st.num[:0], int64(obj.Age(st.now)/time.Second), 10))
}

// viewerResponse runs the viewer-response function on the response in ctx, unless CloudFront's
// skip rules apply (an error status from the origin, or a generated error).
func (s *Server) viewerResponse(ctx *fasthttp.RequestCtx, b *behavior, st *reqState, out outcome) outcome {
	bind := b.fns[hooks.ViewerResponse]
	if bind == nil || ctx.Response.StatusCode() >= 400 {
		return out
	}
	ev := s.eventInto(&st.vr.ev, st, hooks.ViewerResponse, requestInto(&st.vr.req, &ctx.Request, s.ips.text(ctx.RemoteIP())))
	ev.Response = viewerResponseInto(&st.vr.resp, &ctx.Response)
	res, err := s.invoke(bind, ev)
	if err != nil {
		return s.failFunction(ctx, bind, err)
	}
	applyResponse(&ctx.Response, ev.Response, res.Response)
	return out
}
