package demo

import (
	"context"
	"strings"

	"github.com/vergecdn/verge/hooks"
)

// RegisterFunctions adds the example Go functions to reg:
//   - security-headers (viewer-response): the headers a site should send;
//   - redirect-old (viewer-request): answers /old/* with a 301 to /*.
func RegisterFunctions(reg *hooks.GoRegistry) error {
	if err := reg.Register("security-headers", hooks.GoFunc(securityHeaders)); err != nil {
		return err
	}
	return reg.Register("redirect-old", hooks.GoFunc(redirectOld))
}

var securityHeaderSet = []hooks.Header{
	{Name: "Strict-Transport-Security", Value: "max-age=63072000; includeSubDomains; preload"},
	{Name: "X-Content-Type-Options", Value: "nosniff"},
	{Name: "X-Frame-Options", Value: "DENY"},
	{Name: "Referrer-Policy", Value: "same-origin"},
	{Name: "Content-Security-Policy", Value: "default-src 'self'; img-src 'self'; style-src 'self'"},
}

func securityHeaders(_ context.Context, ev *hooks.Event) (hooks.Result, error) {
	r := ev.Response.Clone()
	for _, h := range securityHeaderSet {
		r.Headers.Set(h.Name, h.Value)
	}
	return hooks.Result{Response: r}, nil
}

func redirectOld(_ context.Context, ev *hooks.Event) (hooks.Result, error) {
	req := ev.Request
	rest, ok := strings.CutPrefix(req.URI, "/old/")
	if !ok {
		return hooks.Result{Request: req.Clone()}, nil
	}
	loc := "/" + rest
	if req.QueryString != "" {
		loc += "?" + req.QueryString
	}
	return hooks.Result{Response: &hooks.Response{
		Status:            301,
		StatusDescription: "Moved Permanently",
		Headers:           hooks.Headers{{Name: "Location", Value: loc}, {Name: "Cache-Control", Value: "max-age=3600"}},
	}}, nil
}
