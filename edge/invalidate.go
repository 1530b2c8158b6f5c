package edge

import (
	"bytes"
	"net/url"

	"github.com/valyala/fasthttp"
)

// invalidate removes what the cache holds for the URI of a request with an unsafe method
// (POST, PUT, DELETE, PATCH, any unknown one) that the origin answered with a non-error
// status, and for the URIs of the same site its response names in Location and
// Content-Location (RFC 9111 4.4): the next request for them goes to the origin, so a change
// is seen at once. Each URI's key is built as a GET from this viewer would build it (under
// the behavior its path matches), so with a cache policy keyed on headers or cookies only
// this viewer's variant goes; with Vary, its marker goes, and so every variant.
func (s *Server) invalidate(ctx *fasthttp.RequestCtx, p *pipeline, b *behavior, st *reqState) {
	h := &ctx.Request.Header
	if h.IsGet() || h.IsHead() || h.IsOptions() || h.IsTrace() {
		return // safe methods (RFC 9110 9.2.1)
	}
	if code := ctx.Response.StatusCode(); code < 200 || code >= 400 {
		return
	}
	originID := b.originID
	if st.origin != nil { // a CloudFront function sent this request to another origin
		originID = st.origin.key
	}
	s.store.Delete(appendKey(nil, originID, b, &viewerRequest{r: &ctx.Request}, ctx.IsTLS()))
	scheme := "http"
	if ctx.IsTLS() {
		scheme = "https"
	}
	base := &url.URL{Scheme: scheme, Host: string(ctx.Request.Host()), Path: string(ctx.Request.URI().PathOriginal())}
	for name, value := range ctx.Response.Header.All() {
		if !equalFoldAny(name, "Location", "Content-Location") {
			continue
		}
		ref, err := url.Parse(string(value))
		if err != nil {
			continue
		}
		target := base.ResolveReference(ref)
		var r fasthttp.Request
		ctx.Request.CopyTo(&r) // this viewer's headers and cookies, for the key
		r.SetRequestURI(target.RequestURI())
		r.URI().SetHost(target.Host)
		r.Header.SetHost(target.Host)
		normalizeHost(&r, ctx.IsTLS())
		if target.Scheme != base.Scheme || !bytes.Equal(r.Host(), ctx.Request.Host()) {
			continue // another origin's URI (RFC 9111 4.4: same origin only)
		}
		tb := p.match(r.Host(), r.URI().PathOriginal())
		s.store.Delete(appendKey(nil, tb.originID, tb, &viewerRequest{r: &r}, ctx.IsTLS()))
	}
}
