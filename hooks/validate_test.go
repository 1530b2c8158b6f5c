package hooks

import (
	"strings"
	"testing"
)

func baseRequest() *Request {
	return &Request{
		ClientIP: "203.0.113.1", Method: "GET", URI: "/index.html", QueryString: "a=1",
		Headers: Headers{{"Host", "example.org"}, {"User-Agent", "curl"}, {"Via", "1.1 x"}, {"Accept-Encoding", "gzip"}},
	}
}

func baseResponse() *Response {
	return &Response{Status: 200, StatusDescription: "OK", Headers: Headers{{"Content-Type", "text/html"}, {"Via", "1.1 verge"}, {"Transfer-Encoding", "chunked"}}}
}

func TestValidate(t *testing.T) {
	type tc struct {
		name    string
		stage   Stage
		dialect Dialect
		edit    func(req *Request, resp *Response) Result
		want    string // substring of the error; "" means valid
	}
	keep := func(req *Request, resp *Response) Result {
		if req != nil {
			return Result{Request: req}
		}
		return Result{Response: resp}
	}
	reqEdit := func(f func(r *Request)) func(*Request, *Response) Result {
		return func(r *Request, _ *Response) Result { f(r); return Result{Request: r} }
	}
	respEdit := func(f func(r *Response)) func(*Request, *Response) Result {
		return func(_ *Request, r *Response) Result { f(r); return Result{Response: r} }
	}
	gen := func(r *Response) func(*Request, *Response) Result {
		return func(*Request, *Response) Result { return Result{Response: r} }
	}
	tests := []tc{
		{"unchanged request", ViewerRequest, LambdaEdge, keep, ""},
		{"unchanged response", OriginResponse, LambdaEdge, keep, ""},
		{"no result", ViewerRequest, LambdaEdge, func(*Request, *Response) Result { return Result{} }, "returned no request or response"},
		{"both", OriginRequest, LambdaEdge, func(r *Request, _ *Response) Result { return Result{Request: r, Response: &Response{Status: 200}} }, "both"},
		{"response stage without response", ViewerResponse, LambdaEdge, func(r *Request, _ *Response) Result { return Result{Request: r} }, "returned no response"},
		{"uri rewrite", ViewerRequest, LambdaEdge, reqEdit(func(r *Request) { r.URI = "/other" }), ""},
		{"uri without slash", ViewerRequest, LambdaEdge, reqEdit(func(r *Request) { r.URI = "other" }), "uri must start with '/'"},
		{"uri with space", OriginRequest, LambdaEdge, reqEdit(func(r *Request) { r.URI = "/a b" }), "space or control"},
		{"querystring with #", ViewerRequest, LambdaEdge, reqEdit(func(r *Request) { r.QueryString = "a=1#x" }), "'#'"},
		{"uri too long", ViewerRequest, LambdaEdge, reqEdit(func(r *Request) { r.URI = "/" + strings.Repeat("a", 8200) }), "the limit is 8191"},
		{"method changed", ViewerRequest, LambdaEdge, reqEdit(func(r *Request) { r.Method = "POST" }), "method is read-only"},
		{"host changed at viewer-request", ViewerRequest, LambdaEdge, reqEdit(func(r *Request) { r.Headers.Set("host", "evil") }), "change read-only header, headerName : Host"},
		{"host changed at origin-request", OriginRequest, LambdaEdge, reqEdit(func(r *Request) { r.Headers.Set("host", "other.example") }), ""},
		{"via deleted", ViewerRequest, LambdaEdge, reqEdit(func(r *Request) { r.Headers.Del("Via") }), "delete read-only header, headerName : Via"},
		{"accept-encoding changed at origin-request", OriginRequest, LambdaEdge, reqEdit(func(r *Request) { r.Headers.Set("Accept-Encoding", "br") }), "headerName : Accept-Encoding"},
		{"accept-encoding changed at viewer-request", ViewerRequest, LambdaEdge, reqEdit(func(r *Request) { r.Headers.Set("Accept-Encoding", "br") }), ""},
		{"content-length added", ViewerRequest, LambdaEdge, reqEdit(func(r *Request) { r.Headers.Add("content-length", "3") }), "add read-only header, headerName : Content-Length"},
		{"second via appended", ViewerRequest, LambdaEdge, reqEdit(func(r *Request) { r.Headers.Add("via", "1.1 evil") }), "change read-only header, headerName : Via"},
		{"invalid name appended", ViewerRequest, LambdaEdge, reqEdit(func(r *Request) { r.Headers.Add("bad name", "x") }), "invalid header name"},
		{"disallowed added", ViewerRequest, LambdaEdge, reqEdit(func(r *Request) { r.Headers.Add("X-Forwarded-Proto", "https") }), "disallowed header, headerName : X-Forwarded-Proto"},
		{"disallowed wildcard", OriginRequest, LambdaEdge, reqEdit(func(r *Request) { r.Headers.Add("X-Edge-Location", "x") }), "disallowed header"},
		{"bad header name", ViewerRequest, LambdaEdge, reqEdit(func(r *Request) { r.Headers.Add("Bad Name", "x") }), "invalid header name"},
		{"header value with CRLF", ViewerRequest, LambdaEdge, reqEdit(func(r *Request) { r.Headers.Add("X-A", "1\r\nX-B: 2") }), "CR, LF"},
		{"origin at viewer-request", ViewerRequest, LambdaEdge, reqEdit(func(r *Request) {
			r.Origin = &Origin{Custom: &CustomOrigin{DomainName: "a.example", Port: 443, Protocol: "https"}}
		}), "origin can only be set"},
		{"origin switched", OriginRequest, LambdaEdge, reqEdit(func(r *Request) {
			r.Origin = &Origin{Custom: &CustomOrigin{DomainName: "a.example", Port: 443, Protocol: "https"}}
		}), ""},
		{"origin both kinds", OriginRequest, LambdaEdge, reqEdit(func(r *Request) { r.Origin = &Origin{Custom: &CustomOrigin{}, S3: &S3Origin{}} }), "exactly one of custom or s3"},
		{"origin with port in domain", OriginRequest, LambdaEdge, reqEdit(func(r *Request) {
			r.Origin = &Origin{Custom: &CustomOrigin{DomainName: "a.example:81", Port: 443, Protocol: "https"}}
		}), "without a port"},
		{"origin bad port", OriginRequest, LambdaEdge, reqEdit(func(r *Request) {
			r.Origin = &Origin{Custom: &CustomOrigin{DomainName: "a.example", Port: 81, Protocol: "https"}}
		}), "must be 80, 443 or 1024-65535"},
		{"origin bad protocol", OriginRequest, LambdaEdge, reqEdit(func(r *Request) {
			r.Origin = &Origin{Custom: &CustomOrigin{DomainName: "a.example", Port: 443, Protocol: "ftp"}}
		}), "protocol"},
		{"origin path trailing slash", OriginRequest, LambdaEdge, reqEdit(func(r *Request) {
			r.Origin = &Origin{Custom: &CustomOrigin{DomainName: "a.example", Port: 443, Protocol: "https", Path: "/x/"}}
		}), "not end with '/'"},
		{"s3 upper case", OriginRequest, LambdaEdge, reqEdit(func(r *Request) { r.Origin = &Origin{S3: &S3Origin{DomainName: "Bucket.s3.amazonaws.com"}} }), "lower-case"},
		{"custom header duplicates request header", OriginRequest, LambdaEdge, reqEdit(func(r *Request) {
			r.Origin = &Origin{Custom: &CustomOrigin{DomainName: "a.example", Port: 443, Protocol: "https", CustomHeaders: Headers{{"User-Agent", "x"}}}}
		}), "also a request header"},
		{"replaced body too big", ViewerRequest, LambdaEdge, reqEdit(func(r *Request) { r.Body = &Body{Replace: true, Data: make([]byte, 41<<10)} }), "replaced body"},
		{"generated ok", ViewerRequest, LambdaEdge, gen(&Response{Status: 302, Headers: Headers{{"Location", "/x"}}}), ""},
		{"generated status 199", ViewerRequest, LambdaEdge, gen(&Response{Status: 199}), "outside 200-599"},
		{"generated status 600", OriginRequest, LambdaEdge, gen(&Response{Status: 600}), "outside 200-599"},
		{"generated 204 with body", ViewerRequest, LambdaEdge, gen(&Response{Status: 204, Body: []byte("x")}), "204"},
		{"generated 204 with body at origin-request", OriginRequest, LambdaEdge, gen(&Response{Status: 204, Body: []byte("x")}), ""},
		{"generated too big at viewer", ViewerRequest, LambdaEdge, gen(&Response{Status: 200, Body: make([]byte, 40<<10+1)}), "over the limit of 40960"},
		{"generated big at origin", OriginRequest, LambdaEdge, gen(&Response{Status: 200, Body: make([]byte, 40<<10)}), ""},
		{"generated with disallowed header", ViewerRequest, LambdaEdge, gen(&Response{Status: 200, Headers: Headers{{"X-Cache", "x"}}}), "disallowed"},
		{"viewer-response status change", ViewerResponse, LambdaEdge, respEdit(func(r *Response) { r.Status = 404 }), "status is read-only"},
		{"viewer-response status change in CFF", ViewerResponse, CloudFrontFunctions, respEdit(func(r *Response) { r.Status = 404 }), ""},
		{"origin-response status change", OriginResponse, LambdaEdge, respEdit(func(r *Response) { r.Status = 404 }), ""},
		{"origin-response bad status", OriginResponse, LambdaEdge, respEdit(func(r *Response) { r.Status = 99 }), "outside 200-599"},
		{"origin-response transfer-encoding deleted", OriginResponse, LambdaEdge, respEdit(func(r *Response) { r.Headers.Del("transfer-encoding") }), "delete read-only header, headerName : Transfer-Encoding"},
		{"viewer-response warning added", ViewerResponse, LambdaEdge, respEdit(func(r *Response) { r.Headers.Add("Warning", "199 x") }), "add read-only header, headerName : Warning"},
		{"viewer-response header added", ViewerResponse, LambdaEdge, respEdit(func(r *Response) { r.Headers.Add("X-Frame-Options", "DENY") }), ""},
		{"origin-response body replaced", OriginResponse, LambdaEdge, respEdit(func(r *Response) { r.Body, r.BodySet = []byte("new"), true }), ""},
		{"origin-response body too big", OriginResponse, LambdaEdge, respEdit(func(r *Response) { r.Body, r.BodySet = make([]byte, 1<<20), true }), "over the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := &Event{Stage: tt.stage, Request: baseRequest()}
			if !tt.stage.IsRequest() {
				ev.Response = baseResponse()
			}
			var req *Request
			var resp *Response
			if tt.stage.IsRequest() {
				req = ev.Request.Clone()
			} else {
				resp = ev.Response.Clone()
			}
			err := Validate(tt.dialect, ev, tt.edit(req, resp), DefaultLimits(tt.dialect, tt.stage))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			case err != nil && KindOf(err) != Validation:
				t.Fatalf("kind %v, want validation", KindOf(err))
			}
		})
	}
}

func TestValidateLeavesInputAlone(t *testing.T) {
	ev := &Event{Stage: ViewerRequest, Request: baseRequest()}
	before := ev.Request.Clone()
	out := ev.Request.Clone()
	out.Headers.Set("X-New", "1")
	if err := Validate(LambdaEdge, ev, Result{Request: out}, DefaultLimits(LambdaEdge, ViewerRequest)); err != nil {
		t.Fatal(err)
	}
	if len(ev.Request.Headers) != len(before.Headers) {
		t.Fatal("Validate changed its input")
	}
}

func TestValidateOriginUnchangedOrSwitched(t *testing.T) {
	configured := &Origin{Custom: &CustomOrigin{DomainName: "::1", Port: 81, Protocol: "http", ReadTimeout: 90}}
	in := &Event{Stage: OriginRequest, Request: baseRequest()}
	in.Request.Origin = configured
	lim := DefaultLimits(LambdaEdge, OriginRequest)

	same := in.Request.Clone()
	same.Origin.Custom.CustomHeaders = Headers{} // empty, not nil: still the same origin
	if err := Validate(LambdaEdge, in, Result{Request: same}, lim); err != nil {
		t.Fatalf("the configured origin passed back unchanged: %v", err)
	}
	switched := in.Request.Clone()
	switched.Origin.Custom.DomainName = "other.example"
	if err := Validate(LambdaEdge, in, Result{Request: switched}, lim); err == nil {
		t.Fatal("a switched origin with port 81 and readTimeout 90 must fail validation")
	}
	if !configured.SameEndpoint(same.Origin) || configured.SameEndpoint(switched.Origin) || configured.SameEndpoint(nil) {
		t.Fatal("SameEndpoint")
	}
}
