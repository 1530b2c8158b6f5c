package edge

import (
	"context"
	"fmt"

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
	viewer := origin.Viewer{IP: s.ips.text(ctx.RemoteIP()), Host: string(ctx.Host()), Proto: "http"}
	if ctx.IsTLS() {
		viewer.Proto = "https"
	}
	fetcher := b.origin
	var originReq *hooks.Request // the request as origin-facing functions see it
	var resp cache.Response

	bind := b.fns[hooks.OriginRequest]
	if bind != nil || b.fns[hooks.OriginResponse] != nil {
		// Origin-facing functions see the Host the origin will get.
		req.Header.SetHost(fetcher.HostFor(viewer))
		originReq = requestOf(req, viewer.IP)
		originReq.Origin = b.event.Clone()
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
					return 0, false, &functionError{bind, hooks.Errorf(hooks.Validation, "origin-request: %v", err)}
				}
				fetcher = sw
			}
			for _, h := range res.Request.Origin.CustomHeaders() {
				req.Header.Add(h.Name, h.Value)
			}
			originReq = res.Request
		}
	}
	if !generated {
		r := fasthttp.AcquireResponse()
		defer fasthttp.ReleaseResponse(r)
		sent := s.now()
		err := fetcher.Fetch(context.Background(), req, r, viewer)
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
		resp.Status, resp.Headers, resp.Body = r.StatusCode(), responseHeaders(r), r.Body()
		resp.Headers = appendVia(resp.Headers, s.cfg().Name)
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
				resp.Body = res.Response.Body
			}
		}
	}

	ttl, store := cache.Freshness(string(req.Header.Method()), resp.Status, resp.Headers,
		hasHeaderFold(&req.Header, "Authorization"), resp.ResponseTime, &b.policy)
	obj := cache.NewObject(string(ctx.Request.URI().PathOriginal()), &resp, ttl)
	stored := cacheable && store && (!st.bypass || obj.Public)
	if stored {
		obj.Wire, obj.WireSize = wireHeader(obj.Status, obj.Headers)
		st.vkey = cache.Insert(s.store, st.key, &st.view, obj, st.vkey)
	}
	// The viewer gets every header, Set-Cookie included, even when the stored copy has fewer,
	// and the range it asked for, when it did.
	if !cacheable || st.pre.rng == nil || resp.Status != fasthttp.StatusOK || !ifRangeHolds(st.pre.ifRange, obj) ||
		!writeRange(&ctx.Response, st.pre.rng, resp.Headers, obj.Body) {
		writeStored(&ctx.Response, resp.Status, resp.Headers, obj.Body)
	}
	return out, stored, nil
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
	if store {
		obj.Wire, obj.WireSize = wireHeader(obj.Status, obj.Headers)
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
