package edge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/vergecdn/verge/cache"
	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/origin"
)

// conditionalHeaders are dropped from a cacheable request on its way to the origin (see
// forwarding.restrict): the cache wants the whole object, not a 304 or a range that only this
// viewer could use.
var conditionalHeaders = []string{"If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range", "Range"}

// fetch handles a miss: origin-request function, origin fetch, origin-response function, cache
// store. It writes the response into ctx and returns the outcome and whether the response was
// stored, or an error for fail.
func (s *Server) fetch(ctx *fasthttp.RequestCtx, p *pipeline, b *behavior, st *reqState, cacheable bool) (outcome, bool, error) {
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	ctx.Request.CopyTo(req)
	revalidating := false
	if cacheable {
		b.fwd.restrict(req, &ctx.Request, st.bypass)
		if ctx.IsHead() {
			req.Header.SetMethod(fasthttp.MethodGet) // fetch and store the whole object
		}
		revalidating = addValidators(req, st.stale)
	}
	out := outMiss
	if !cacheable || st.bypass {
		out = outPass
	}
	viewer := origin.Viewer{IP: s.ips.text(ctx.RemoteIP()), Host: string(ctx.Host()), Proto: "http",
		Interim: interimWriter(ctx)}
	if st.tls {
		viewer.Proto = "https"
	}
	fetcher, originEv := b.origin, b.event
	if st.origin != nil {
		fetcher, originEv = st.origin.fetchers[0], st.origin.event
	}
	var originReq *hooks.Request // the request as origin-facing functions see it
	var resp cache.Response

	bind := b.fns[hooks.OriginRequest]
	if bind != nil || b.fns[hooks.OriginResponse] != nil {
		// Origin-facing functions see the Host the origin will get.
		req.Header.SetHost(fetcher.HostFor(viewer))
		originReq = requestOf(req, viewer.IP)
		originReq.Origin = originEv.Clone()
	}
	generated := false
	if bind != nil {
		ev := s.event(st, hooks.OriginRequest, originReq)
		if bind.includeBody {
			withBody(ev.Request, req, bind.limits.BodyBytes)
		}
		res, err := s.invoke(bind, ev)
		if err != nil {
			return 0, false, &functionError{bind, err}
		}
		if res.Response != nil {
			// Answered at origin-request: cached like an origin response; origin-response skipped.
			generated = true
			out = generatedOutcome(bind.dialect)
			now := s.now()
			resp = cache.Response{Status: res.Response.Status, Headers: cacheHeaders(res.Response.Headers),
				Body: res.Response.Body, RequestTime: now, ResponseTime: now}
		} else {
			applyRequest(req, ev.Request, res.Request)
			if h := res.Request.Headers.Get("Host"); h != ev.Request.Headers.Get("Host") {
				viewer.SetHost = h
			}
			if o := res.Request.Origin; o != nil && !o.SameEndpoint(ev.Request.Origin) {
				sw, err := p.switchOrigin(o)
				if err != nil {
					err = hooks.Errorf(hooks.Validation, "origin-request: %v", err)
					s.reportFailure(bind, ev, err)
					return 0, false, &functionError{bind, err}
				}
				fetcher = sw
			}
			for _, h := range res.Request.Origin.CustomHeaders() {
				req.Header.Add(h.Name, h.Value)
			}
			originReq = res.Request
		}
	}
	var r *fasthttp.Response // the origin's response, its body still to read unless bodyRead
	var began time.Time      // when the fetch began
	bodyRead := true
	if !generated {
		r = fasthttp.AcquireResponse()
		r.StreamBody = true
		defer func() {
			if r != nil { // not handed to the viewer's response (see streamBody)
				r.CloseBodyStream()
				fasthttp.ReleaseResponse(r)
			}
		}()
		if st.origin != nil && bind == nil {
			for _, h := range st.origin.event.CustomHeaders() {
				req.Header.Add(h.Name, h.Value)
			}
		}
		sent := s.now()
		began = time.Now() // the wall's, for ReadBody's bound (s.now is the cache's, which tests move)
		err := fetcher.Fetch(context.Background(), req, r, viewer)
		for i := 0; st.origin != nil && fetcher == st.origin.fetchers[i] && st.origin.failsOver(i, r.StatusCode(), err); i++ {
			// A CloudFront function's origin group fails over; the failed answer's connection
			// goes back to its pool, or away.
			fetcher = st.origin.fetchers[i+1]
			r.CloseBodyStream()
			r.Reset()
			r.StreamBody = true
			err = fetcher.Fetch(context.Background(), req, r, viewer)
		}
		resp.ResponseTime = s.now()
		resp.RequestTime = sent
		s.metrics.originDuration.WithLabelValues(fetcher.ID()).Observe(resp.ResponseTime.Sub(sent).Seconds())
		if err != nil {
			return 0, false, err
		}
		if revalidating && r.StatusCode() == fasthttp.StatusNotModified {
			resp.Status, resp.Headers = r.StatusCode(), responseHeaders(r)
			out, stored := s.refresh(ctx, b, st, req, &resp)
			return out, stored, nil
		}
		if err := (&originStatusError{r.StatusCode()}); err.status >= 500 && s.staleOnError(b, st, err) {
			return 0, false, err
		}
		resp.Status, resp.Headers = r.StatusCode(), responseHeaders(r)
		resp.Headers = appendVia(resp.Headers, s.cfg().Name)
		bodyRead = false
		if bind := b.fns[hooks.OriginResponse]; bind != nil {
			ev := s.event(st, hooks.OriginResponse, originReq)
			ev.Response = &hooks.Response{Status: resp.Status, StatusDescription: fasthttp.StatusMessage(resp.Status),
				Headers: hooksHeaders(resp.Headers)}
			res, err := s.invoke(bind, ev)
			if err != nil {
				return 0, false, &functionError{bind, err}
			}
			resp.Status, resp.Headers = res.Response.Status, cacheHeaders(res.Response.Headers)
			if res.Response.BodySet {
				resp.Body, bodyRead = res.Response.Body, true
			}
		}
	}

	// What is stored without a Date gets the time it arrived (RFC 9110 6.6.1), once the
	// origin-response function, which may have removed it, is done: a hit sends the stored one.
	arrived := resp.ResponseTime
	if arrived.IsZero() { // generated by the origin-request function
		arrived = st.now
	}
	resp.Headers = withDate(resp.Headers, arrived)
	ttl, store := cache.Freshness(string(req.Header.Method()), resp.Status, resp.Headers,
		hasHeaderFold(&req.Header, "Authorization"), resp.ResponseTime, &b.policy)
	if !cacheable || st.bypass && store && !explicitlyPublic(resp.Headers) {
		store = false
	}
	if !bodyRead {
		// Only a body that may be stored, or that a range is cut from, is taken whole, and
		// only up to max_object_size: the rest streams to the viewer as it arrives.
		ranged := cacheable && st.pre.rng != nil && resp.Status == fasthttp.StatusOK
		// passOn streams the body, after head (what was read of it), to the viewer unstored; a
		// range cannot be cut from a body too large to take whole.
		passOn := func(head []byte) (outcome, bool, error) {
			if ranged {
				return 0, false, &origin.Error{Origin: fetcher.ID(), Kind: origin.TooLarge, Err: errTooLargeForRange}
			}
			writeStored(&ctx.Response, resp.Status, resp.Headers, nil)
			s.streamBody(ctx, r, head)
			r = nil
			return out, false, nil
		}
		limit := int64(s.cfg().Cache.MaxObjectSize)
		if !store && !ranged || !bodyless(r) && int64(r.Header.ContentLength()) > limit {
			return passOn(nil)
		}
		var body []byte // a 204 or 304 has none, and no body stream to read it from
		if !bodyless(r) {
			var err error
			if body, err = fetcher.ReadBody(r, limit+1, began); err != nil {
				return 0, false, err // nothing sent yet: a 502 or 504, nothing stored
			}
		}
		if int64(len(body)) > limit { // longer than it said, or it did not say
			return passOn(body)
		}
		resp.Body = body
	}
	obj := cache.NewObject(string(ctx.Request.URI().PathOriginal()), &resp, ttl)
	obj.Host = string(ctx.Request.Host()) // normalised (normalizeHost), for purges of one site
	if store {
		obj.Wire, obj.WireSize = wireHeader(s.undated, obj.Status, obj.Headers)
		st.vkey = cache.Insert(s.store, st.key, &st.view, obj, st.vkey)
	}
	// The viewer gets every header, Set-Cookie included, even when the stored copy has fewer,
	// and the range it asked for, when it did.
	if !cacheable || st.pre.rng == nil || resp.Status != fasthttp.StatusOK || !ifRangeHolds(st.pre.ifRange, obj) ||
		!writeRange(&ctx.Response, st.pre.rng, resp.Headers, obj.Body) {
		writeStored(&ctx.Response, resp.Status, resp.Headers, obj.Body)
	}
	return out, store, nil
}

// errTooLargeForRange: a range miss whose whole object is larger than max_object_size; the
// range alone is asked of the origin instead (see Server.serve).
var errTooLargeForRange = errors.New("the whole object is larger than max_object_size")

// bodyless reports whether the origin's response has no body to read.
func bodyless(r *fasthttp.Response) bool {
	st := r.StatusCode()
	return r.SkipBody || st < 200 || st == fasthttp.StatusNoContent || st == fasthttp.StatusNotModified
}

// explicitlyPublic reports whether a response says public or s-maxage, which lets it be
// shared although its request carried credentials the key leaves out.
func explicitlyPublic(headers []cache.Header) bool {
	cc, _ := cache.Directives(headers)
	return cc.Public || cc.HasSMaxAge
}

// streamBody hands the origin's response body to the viewer's response, prefixed by head
// (what was read of it already): the server sends it as it arrives, in bounded memory, and
// closes it, releasing r, when done. A body that breaks off ends the viewer's connection
// rather than looking complete: with a known length the server cannot send it whole, and a
// chunked one gets no last chunk.
func (s *Server) streamBody(ctx *fasthttp.RequestCtx, r *fasthttp.Response, head []byte) {
	if bodyless(r) {
		r.CloseBodyStream()
		fasthttp.ReleaseResponse(r)
		return
	}
	var body io.Reader = r.BodyStream()
	if len(head) > 0 {
		body = io.MultiReader(bytes.NewReader(head), body)
	}
	ctx.Response.SetBodyStream(&originBody{Reader: body, r: r}, r.Header.ContentLength())
}

// originBody is an origin's response body being streamed to a viewer.
type originBody struct {
	io.Reader
	r *fasthttp.Response
}

// Close gives the origin connection back (or closes it, when the body was not read to its
// end) and releases the response.
func (b *originBody) Close() error {
	err := b.r.CloseBodyStream()
	fasthttp.ReleaseResponse(b.r)
	return err
}

// addValidators makes req, a cacheable request for which the store holds stale, a conditional
// request with stale's validators (RFC 9111 4.3.1), and says whether it did: an object with
// neither ETag nor Last-Modified cannot be validated and is fetched again.
func addValidators(req *fasthttp.Request, stale *cache.Object) bool {
	if stale == nil || stale.Status != fasthttp.StatusOK {
		return false
	}
	etag, lm := stale.Validators()
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	if lm != "" {
		req.Header.Set("If-Modified-Since", lm)
	}
	return etag != "" || lm != ""
}

// refresh completes a revalidation the origin answered with notModified, a 304: the stale
// object's headers are updated by the 304's (RFC 9111 4.3.4), its freshness computed anew,
// and the refreshed object stored (when still storable) and served. The origin-response
// function, which ran when the object was fetched, does not run on a 304.
func (s *Server) refresh(ctx *fasthttp.RequestCtx, b *behavior, st *reqState, req *fasthttp.Request, notModified *cache.Response) (outcome, bool) {
	stale := st.stale
	headers := cache.UpdateHeaders(stale.Headers, notModified.Headers)
	ttl, store := cache.Freshness(fasthttp.MethodGet, stale.Status, headers,
		hasHeaderFold(&req.Header, "Authorization"), notModified.ResponseTime, &b.policy)
	obj := cache.NewObject(stale.Path, &cache.Response{Status: stale.Status, Headers: headers,
		RequestTime: notModified.RequestTime, ResponseTime: notModified.ResponseTime}, ttl)
	obj.Body = stale.Body // immutable, shared with the stale object
	obj.Host = stale.Host
	if len(obj.Tags) == 0 { // the 304 named none; the stored fields that did are not kept
		obj.Tags = stale.Tags
	}
	if store {
		obj.Wire, obj.WireSize = wireHeader(s.undated, obj.Status, obj.Headers)
		st.vkey = cache.Insert(s.store, st.key, &st.view, obj, st.vkey)
	}
	s.writeHit(ctx, st, obj)
	return outRefreshHit, store
}

// switchOrigin returns the origin a function's origin-request result points at.
func (p *pipeline) switchOrigin(o *hooks.Origin) (*origin.Origin, error) {
	if c := o.Custom; c != nil {
		return p.adhoc.Get(c.Protocol, c.DomainName, c.Port, c.Path)
	}
	return p.adhoc.Get("https", o.S3.DomainName, 443, o.S3.Path)
}

// appendVia records this node in the response's Via (RFC 9110 7.6.3), as CloudFront does.
func appendVia(hs []cache.Header, name string) []cache.Header {
	for i := range hs {
		if hs[i].Name == "Via" || hs[i].Name == "via" {
			hs[i].Value += ", 1.1 " + name
			return hs
		}
	}
	return append(hs, cache.Header{Name: "Via", Value: "1.1 " + name})
}

// functionError is a function failure on the miss path, carried to fail with its binding.
type functionError struct {
	bind *binding
	err  error
}

func (e *functionError) Error() string {
	return fmt.Sprintf("function %s: %v", e.bind.name, e.err)
}

func (e *functionError) Unwrap() error { return e.err }
