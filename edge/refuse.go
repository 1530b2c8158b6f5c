package edge

import (
	"errors"
	"net"
	"strconv"

	"github.com/valyala/fasthttp"
	"github.com/vergecdn/verge/hooks"
)

// refuseLongURI answers 414 to a request whose path and query string are over CloudFront's
// limit (hooks.URIFits), before any function runs: a function could not pass such a request
// on (its result would fail validation), and nginx and CloudFront refuse one as well.
func refuseLongURI(ctx *fasthttp.RequestCtx) (outcome, bool) {
	u := ctx.Request.URI()
	path, query := len(u.PathOriginal()), len(u.QueryString())
	if hooks.URIFits(path, query) {
		return 0, false
	}
	ctx.Response.SetStatusCode(fasthttp.StatusRequestURITooLong)
	ctx.Response.Header.SetContentType("text/plain; charset=utf-8")
	ctx.Response.SetBodyString("414 URI Too Long: the path and query string are " + strconv.Itoa(path+query) +
		" bytes, the limit is " + strconv.Itoa(hooks.MaxURIBytes-1) + "\n")
	return outBadRequest, true
}

// refuseUnreadable is the viewer server's ErrorHandler: it answers a request fasthttp could
// not read (too large a head for its buffer, a body over max_request_body_size, a timeout, not
// HTTP/1.x) as the handler answers the requests it refuses, with X-Cache, a count in
// verge_http_requests_total and an access log line, so that a rejected request leaves a trace
// besides fasthttp's warning.
func (s *Server) refuseUnreadable(ctx *fasthttp.RequestCtx, err error) {
	status, msg := fasthttp.StatusBadRequest, "400 Bad Request: the request is not valid HTTP/1.1"
	var small *fasthttp.ErrSmallBuffer
	var netErr *net.OpError
	switch {
	case errors.As(err, &small):
		status, msg = fasthttp.StatusRequestHeaderFieldsTooLarge,
			"431 Request Header Fields Too Large: the request line and header fields are over "+strconv.Itoa(viewerReadBuffer>>10)+" KiB"
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		status, msg = fasthttp.StatusRequestEntityTooLarge, "413 Content Too Large: the body is over server.max_request_body_size"
	case errors.As(err, &netErr) && netErr.Timeout():
		status, msg = fasthttp.StatusRequestTimeout, "408 Request Timeout"
	}
	ctx.Response.Reset()
	ctx.Response.SetStatusCode(status)
	ctx.Response.Header.SetContentType("text/plain; charset=utf-8")
	ctx.Response.SetBodyString(msg + "\n")
	ctx.Response.Header.SetBytesV("X-Cache", s.xcache[outBadRequest])
	s.metrics.request(outBadRequest, status, 0)
	if s.access != nil {
		s.logAccess(ctx, "", outBadRequest, 0)
	}
}
