package jsruntime

import (
	"github.com/dop251/goja"
	"github.com/vergecdn/verge/hooks"
)

func (leBinding) result(v *vm, ev *hooks.Event, val goja.Value) (hooks.Result, error) {
	return decoder{rt: v.rt, stage: ev.Stage, le: v.le}.lambdaEdge(ev, val)
}

// lambdaEdge reads a Lambda@Edge handler's result. At request stages an object with a status
// is a generated response and anything else a request (docs/hooks.md).
func (d decoder) lambdaEdge(ev *hooks.Event, val goja.Value) (hooks.Result, error) {
	o, err := d.object(val, "the result")
	if err != nil {
		return hooks.Result{}, err
	}
	if ev.Stage.IsRequest() && field(o, "status") == nil {
		r, err := d.leRequest(o, ev.Request)
		return hooks.Result{Request: r}, err
	}
	r, err := d.leResponse(o, ev.Stage.IsRequest())
	return hooks.Result{Response: r}, err
}

func (d decoder) leRequest(o *goja.Object, in *hooks.Request) (*hooks.Request, error) {
	if in == nil {
		in = &hooks.Request{}
	}
	out := &hooks.Request{ClientIP: in.ClientIP, Method: in.Method}
	// The event's own request object: fields JS never assigned are the event's, read from Go
	// (strings cannot have changed; objects must also be unread, see pristine).
	lo := d.le.objectOf(o)
	var err error
	if lo != nil && lo.original(fURI) {
		out.URI = lo.e.uri
	} else if out.URI, err = d.uri(o); err != nil {
		return nil, err
	}
	if lo != nil && lo.original(fMethod) {
		out.Method = lo.e.method
	} else if m, ok, err := d.str(o, "method", "request"); err != nil {
		return nil, err
	} else if ok {
		out.Method = m
	}
	if lo != nil && lo.original(fQueryString) {
		out.QueryString = lo.e.qs
	} else if out.QueryString, _, err = d.str(o, "querystring", "request"); err != nil {
		return nil, err
	}
	if lo != nil && lo.pristine(fReqHeaders) {
		out.Headers = lo.e.reqHeaders.appendAll(nil)
	} else if out.Headers, err = d.leHeaders(o, "headers", "request"); err != nil {
		return nil, err
	}
	if lo != nil && lo.pristine(fOrigin) {
		out.Origin = lo.e.origin.Clone() // the event's copy stays the runtime's, which may read it later
	} else if ov := field(o, "origin"); ov != nil {
		if out.Origin, err = d.leOrigin(ov); err != nil {
			return nil, err
		}
	}
	var bv goja.Value
	if lo == nil || !lo.pristine(fBody) { // an untouched body is the input's: no base64 round trip
		bv = field(o, "body")
	}
	if bv != nil {
		if out.Body, err = d.leBody(bv, in.Body); err != nil {
			return nil, err
		}
	} else if in.Body != nil {
		b := *in.Body
		b.Replace = false
		out.Body = &b
	}
	return out, nil
}

func (d decoder) leBody(bv goja.Value, in *hooks.Body) (*hooks.Body, error) {
	bo, err := d.object(bv, "request.body")
	if err != nil {
		return nil, err
	}
	action, _, err := d.str(bo, "action", "request.body")
	if err != nil {
		return nil, err
	}
	switch action {
	case "", "read-only":
		if in == nil {
			return nil, nil
		}
		b := *in
		b.Replace = false
		return &b, nil
	case "replace":
	default:
		return nil, d.errorf("request.body.action", "must be read-only or replace, not %q", action)
	}
	enc, _, err := d.str(bo, "encoding", "request.body")
	if err != nil {
		return nil, err
	}
	data, _, err := d.str(bo, "data", "request.body")
	if err != nil {
		return nil, err
	}
	b := &hooks.Body{Replace: true}
	switch enc {
	case "base64":
		raw, ok := decodeBase64Strict(data)
		if !ok {
			return nil, d.errorf("request.body.data", "is not valid base64")
		}
		b.Data = raw
	case "text", "":
		b.Data = []byte(data)
	default:
		return nil, d.errorf("request.body.encoding", "must be base64 or text, not %q", enc)
	}
	return b, nil
}

func (d decoder) leResponse(o *goja.Object, generated bool) (*hooks.Response, error) {
	out := &hooks.Response{}
	lo := d.le.objectOf(o) // the event's own response: see leRequest
	var err error
	if lo != nil && lo.original(fStatus) {
		out.Status = lo.e.status
	} else {
		sv := field(o, "status")
		if sv == nil {
			return nil, d.errorf("response.status", "is required")
		}
		if out.Status, err = d.integer(sv, "response.status"); err != nil {
			return nil, err
		}
	}
	if lo != nil && lo.original(fStatusDesc) {
		out.StatusDescription = lo.e.statusDesc
	} else if out.StatusDescription, _, err = d.str(o, "statusDescription", "response"); err != nil {
		return nil, err
	}
	if lo != nil && lo.pristine(fRespHeaders) {
		out.Headers = lo.e.respHeaders.appendAll(nil)
	} else if out.Headers, err = d.leHeaders(o, "headers", "response"); err != nil {
		return nil, err
	}
	if lo != nil && !generated && len(lo.extra) == 0 {
		return out, nil // the event's response has no body unless JS added one
	}
	body, hasBody, err := d.str(o, "body", "response")
	if err != nil {
		return nil, err
	}
	enc, _, err := d.str(o, "bodyEncoding", "response")
	if err != nil {
		return nil, err
	}
	if hasBody {
		out.BodySet = true
		if out.Body, err = d.bodyBytes(body, enc, "response.body", "response.bodyEncoding"); err != nil {
			return nil, err
		}
	} else if generated {
		out.BodySet = true
	}
	return out, nil
}

// leHeaders reads {name: [{key?, value}, ...]}. A missing key is filled in Title-Case.
// Field paths for error messages are built only when an error is reported.
func (d decoder) leHeaders(o *goja.Object, key, path string) (hooks.Headers, error) {
	hv := field(o, key)
	if hv == nil {
		return nil, nil
	}
	path += "." + key
	ho, err := d.object(hv, path)
	if err != nil {
		return nil, err
	}
	if lazy := d.le.headersOf(ho); lazy != nil {
		return d.leLazyHeaders(lazy, ho, path)
	}
	var out hooks.Headers
	for _, name := range keys(ho) {
		if out, err = d.leHeaderLines(out, ho, name, path); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// leLazyHeaders reads the event's own headers object (see lazyHeaders.decode).
func (d decoder) leLazyHeaders(lazy *lazyHeaders, ho *goja.Object, path string) (hooks.Headers, error) {
	return lazy.decode(func(out hooks.Headers, name string) (hooks.Headers, error) {
		return d.leHeaderLines(out, ho, name, path)
	})
}

func seenFold(lines []hooks.Header, name string) bool {
	for _, l := range lines {
		if equalLower(l.Name, name) {
			return true
		}
	}
	return false
}

// leHeaderLines appends the lines of ho[name], an array of {key?, value}.
func (d decoder) leHeaderLines(out hooks.Headers, ho *goja.Object, name, path string) (hooks.Headers, error) {
	av := field(ho, name)
	if av == nil {
		return out, nil
	}
	ao, ok := av.(*goja.Object)
	if !ok || ao.ClassName() != "Array" {
		return nil, d.errorf(path+"."+name, "must be an array of {key, value}, not %s", typeName(av))
	}
	n := int(ao.Get("length").ToInteger())
	for i := 0; i < n; i++ {
		ep := func() string { return path + "." + name + "[" + itoa(i) + "]" }
		ev := ao.Get(itoa(i))
		eo, isObj := ev.(*goja.Object)
		if _, isFn := goja.AssertFunction(ev); !isObj || isFn {
			_, err := d.object(ev, ep())
			return nil, err
		}
		vv := field(eo, "value")
		if vv == nil {
			return nil, d.errorf(ep()+".value", "is required")
		}
		var value string
		var err error
		if isString(vv) {
			value = vv.String()
		} else if value, err = d.scalar(vv, ep()+".value"); err != nil {
			return nil, err
		}
		var hname string
		if kv := field(eo, "key"); kv == nil {
			hname = hooks.CanonicalName(name)
		} else if !isString(kv) {
			return nil, d.errorf(ep()+".key", "must be a string, not %s", typeName(kv))
		} else if hname = kv.String(); !equalLower(hname, name) {
			// The object's name decides the header; key only supplies its case. CloudFront runs
			// the AWS guide's "Overriding a response header" example, which copies
			// {key: 'X-Amz-Meta-Last-Modified'} under last-modified.
			hname = hooks.CanonicalName(name)
		}
		out = append(out, hooks.Header{Name: hname, Value: value})
	}
	return out, nil
}

// equalLower reports lowerASCII(a) == lowerASCII(b) without allocating when both are ASCII.
func equalLower(a, b string) bool {
	if len(a) != len(b) {
		return lowerASCII(a) == lowerASCII(b)
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if ca >= 0x80 || cb >= 0x80 {
			return lowerASCII(a) == lowerASCII(b)
		}
		if 'A' <= ca && ca <= 'Z' {
			ca += 'a' - 'A'
		}
		if 'A' <= cb && cb <= 'Z' {
			cb += 'a' - 'A'
		}
		if ca != cb {
			return false
		}
	}
	return true
}

func (d decoder) leOrigin(v goja.Value) (*hooks.Origin, error) {
	o, err := d.object(v, "request.origin")
	if err != nil {
		return nil, err
	}
	out := &hooks.Origin{}
	if cv := field(o, "custom"); cv != nil {
		co, err := d.object(cv, "request.origin.custom")
		if err != nil {
			return nil, err
		}
		c := &hooks.CustomOrigin{}
		const p = "request.origin.custom"
		for _, f := range []struct {
			key string
			dst *string
		}{{"domainName", &c.DomainName}, {"protocol", &c.Protocol}, {"path", &c.Path}} {
			if *f.dst, _, err = d.str(co, f.key, p); err != nil {
				return nil, err
			}
		}
		for _, f := range []struct {
			key string
			dst *int
		}{{"port", &c.Port}, {"readTimeout", &c.ReadTimeout}, {"keepaliveTimeout", &c.KeepaliveTimeout}} {
			if iv := field(co, f.key); iv != nil {
				if *f.dst, err = d.integer(iv, p+"."+f.key); err != nil {
					return nil, err
				}
			}
		}
		if sv := field(co, "sslProtocols"); sv != nil {
			so, ok := sv.(*goja.Object)
			if !ok || so.ClassName() != "Array" {
				return nil, d.errorf(p+".sslProtocols", "must be an array of strings")
			}
			n := int(so.Get("length").ToInteger())
			for i := 0; i < n; i++ {
				ev := so.Get(itoa(i))
				if !isString(ev) {
					return nil, d.errorf(p+".sslProtocols", "must be an array of strings")
				}
				c.SSLProtocols = append(c.SSLProtocols, ev.String())
			}
		}
		if c.CustomHeaders, err = d.leHeaders(co, "customHeaders", p); err != nil {
			return nil, err
		}
		out.Custom = c
	}
	if sv := field(o, "s3"); sv != nil {
		so, err := d.object(sv, "request.origin.s3")
		if err != nil {
			return nil, err
		}
		s := &hooks.S3Origin{}
		const p = "request.origin.s3"
		for _, f := range []struct {
			key string
			dst *string
		}{{"domainName", &s.DomainName}, {"path", &s.Path}, {"region", &s.Region}, {"authMethod", &s.AuthMethod}} {
			if *f.dst, _, err = d.str(so, f.key, p); err != nil {
				return nil, err
			}
		}
		if s.CustomHeaders, err = d.leHeaders(so, "customHeaders", p); err != nil {
			return nil, err
		}
		out.S3 = s
	}
	return out, nil
}

// bodyBytes decodes a body given as text or base64 (enc); field and encField name the two
// properties in error messages.
func (d *decoder) bodyBytes(data, enc, field, encField string) ([]byte, error) {
	switch enc {
	case "base64":
		raw, ok := decodeBase64Strict(data)
		if !ok {
			return nil, d.errorf(field, "is not valid base64")
		}
		return raw, nil
	case "text", "":
		return []byte(data), nil
	}
	return nil, d.errorf(encField, "must be text or base64, not %q", enc)
}
