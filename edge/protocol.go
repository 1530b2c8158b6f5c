package edge

import (
	"net"

	"github.com/valyala/fasthttp"
)

// viewerProtocol is a behavior's viewer protocol policy (CloudFront's).
type viewerProtocol uint8

const (
	allowAll viewerProtocol = iota
	redirectToHTTPS
	httpsOnly
)

// parseViewerProtocol reads a validated BehaviorConfig.ViewerProtocolPolicy.
func parseViewerProtocol(s string) viewerProtocol {
	switch s {
	case policyRedirectToHTTPS:
		return redirectToHTTPS
	case policyHTTPSOnly:
		return httpsOnly
	}
	return allowAll
}

// refusePlainHTTP answers a plain-HTTP request that b's policy does not serve: a 301 to the
// same URL over HTTPS, or a 403. As at CloudFront, no function runs and nothing reaches the
// cache or the origin. It reports false when the request may go on.
func (s *Server) refusePlainHTTP(ctx *fasthttp.RequestCtx, b *behavior, tls bool) (outcome, bool) {
	if b.protocol == allowAll || tls {
		return 0, false
	}
	if b.protocol == httpsOnly {
		ctx.Response.SetStatusCode(fasthttp.StatusForbidden)
		ctx.Response.Header.SetContentType("text/plain; charset=utf-8")
		ctx.Response.SetBodyString("403 Forbidden: this resource is served over HTTPS only\n")
		return outBadRequest, true
	}
	host := string(ctx.Host())
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if s.tlsPort != "443" {
		host = net.JoinHostPort(host, s.tlsPort)
	}
	ctx.Response.SetStatusCode(fasthttp.StatusMovedPermanently)
	ctx.Response.Header.Set("Location", "https://"+host+string(ctx.RequestURI()))
	return outRedirect, true
}
