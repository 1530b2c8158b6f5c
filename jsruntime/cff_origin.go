package jsruntime

import (
	"fmt"
	"strings"

	"github.com/dop251/goja"
	"github.com/vergecdn/verge/hooks"
)

// originUpdateKeys are cf.updateRequestOrigin's parameters. Those Verge does not apply
// (timeouts, retries, Origin Shield, origin access control, TLS versions) are accepted, so
// that code written for CloudFront runs, and have no effect; any other key is an error.
var originUpdateKeys = map[string]bool{
	"domainName": true, "originPath": true, "customHeaders": true, "customOriginConfig": true,
	"connectionAttempts": true, "originShield": true, "originAccessControlConfig": true, "timeouts": true,
}

// cfOrigin records a cloudfront-module origin call (js/cloudfront.js) in the invocation's
// choice, which the result carries (hooks.Request.OriginChoice). Bad arguments throw a
// TypeError naming the parameter; a call outside viewer-request throws, as in CloudFront.
func (v *vm) cfOrigin(c goja.FunctionCall) goja.Value {
	rt := v.rt
	kind := c.Argument(0).String()
	arg := c.Argument(1)
	fail := func(format string, a ...any) { panic(rt.NewTypeError("cf." + kind + ": " + fmt.Sprintf(format, a...))) }
	if v.cf.stage != hooks.ViewerRequest {
		panic(rt.NewGoError(errorString("cf." + kind + ": origins can be changed at viewer-request only")))
	}
	ch := v.cf.choice
	if ch == nil {
		ch = &hooks.OriginChoice{}
	}
	switch kind {
	case "selectRequestOriginById":
		id, ok := arg.Export().(string)
		if !ok || id == "" {
			fail("the origin id must be a non-empty string")
		}
		ch.IDs, ch.FailoverStatus = []string{id}, nil
	case "createRequestOriginGroup":
		o, ok := arg.(*goja.Object)
		if !ok {
			fail("the parameter must be an object")
		}
		ids, _ := o.Get("originIds").Export().([]any)
		if len(ids) == 0 {
			fail("originIds must be a non-empty array of origin ids")
		}
		ch.IDs, ch.FailoverStatus = nil, nil
		for i, x := range ids {
			if m, ok := x.(map[string]any); ok {
				x = m["originId"]
			}
			id, ok := x.(string)
			if !ok || id == "" {
				fail("originIds[%d] must be an origin id (a string, or {originId})", i)
			}
			ch.IDs = append(ch.IDs, id)
		}
		if fc, ok := o.Get("failoverCriteria").(*goja.Object); ok {
			codes, _ := fc.Get("statusCodes").Export().([]any)
			for i, x := range codes {
				n, ok := x.(int64)
				if !ok || n < 400 || n > 599 {
					fail("failoverCriteria.statusCodes[%d] must be an HTTP error status (400-599)", i)
				}
				ch.FailoverStatus = append(ch.FailoverStatus, int(n))
			}
		}
	case "updateRequestOrigin":
		o, ok := arg.(*goja.Object)
		if !ok {
			fail("the parameter must be an object")
		}
		u := &hooks.OriginUpdate{}
		if ch.Update != nil {
			*u = *ch.Update
		}
		for _, k := range o.Keys() {
			if !originUpdateKeys[k] {
				fail("unknown parameter %q", k)
			}
		}
		if d := o.Get("domainName"); d != nil && !goja.IsUndefined(d) {
			s, ok := d.Export().(string)
			if !ok || s == "" || strings.ContainsAny(s, "/:@ ") {
				fail("domainName must be a host name")
			}
			u.DomainName = s
		}
		if p := o.Get("originPath"); p != nil && !goja.IsUndefined(p) {
			s, ok := p.Export().(string)
			if !ok || s != "" && (!strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/")) {
				fail("originPath must start with '/' and not end with one")
			}
			u.Path, u.SetPath = s, true
		}
		if h, ok := o.Get("customHeaders").(*goja.Object); ok {
			u.CustomHeaders, u.SetHeaders = nil, true
			for _, k := range h.Keys() {
				val, ok := h.Get(k).Export().(string)
				if !ok || !hooks.ValidHeaderName(k) {
					fail("customHeaders.%s must be a string header value", k)
				}
				u.CustomHeaders = append(u.CustomHeaders, hooks.Header{Name: k, Value: val})
			}
		}
		if co, ok := o.Get("customOriginConfig").(*goja.Object); ok {
			if p := co.Get("port"); p != nil && !goja.IsUndefined(p) {
				n, ok := p.Export().(int64)
				if !ok || n < 1 || n > 65535 {
					fail("customOriginConfig.port must be 1-65535")
				}
				u.Port = int(n)
			}
			if p := co.Get("protocol"); p != nil && !goja.IsUndefined(p) {
				s, _ := p.Export().(string)
				if s != "http" && s != "https" {
					fail("customOriginConfig.protocol must be http or https")
				}
				u.Protocol = s
			}
		}
		ch.Update = u
	default:
		fail("unknown origin call")
	}
	v.cf.choice = ch
	return goja.Undefined()
}
