package jsruntime

import (
	"slices"
	"strings"

	"github.com/dop251/goja"
	"github.com/vergecdn/verge/hooks"
)

func (cffBinding) result(v *vm, ev *hooks.Event, val goja.Value) (hooks.Result, error) {
	res, err := decoder{rt: v.rt, stage: ev.Stage, cf: &v.cf}.cff(ev, val)
	if err == nil && res.Request != nil && v.cf.choice != nil {
		res.Request.OriginChoice = v.cf.choice
	}
	return res, err
}

// cff reads a CloudFront function's result: the request (continue) or a response object (an
// object with statusCode). At viewer-response only a response is valid.
func (d decoder) cff(ev *hooks.Event, val goja.Value) (hooks.Result, error) {
	o, err := d.object(val, "the result")
	if err != nil {
		return hooks.Result{}, err
	}
	if ev.Stage == hooks.ViewerRequest && field(o, "statusCode") == nil {
		r, err := d.cffRequest(o, ev.Request)
		return hooks.Result{Request: r}, err
	}
	var inHeaders hooks.Headers
	if ev.Response != nil && ev.Stage == hooks.ViewerResponse {
		inHeaders = ev.Response.Headers
	}
	r, err := d.cffResponse(o, inHeaders, ev.Stage == hooks.ViewerRequest)
	return hooks.Result{Response: r}, err
}

func (d decoder) cffRequest(o *goja.Object, in *hooks.Request) (*hooks.Request, error) {
	out := &hooks.Request{ClientIP: in.ClientIP, Method: in.Method}
	var err error
	if out.URI, err = d.uri(o); err != nil {
		return nil, err
	}
	if m, ok, err := d.str(o, "method", "request"); err != nil {
		return nil, err
	} else if ok {
		out.Method = m
	}
	if qv := field(o, "querystring"); qv != nil {
		if isString(qv) {
			out.QueryString = strings.TrimPrefix(qv.String(), "?")
		} else {
			var parts []string
			err := d.cffValues(qv, "request.querystring", nil, func(name, val, _ string) {
				if val == "" && name == "" {
					return
				}
				parts = append(parts, name+"="+val)
			})
			if err != nil {
				return nil, err
			}
			out.QueryString = strings.Join(parts, "&")
		}
	}
	if out.Headers, err = d.cffHeaders(o, in.Headers, "request"); err != nil {
		return nil, err
	}
	var cookies []string
	if cv := field(o, "cookies"); cv != nil {
		if err := d.cffValues(cv, "request.cookies", nil, func(name, val, _ string) {
			cookies = append(cookies, name+"="+val)
		}); err != nil {
			return nil, err
		}
	}
	out.Headers.Del("cookie")
	if len(cookies) > 0 {
		out.Headers.Add("Cookie", strings.Join(cookies, "; "))
	}
	if in.Body != nil {
		b := *in.Body
		out.Body = &b
	}
	return out, nil
}

func (d decoder) cffResponse(o *goja.Object, in hooks.Headers, generated bool) (*hooks.Response, error) {
	out := &hooks.Response{}
	sv := field(o, "statusCode")
	if sv == nil {
		return nil, d.errorf("response.statusCode", "is required")
	}
	var err error
	if typeName(sv) != "number" {
		return nil, d.errorf("response.statusCode", "must be a number, not %s", typeName(sv))
	}
	if out.Status, err = d.integer(sv, "response.statusCode"); err != nil {
		return nil, err
	}
	if out.StatusDescription, _, err = d.str(o, "statusDescription", "response"); err != nil {
		return nil, err
	}
	if out.Headers, err = d.cffHeaders(o, in, "response"); err != nil {
		return nil, err
	}
	out.Headers.Del("set-cookie")
	if cv := field(o, "cookies"); cv != nil {
		if err := d.cffValues(cv, "response.cookies", setCookiesBefore(in), func(name, val, attrs string) {
			out.Headers.Add("Set-Cookie", joinCookie(name, val, attrs))
		}); err != nil {
			return nil, err
		}
	}
	if bv := field(o, "body"); bv != nil {
		out.BodySet = true
		if isString(bv) {
			out.Body = []byte(bv.String())
		} else {
			bo, err := d.object(bv, "response.body")
			if err != nil {
				return nil, err
			}
			data, _, err := d.str(bo, "data", "response.body")
			if err != nil {
				return nil, err
			}
			enc, _, err := d.str(bo, "encoding", "response.body")
			if err != nil {
				return nil, err
			}
			if out.Body, err = d.bodyBytes(data, enc, "response.body.data", "response.body.encoding"); err != nil {
				return nil, err
			}
		}
	} else if generated {
		out.BodySet = true
	}
	return out, nil
}

// cffHeaders reads {name: {value, multiValue?}}. A multiValue list that differs from the input's
// wins; otherwise value replaces the first value and the others are kept (section f).
func (d decoder) cffHeaders(o *goja.Object, in hooks.Headers, path string) (hooks.Headers, error) {
	hv := field(o, "headers")
	if hv == nil {
		return nil, nil
	}
	var out hooks.Headers
	add := func(name, val, _ string) {
		hname := ""
		for _, h := range in {
			if strings.EqualFold(h.Name, name) {
				hname = h.Name
				break
			}
		}
		if hname == "" {
			hname = hooks.CanonicalName(name)
		}
		out = append(out, hooks.Header{Name: hname, Value: val})
	}
	if lazy := d.cf.headersOf(hv); lazy != nil {
		// The event's own headers object: what JS did not touch is copied from its lines.
		ho := hv.(*goja.Object)
		p := path + ".headers"
		return lazy.decode(func(prev hooks.Headers, name string) (hooks.Headers, error) {
			out = prev
			err := d.cffEntryValues(ho, name, p, headersBefore(in), add)
			return out, err
		})
	}
	err := d.cffValues(hv, path+".headers", headersBefore(in), add)
	return out, err
}

// headersOf returns the event's headers object behind v, if v is one of them.
func (c *cffCall) headersOf(v goja.Value) *lazyHeaders {
	if c == nil {
		return nil
	}
	o, ok := v.(*goja.Object)
	switch {
	case !ok:
		return nil
	case c.reqHeaders != nil && c.reqHeaders.js == o:
		return &c.reqHeaders.lazyHeaders
	case c.respHeaders != nil && c.respHeaders.js == o:
		return &c.respHeaders.lazyHeaders
	}
	return nil
}

// before returns the values (and attributes, for Set-Cookie) a name had in the input event,
// to tell an unmodified multiValue from a modified one.
type before func(name string) (vals, attrs []string)

func headersBefore(in hooks.Headers) before {
	if in == nil {
		return nil
	}
	return func(name string) ([]string, []string) { return in.Values(name), nil }
}

// setCookiesBefore reads the input's Set-Cookie lines by cookie name.
func setCookiesBefore(in hooks.Headers) before {
	if in == nil {
		return nil
	}
	return func(name string) (vals, attrs []string) {
		for _, line := range in.Values("set-cookie") {
			nv, at, _ := strings.Cut(line, ";")
			n, v, _ := strings.Cut(strings.TrimSpace(nv), "=")
			if n == name {
				vals, attrs = append(vals, v), append(attrs, strings.TrimSpace(at))
			}
		}
		return vals, attrs
	}
}

// cffValues walks {name: {value, attributes?, multiValue?}}. in (optional) gives the input's
// values. A multiValue list wins when it was modified, and each entry writes its own
// attributes; an unmodified one takes a changed value and attributes in its first entry, as
// does a new one whose first entry has the value but no attributes of its own.
func (d decoder) cffValues(v goja.Value, path string, in before, fn func(name, val, attrs string)) error {
	o, err := d.object(v, path)
	if err != nil {
		return err
	}
	for _, name := range keys(o) {
		if err := d.cffEntryValues(o, name, path, in, fn); err != nil {
			return err
		}
	}
	return nil
}

// cffEntryValues reads o[name], one entry of cffValues, if it is set.
func (d decoder) cffEntryValues(o *goja.Object, name, path string, in before, fn func(name, val, attrs string)) error {
	ev := field(o, name)
	if ev == nil {
		return nil
	}
	p := path + "." + name
	eo, err := d.object(ev, p)
	if err != nil {
		return err
	}
	val, hasVal, err := d.cffScalar(eo, "value", p)
	if err != nil {
		return err
	}
	attrs, hasAttrs, err := d.str(eo, "attributes", p)
	if err != nil {
		return err
	}
	mvv := field(eo, "multiValue")
	if mvv == nil {
		if !hasVal {
			return d.errorf(p+".value", "is required")
		}
		fn(name, val, attrs)
		return nil
	}
	mo, ok := mvv.(*goja.Object)
	if !ok || mo.ClassName() != "Array" {
		return d.errorf(p+".multiValue", "must be an array")
	}
	n := int(mo.Get("length").ToInteger())
	vals := make([]string, 0, n)
	mattrs := make([]string, 0, n)
	ownAttrs := make([]bool, 0, n)
	for i := 0; i < n; i++ {
		ip := p + ".multiValue[" + itoa(i) + "]"
		io, err := d.object(mo.Get(itoa(i)), ip)
		if err != nil {
			return err
		}
		s, ok, err := d.cffScalar(io, "value", ip)
		if err != nil {
			return err
		}
		if !ok {
			return d.errorf(ip+".value", "is required")
		}
		a, own, err := d.str(io, "attributes", ip)
		if err != nil {
			return err
		}
		vals, mattrs, ownAttrs = append(vals, s), append(mattrs, a), append(ownAttrs, own)
	}
	var bvals, battrs []string
	if in != nil {
		bvals, battrs = in(name)
	}
	untouched := len(bvals) > 1 && slices.Equal(bvals, vals) && (battrs == nil || slices.Equal(battrs, mattrs))
	if untouched && hasVal {
		vals[0] = val // multiValue untouched: a changed value replaces the first
	}
	if n > 0 && hasAttrs && (untouched || !ownAttrs[0] && vals[0] == val) {
		mattrs[0] = attrs
	}
	for i := range vals {
		fn(name, vals[i], mattrs[i])
	}
	return nil
}

func (d decoder) cffScalar(o *goja.Object, key, path string) (string, bool, error) {
	v := field(o, key)
	if v == nil {
		return "", false, nil
	}
	s, err := d.scalar(v, path+"."+key)
	return s, true, err
}
