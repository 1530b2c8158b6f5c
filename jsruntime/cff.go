package jsruntime

import (
	"strings"

	"github.com/dop251/goja"
	"github.com/vergecdn/verge/hooks"
)

// cffBinding is the CloudFront Functions dialect: handler(event) with event.request,
// event.viewer, event.context; {value, multiValue} headers without Cookie/Set-Cookie, which
// appear parsed in cookies; querystring parsed (values kept as they arrived, not decoded);
// integer statusCode (docs/hooks.md).
type cffBinding struct{}

var _ binding = cffBinding{}

func (cffBinding) event(v *vm, ev *hooks.Event) (goja.Value, error) {
	rt := v.rt
	v.cf.stage, v.cf.choice, v.cf.reqHeaders, v.cf.respHeaders = ev.Stage, nil, nil, nil
	if v.cf.source != nil {
		return v.cffEventFromSource(v.cf.source, ev)
	}
	root := rt.NewObject()
	_ = root.Set("version", "1.0")
	c := rt.NewObject()
	_ = c.Set("distributionDomainName", ev.Config.DistributionDomainName)
	_ = c.Set("distributionId", ev.Config.DistributionID)
	_ = c.Set("eventType", ev.Stage.String())
	_ = c.Set("requestId", ev.Config.RequestID)
	_ = root.Set("context", c)
	vw := rt.NewObject()
	_ = vw.Set("ip", ev.Request.ClientIP)
	_ = root.Set("viewer", vw)

	r := ev.Request
	req := rt.NewObject()
	_ = req.Set("method", r.Method)
	_ = req.Set("uri", r.URI)
	qs := rt.NewObject()
	var qnames []string
	var qvals [][]string
	if r.QueryString != "" {
		for _, part := range strings.Split(r.QueryString, "&") {
			if part == "" {
				continue
			}
			name, val, _ := strings.Cut(part, "=")
			i := indexOf(qnames, name)
			if i < 0 {
				qnames, qvals = append(qnames, name), append(qvals, nil)
				i = len(qnames) - 1
			}
			qvals[i] = append(qvals[i], val)
		}
	}
	for i, n := range qnames {
		_ = qs.Set(n, cffEntry(rt, qvals[i], nil))
	}
	_ = req.Set("querystring", qs)
	v.cf.reqHeaders = newLazyCFFHeaders(rt, r.Headers, "cookie")
	_ = req.Set("headers", v.cf.reqHeaders.object())
	cookies := rt.NewObject()
	var cnames []string
	var cvals [][]string
	for _, line := range r.Headers.Values("cookie") {
		for _, kv := range strings.Split(line, ";") {
			kv = strings.TrimSpace(kv)
			if kv == "" {
				continue
			}
			name, val, _ := strings.Cut(kv, "=")
			i := indexOf(cnames, name)
			if i < 0 {
				cnames, cvals = append(cnames, name), append(cvals, nil)
				i = len(cnames) - 1
			}
			cvals[i] = append(cvals[i], val)
		}
	}
	for i, n := range cnames {
		_ = cookies.Set(n, cffEntry(rt, cvals[i], nil))
	}
	_ = req.Set("cookies", cookies)
	// Each event has its own: a function may keep a request and call it later.
	_ = req.Set("rawQueryString", func(goja.FunctionCall) goja.Value { return rt.ToValue(r.QueryString) })
	_ = root.Set("request", req)

	if ev.Stage == hooks.ViewerResponse && ev.Response != nil {
		resp := rt.NewObject()
		_ = resp.Set("statusCode", ev.Response.Status)
		_ = resp.Set("statusDescription", ev.Response.StatusDescription)
		v.cf.respHeaders = newLazyCFFHeaders(rt, ev.Response.Headers, "set-cookie")
		_ = resp.Set("headers", v.cf.respHeaders.object())
		sc := rt.NewObject()
		var names []string
		var vals, attrs [][]string
		for _, line := range ev.Response.Headers.Values("set-cookie") {
			nv, at, _ := strings.Cut(line, ";")
			name, val, _ := strings.Cut(strings.TrimSpace(nv), "=")
			i := indexOf(names, name)
			if i < 0 {
				names, vals, attrs = append(names, name), append(vals, nil), append(attrs, nil)
				i = len(names) - 1
			}
			vals[i] = append(vals[i], val)
			attrs[i] = append(attrs[i], strings.TrimSpace(at))
		}
		for i, n := range names {
			_ = sc.Set(n, cffEntry(rt, vals[i], attrs[i]))
		}
		_ = resp.Set("cookies", sc)
		_ = root.Set("response", resp)
	}
	return root, nil
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// cffEntry builds {value[, attributes][, multiValue:[...]]}; multiValue only for duplicates.
func cffEntry(rt *goja.Runtime, vals, attrs []string) *goja.Object {
	one := func(i int) *goja.Object {
		o := rt.NewObject()
		_ = o.Set("value", vals[i])
		if attrs != nil && attrs[i] != "" {
			_ = o.Set("attributes", attrs[i])
		}
		return o
	}
	e := one(0)
	if len(vals) > 1 {
		mv := make([]any, len(vals))
		for i := range vals {
			mv[i] = one(i)
		}
		_ = e.Set("multiValue", rt.NewArray(mv...))
	}
	return e
}
