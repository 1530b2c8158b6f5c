package jsruntime

import (
	"encoding/base64"

	"github.com/dop251/goja"
	"github.com/vergecdn/verge/hooks"
)

// leBinding is the Lambda@Edge dialect: {Records:[{cf:{config, request[, response]}}]}, headers
// as lower-case name -> [{key, value}], string status (docs/hooks.md).
type leBinding struct{}

var _ binding = leBinding{}

// event builds the event as lazy objects (lazyProps): only the parts the function reads become
// JS values. Everything is copied from ev first, since a function may keep the event past the
// invocation (in a global) and read it later.
func (leBinding) event(v *vm, ev *hooks.Event) (goja.Value, error) {
	e := newLEEvent(v, ev)
	v.le = e
	if v.cf.source != nil {
		e.shapes = leShapesFromSource(v.cf.source)
	}
	return e.object(&e.root, e.shapeFor(&shapeRoot)), nil
}

// leEvent is one invocation's event: a copy of what the function may read, and the lazy
// objects that present it (embedded, so that the Go side of an event is one allocation).
type leEvent struct {
	v                          *vm
	stage                      hooks.Stage
	config                     hooks.Config
	clientIP, method, qs, uri  string
	reqHeaders                 *lazyHeaders
	origin                     *hooks.Origin // origin stages only
	body                       *hooks.Body   // request stages, when the association includes it
	hasResp                    bool
	status                     int
	statusDesc                 string
	respHeaders                *lazyHeaders
	root, record, cf, cfg, req leObj
	resp                       leObj
	vals                       [20]goja.Value // backs the objects' values; see object
	nvals                      int
	shapes                     leShapeSet // an event file's shapes (le_source.go); nil: the defaults
}

func newLEEvent(v *vm, ev *hooks.Event) *leEvent {
	r := ev.Request
	e := &leEvent{v: v, stage: ev.Stage, config: ev.Config, clientIP: r.ClientIP, method: r.Method,
		qs: r.QueryString, uri: r.URI, reqHeaders: newLazyHeaders(v.rt, r.Headers)}
	if r.Origin != nil && (ev.Stage == hooks.OriginRequest || ev.Stage == hooks.OriginResponse) {
		e.origin = r.Origin.Clone()
	}
	if r.Body != nil && ev.Stage.IsRequest() {
		b := *r.Body
		b.Data = append([]byte(nil), r.Body.Data...)
		e.body = &b
	}
	if resp := ev.Response; resp != nil && (ev.Stage == hooks.OriginResponse || ev.Stage == hooks.ViewerResponse) {
		e.hasResp, e.status, e.statusDesc = true, resp.Status, resp.StatusDescription
		e.respHeaders = newLazyHeaders(v.rt, resp.Headers)
	}
	return e
}

// leField names what a fixed key of one of the event's objects holds.
type leField uint8

const (
	fRecords leField = iota
	fCF
	fConfig
	fRequest
	fResponse
	fDomain
	fDistID
	fEventType
	fRequestID
	fBody
	fClientIP
	fReqHeaders
	fMethod
	fOrigin
	fQueryString
	fURI
	fRespHeaders
	fStatus
	fStatusDesc
)

// leShape is the fixed keys of one kind of object, in CloudFront's order (its examples list
// keys alphabetically), and what each holds.
type leShape struct {
	keys   []string
	fields []leField
}

func shape(pairs ...any) leShape {
	var s leShape
	for i := 0; i < len(pairs); i += 2 {
		s.keys = append(s.keys, pairs[i].(string))
		s.fields = append(s.fields, pairs[i+1].(leField))
	}
	return s
}

var (
	shapeRoot   = shape("Records", fRecords)
	shapeRecord = shape("cf", fCF)
	shapeCF     = shape("config", fConfig, "request", fRequest)
	shapeCFResp = shape("config", fConfig, "request", fRequest, "response", fResponse)
	shapeConfig = shape("distributionDomainName", fDomain, "distributionId", fDistID,
		"eventType", fEventType, "requestId", fRequestID)
	shapeResponse = shape("headers", fRespHeaders, "status", fStatus, "statusDescription", fStatusDesc)
	// shapeRequest by [has body][has origin].
	shapeRequest = [2][2]leShape{
		{requestShape(false, false), requestShape(false, true)},
		{requestShape(true, false), requestShape(true, true)},
	}
)

func requestShape(body, origin bool) leShape {
	var pairs []any
	if body {
		pairs = append(pairs, "body", fBody)
	}
	pairs = append(pairs, "clientIp", fClientIP, "headers", fReqHeaders, "method", fMethod)
	if origin {
		pairs = append(pairs, "origin", fOrigin)
	}
	return shape(append(pairs, "querystring", fQueryString, "uri", fURI)...)
}

// leObj is one object of the event (the root, the record, cf, config, request or response).
type leObj struct {
	lazyProps
	e     *leEvent
	shape *leShape
	js    *goja.Object // the JS object presenting it, once made
}

var _ goja.DynamicObject = (*leObj)(nil)

func (o *leObj) build(i int) goja.Value { return o.e.build(o.shape.fields[i]) }

// field returns the index of the fixed key holding f, or -1.
func (o *leObj) field(f leField) int {
	for i, g := range o.shape.fields {
		if g == f {
			return i
		}
	}
	return -1
}

// original reports whether the key holding f still has the event's value: never assigned nor
// deleted by JS. For a string that is enough; an object may have changed inside (pristine).
func (o *leObj) original(f leField) bool {
	i := o.field(f)
	return i >= 0 && o.lazyProps.unassigned(i)
}

// pristine reports whether the key holding f was never read, written nor deleted by JS.
func (o *leObj) pristine(f leField) bool {
	i := o.field(f)
	return i >= 0 && o.lazyProps.pristine(i)
}

// object sets o up with shape s and returns it as a JS object. Each object is made once per
// event, so e.vals (as long as all shapes' keys together) never runs out.
func (e *leEvent) object(o *leObj, s *leShape) *goja.Object {
	o.e, o.shape = e, s
	n := len(s.keys)
	o.init(o, s.keys, e.vals[e.nvals:e.nvals+n:e.nvals+n])
	e.nvals += n
	o.js = e.v.rt.NewDynamicObject(o)
	return o.js
}

// build makes the JS value of f, on its first read.
func (e *leEvent) build(f leField) goja.Value {
	rt, sc := e.v.rt, &e.v.strs
	switch f {
	case fRecords:
		return rt.NewArray(e.object(&e.record, e.shapeFor(&shapeRecord)))
	case fCF:
		if e.hasResp {
			return e.object(&e.cf, e.shapeFor(&shapeCFResp))
		}
		return e.object(&e.cf, e.shapeFor(&shapeCF))
	case fConfig:
		return e.object(&e.cfg, e.shapeFor(&shapeConfig))
	case fRequest:
		return e.object(&e.req, e.shapeFor(&shapeRequest[b2i(e.body != nil)][b2i(e.origin != nil)]))
	case fResponse:
		return e.object(&e.resp, e.shapeFor(&shapeResponse))
	case fDomain:
		return sc.get(rt, cacheDomain, e.config.DistributionDomainName)
	case fDistID:
		return sc.get(rt, cacheDistID, e.config.DistributionID)
	case fEventType:
		return sc.get(rt, cacheStage, e.stage.String())
	case fRequestID:
		return rt.ToValue(e.config.RequestID)
	case fBody:
		b := rt.NewObject()
		_ = b.Set("action", "read-only")
		_ = b.Set("data", base64.StdEncoding.EncodeToString(e.body.Data))
		_ = b.Set("encoding", "base64")
		_ = b.Set("inputTruncated", e.body.InputTruncated)
		return b
	case fClientIP:
		return sc.get(rt, cacheClientIP, e.clientIP)
	case fReqHeaders:
		return e.reqHeaders.object()
	case fMethod:
		return sc.get(rt, cacheMethod, e.method)
	case fOrigin:
		return leOrigin(rt, e.origin)
	case fQueryString:
		return sc.get(rt, cacheQuery, e.qs)
	case fURI:
		return sc.get(rt, cacheURI, e.uri)
	case fRespHeaders:
		return e.respHeaders.object()
	case fStatus:
		return sc.status(rt, e.status)
	case fStatusDesc:
		return sc.get(rt, cacheStatusDesc, e.statusDesc)
	}
	return goja.Undefined()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// objectOf returns the event's request or response object if o is one of them. It compares
// pointers, as goja's Export allocates; an object of an earlier invocation's event that the
// function kept and returned is decoded through JS like any other.
func (e *leEvent) objectOf(o *goja.Object) *leObj {
	switch {
	case e == nil:
		return nil
	case o == e.req.js:
		return &e.req
	case o == e.resp.js:
		return &e.resp
	}
	return nil
}

// headersOf returns the event's headers object behind o, if o is one of them.
func (e *leEvent) headersOf(o *goja.Object) *lazyHeaders {
	switch {
	case e == nil:
		return nil
	case e.reqHeaders.js == o:
		return e.reqHeaders
	case e.respHeaders != nil && e.respHeaders.js == o:
		return e.respHeaders
	}
	return nil
}

func leHeaders(rt *goja.Runtime, h hooks.Headers) *goja.Object {
	return newLazyHeaders(rt, h).object()
}

func leOrigin(rt *goja.Runtime, or *hooks.Origin) *goja.Object {
	o := rt.NewObject()
	if c := or.Custom; c != nil {
		x := rt.NewObject()
		_ = x.Set("customHeaders", leHeaders(rt, c.CustomHeaders))
		_ = x.Set("domainName", c.DomainName)
		_ = x.Set("keepaliveTimeout", c.KeepaliveTimeout)
		_ = x.Set("path", c.Path)
		_ = x.Set("port", c.Port)
		_ = x.Set("protocol", c.Protocol)
		_ = x.Set("readTimeout", c.ReadTimeout)
		ssl := make([]any, len(c.SSLProtocols))
		for i, p := range c.SSLProtocols {
			ssl[i] = p
		}
		_ = x.Set("sslProtocols", rt.NewArray(ssl...))
		_ = o.Set("custom", x)
	}
	if s3 := or.S3; s3 != nil {
		x := rt.NewObject()
		_ = x.Set("authMethod", s3.AuthMethod)
		_ = x.Set("customHeaders", leHeaders(rt, s3.CustomHeaders))
		_ = x.Set("domainName", s3.DomainName)
		_ = x.Set("path", s3.Path)
		_ = x.Set("region", s3.Region)
		_ = o.Set("s3", x)
	}
	return o
}
