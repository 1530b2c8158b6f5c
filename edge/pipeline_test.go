package edge

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vergecdn/verge/cache"
	"github.com/vergecdn/verge/hooks"
)

const allStagesYAML = `
origins: [{id: o, url: ORIGIN}]
behaviors:
  - path: "*"
    functions:
      viewer-request: rec
      origin-request: rec
      origin-response: rec
      viewer-response: rec
`

func TestMissThenHit(t *testing.T) {
	o := staticOrigin(t, "hello", "Cache-Control", "max-age=60", "Content-Type", "text/plain", "X-Custom-CASE", "kept")
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)

	first := n.get(t, "/page")
	first.expect(t, 200, "Miss from verge")
	n.clock.advance(7 * time.Second)
	second := n.get(t, "/page")
	second.expect(t, 200, "Hit from verge")
	if second.body != "hello" || second.Header.Get("Age") != "7" {
		t.Fatalf("hit: body %q Age %q, want hello and 7", second.body, second.Header.Get("Age"))
	}
	if first.Header.Get("Age") != "" {
		t.Errorf("a miss carries Age %q", first.Header.Get("Age"))
	}
	if got := second.Header.Get("Via"); got != "1.1 verge" {
		t.Errorf("Via = %q, want 1.1 verge", got)
	}
	if o.hits.Load() != 1 {
		t.Fatalf("origin saw %d requests, want 1", o.hits.Load())
	}
	if v := n.metric(t, `verge_http_requests_total{cache="hit",status="200"}`); v != 1 {
		t.Errorf("hit counter = %v, want 1", v)
	}
	if v := n.metric(t, `verge_cache_objects`); v != 1 {
		t.Errorf("verge_cache_objects = %v, want 1", v)
	}
	// HEAD is answered from the same object, without a body.
	head := n.do(t, http.MethodHead, "/page")
	head.expect(t, 200, "Hit from verge")
	if head.body != "" || head.ContentLength != 5 {
		t.Errorf("HEAD: body %q length %d", head.body, head.ContentLength)
	}
	// Other methods pass through and are not stored.
	post := n.do(t, http.MethodPost, "/page")
	post.expect(t, 200, "Miss from verge")
	if o.hits.Load() != 2 || o.lastRequest().Method != http.MethodPost {
		t.Fatalf("POST did not reach the origin")
	}
}

func TestForwardedHeaders(t *testing.T) {
	o := staticOrigin(t, "x")
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
	n.get(t, "/", "X-Forwarded-For", "203.0.113.9", "If-None-Match", `"abc"`, "If-Modified-Since", "Mon, 23 Nov 2026 10:00:00 GMT")
	r := o.lastRequest()
	if got := r.Header.Get("X-Forwarded-For"); got != "203.0.113.9, 127.0.0.1" {
		t.Errorf("X-Forwarded-For = %q", got)
	}
	if got := r.Header.Get("Via"); got != "1.1 verge" {
		t.Errorf("Via = %q", got)
	}
	if r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "" {
		t.Errorf("conditional headers reached the origin on a cacheable request: %v", r.Header)
	}
	// A range request fetches the whole object and answers the range from it.
	for _, name := range []string{"Range", "range"} { // names keep the viewer's case
		r := n.get(t, "/r-"+name, name, "bytes=0-1")
		if got := o.lastRequest().Header.Get("Range"); got != "" || r.StatusCode != 206 {
			t.Errorf("%s = %q at the origin, viewer got %d", name, got, r.StatusCode)
		}
	}
	if r.Host != strings.TrimPrefix(o.URL, "http://") {
		t.Errorf("Host = %q, want the origin's", r.Host)
	}
}

func TestHookOrder(t *testing.T) {
	o := staticOrigin(t, "body", "Cache-Control", "max-age=60")
	rec := &recorder{}
	n := startNode(t, allStagesYAML, o.URL, map[string]hooks.Function{"rec": rec})

	n.get(t, "/a").expect(t, 200, "Miss from verge")
	if got := rec.take(); got != "viewer-request,origin-request,origin-response,viewer-response" {
		t.Fatalf("miss ran %q", got)
	}
	n.get(t, "/a").expect(t, 200, "Hit from verge")
	if got := rec.take(); got != "viewer-request,viewer-response" {
		t.Fatalf("hit ran %q", got)
	}
}

// stageFn runs fn at one stage and passes everything through elsewhere, recording stages.
func stageFn(rec *recorder, stage hooks.Stage, fn func(ev *hooks.Event) (hooks.Result, error)) hooks.Function {
	return hooks.GoFunc(func(ctx context.Context, ev *hooks.Event) (hooks.Result, error) {
		res, err := rec.Invoke(ctx, ev)
		if ev.Stage == stage {
			return fn(ev)
		}
		return res, err
	})
}

func generate(status int, body string) func(*hooks.Event) (hooks.Result, error) {
	return func(*hooks.Event) (hooks.Result, error) {
		return hooks.Result{Response: &hooks.Response{Status: status, Body: []byte(body),
			Headers: hooks.Headers{{Name: "Cache-Control", Value: "max-age=60"}, {Name: "Content-Type", Value: "text/plain"}}}}, nil
	}
}

func TestGeneratedResponses(t *testing.T) {
	tests := []struct {
		name        string
		stage       hooks.Stage
		fn          func(*hooks.Event) (hooks.Result, error)
		firstXCache string
		firstRan    string
		secondCache string
		secondRan   string
		originHits  int64
		body        string
	}{
		{
			name: "viewer-request answers, never cached, viewer-response skipped", stage: hooks.ViewerRequest,
			fn: generate(200, "from viewer-request"), firstXCache: "LambdaGeneratedResponse from verge",
			firstRan: "viewer-request", secondCache: "LambdaGeneratedResponse from verge", secondRan: "viewer-request",
			originHits: 0, body: "from viewer-request",
		},
		{
			name: "origin-request answers, cached, origin-response skipped", stage: hooks.OriginRequest,
			fn: generate(200, "from origin-request"), firstXCache: "LambdaGeneratedResponse from verge",
			firstRan: "viewer-request,origin-request,viewer-response", secondCache: "Hit from verge",
			secondRan: "viewer-request,viewer-response", originHits: 0, body: "from origin-request",
		},
		{
			name: "origin-response rewrites what is cached", stage: hooks.OriginResponse,
			fn: func(ev *hooks.Event) (hooks.Result, error) {
				r := ev.Response.Clone()
				r.Headers.Set("X-Rewritten", "yes")
				r.Body, r.BodySet = []byte("rewritten"), true
				return hooks.Result{Response: r}, nil
			},
			firstXCache: "Miss from verge", firstRan: "viewer-request,origin-request,origin-response,viewer-response",
			secondCache: "Hit from verge", secondRan: "viewer-request,viewer-response", originHits: 1, body: "rewritten",
		},
		{
			name: "viewer-response changes reach the viewer on hits too", stage: hooks.ViewerResponse,
			fn: func(ev *hooks.Event) (hooks.Result, error) {
				r := ev.Response.Clone()
				r.Headers.Add("X-Rewritten", "yes")
				return hooks.Result{Response: r}, nil
			},
			firstXCache: "Miss from verge", firstRan: "viewer-request,origin-request,origin-response,viewer-response",
			secondCache: "Hit from verge", secondRan: "viewer-request,viewer-response", originHits: 1, body: "origin body",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := staticOrigin(t, "origin body", "Cache-Control", "max-age=60")
			rec := &recorder{}
			n := startNode(t, allStagesYAML, o.URL, map[string]hooks.Function{"rec": stageFn(rec, tt.stage, tt.fn)})
			first := n.get(t, "/x")
			first.expect(t, 200, tt.firstXCache)
			if got := rec.take(); got != tt.firstRan {
				t.Errorf("first request ran %q, want %q", got, tt.firstRan)
			}
			second := n.get(t, "/x")
			second.expect(t, 200, tt.secondCache)
			if got := rec.take(); got != tt.secondRan {
				t.Errorf("second request ran %q, want %q", got, tt.secondRan)
			}
			if o.hits.Load() != tt.originHits {
				t.Errorf("origin hits = %d, want %d", o.hits.Load(), tt.originHits)
			}
			if first.body != tt.body || second.body != tt.body {
				t.Errorf("bodies %q, %q; want %q", first.body, second.body, tt.body)
			}
			if tt.stage == hooks.OriginResponse || tt.stage == hooks.ViewerResponse {
				if first.Header.Get("X-Rewritten") != "yes" || second.Header.Get("X-Rewritten") != "yes" {
					t.Errorf("X-Rewritten missing: %v / %v", first.Header, second.Header)
				}
			}
		})
	}
}

func TestFunctionFailures(t *testing.T) {
	modReq := func(f func(r *hooks.Request)) func(*hooks.Event) (hooks.Result, error) {
		return func(ev *hooks.Event) (hooks.Result, error) {
			r := ev.Request.Clone()
			f(r)
			return hooks.Result{Request: r}, nil
		}
	}
	modResp := func(f func(r *hooks.Response)) func(*hooks.Event) (hooks.Result, error) {
		return func(ev *hooks.Event) (hooks.Result, error) {
			r := ev.Response.Clone()
			f(r)
			return hooks.Result{Response: r}, nil
		}
	}
	tests := []struct {
		name   string
		stage  hooks.Stage
		fn     func(*hooks.Event) (hooks.Result, error)
		status int
		xcache string
	}{
		{"disallowed header added", hooks.ViewerRequest, modReq(func(r *hooks.Request) { r.Headers.Add("X-Cache", "x") }), 502, "LambdaValidationError from verge"},
		{"read-only Host changed", hooks.ViewerRequest, modReq(func(r *hooks.Request) { r.Headers.Set("Host", "evil.example") }), 502, "LambdaValidationError from verge"},
		{"read-only Via deleted at origin-response", hooks.OriginResponse, modResp(func(r *hooks.Response) { r.Headers.Del("Via") }), 502, "LambdaValidationError from verge"},
		{"status changed at viewer-response", hooks.ViewerResponse, modResp(func(r *hooks.Response) { r.Status = 404 }), 502, "LambdaValidationError from verge"},
		{"generated status out of range", hooks.ViewerRequest, generate(700, ""), 502, "LambdaValidationError from verge"},
		{"uri without slash", hooks.OriginRequest, modReq(func(r *hooks.Request) { r.URI = "nope" }), 502, "LambdaValidationError from verge"},
		{"no result", hooks.ViewerRequest, func(*hooks.Event) (hooks.Result, error) { return hooks.Result{}, nil }, 502, "LambdaValidationError from verge"},
		{"error returned", hooks.OriginRequest, func(*hooks.Event) (hooks.Result, error) { return hooks.Result{}, errors.New("boom") }, 503, "LambdaExecutionError from verge"},
		{"panic", hooks.ViewerResponse, func(*hooks.Event) (hooks.Result, error) { panic("boom") }, 503, "LambdaExecutionError from verge"},
		{"throttled", hooks.ViewerRequest, func(*hooks.Event) (hooks.Result, error) {
			return hooks.Result{}, hooks.Errorf(hooks.Throttled, "too many")
		}, 503, "LambdaLimitExceeded from verge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := staticOrigin(t, "body", "Cache-Control", "max-age=60")
			rec := &recorder{}
			n := startNode(t, allStagesYAML, o.URL, map[string]hooks.Function{"rec": stageFn(rec, tt.stage, tt.fn)})
			n.get(t, "/f").expect(t, tt.status, tt.xcache)
			// What failed before the cache store left nothing; a viewer-response failure comes
			// after the origin's answer was stored, as in CloudFront.
			stored := n.Store().Purge(cache.Purge{Pattern: "all"})
			if want := tt.stage == hooks.ViewerResponse; (stored > 0) != want {
				t.Errorf("objects stored after the failure: %d (want some: %v)", stored, want)
			}
			// The node keeps serving: the next request fails the same way, no worse.
			n.get(t, "/f").expect(t, tt.status, tt.xcache)
		})
	}
}

func TestFunctionTimeout(t *testing.T) {
	o := staticOrigin(t, "body")
	slow := hooks.GoFunc(func(ctx context.Context, ev *hooks.Event) (hooks.Result, error) {
		<-ctx.Done()
		return hooks.Result{Request: ev.Request.Clone()}, nil
	})
	n := startNode(t, `
origins: [{id: o, url: ORIGIN}]
behaviors:
  - path: "*"
    functions:
      viewer-request: {function: slow, timeout: 50ms}
`, o.URL, map[string]hooks.Function{"slow": slow})
	start := time.Now()
	n.get(t, "/").expect(t, 503, "LambdaLimitExceeded from verge")
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("timeout took %v", d)
	}
	if v := n.metric(t, `verge_function_invocations_total{event="viewer-request",function="slow",outcome="timeout",version="go"}`); v != 1 {
		t.Errorf("invocations{outcome=timeout} = %v, want 1", v)
	}
}

func TestViewerResponseSkippedOnOriginErrors(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "missing", 404) })
	rec := &recorder{}
	n := startNode(t, allStagesYAML, o.URL, map[string]hooks.Function{"rec": rec})
	n.get(t, "/missing").expect(t, 404, "Miss from verge")
	if got := rec.take(); got != "viewer-request,origin-request,origin-response" {
		t.Fatalf("ran %q: origin-response runs for 4xx, viewer-response does not", got)
	}
}

func TestRedirectGeneratedByFunction(t *testing.T) {
	o := staticOrigin(t, "body")
	redirect := hooks.GoFunc(func(_ context.Context, ev *hooks.Event) (hooks.Result, error) {
		if rest, ok := strings.CutPrefix(ev.Request.URI, "/old/"); ok {
			return hooks.Result{Response: &hooks.Response{Status: 301, Headers: hooks.Headers{{Name: "Location", Value: "/" + rest}}}}, nil
		}
		return hooks.Result{Request: ev.Request.Clone()}, nil
	})
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\", functions: {viewer-request: r}}]\n", o.URL,
		map[string]hooks.Function{"r": redirect})
	r := n.get(t, "/old/page")
	r.expect(t, 301, "LambdaGeneratedResponse from verge")
	if r.Header.Get("Location") != "/page" || o.hits.Load() != 0 {
		t.Fatalf("Location %q, origin hits %d", r.Header.Get("Location"), o.hits.Load())
	}
}

func TestViewerRequestRewriteShapesCacheKey(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write([]byte("path " + r.URL.Path))
	})
	spa := hooks.GoFunc(func(_ context.Context, ev *hooks.Event) (hooks.Result, error) {
		r := ev.Request.Clone()
		if !strings.Contains(r.URI, ".") {
			r.URI = "/index.html"
		}
		return hooks.Result{Request: r}, nil
	})
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\", functions: {viewer-request: spa}}]\n", o.URL,
		map[string]hooks.Function{"spa": spa})
	n.get(t, "/app/one").expect(t, 200, "Miss from verge")
	r := n.get(t, "/app/two")
	r.expect(t, 200, "Hit from verge")
	if r.body != "path /index.html" || o.hits.Load() != 1 {
		t.Fatalf("body %q, origin hits %d", r.body, o.hits.Load())
	}
}

func TestOriginRequestSwitchesOrigin(t *testing.T) {
	first := staticOrigin(t, "first")
	second := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("second saw host " + r.Host + " path " + r.URL.Path))
	})
	host, port, _ := strings.Cut(strings.TrimPrefix(second.URL, "http://"), ":")
	switcher := hooks.GoFunc(func(_ context.Context, ev *hooks.Event) (hooks.Result, error) {
		r := ev.Request.Clone()
		if r.Headers.Get("Host") != strings.TrimPrefix(first.URL, "http://") {
			return hooks.Result{}, errors.New("origin-request must see the origin's Host, got " + r.Headers.Get("Host"))
		}
		p, _ := strconv.Atoi(port)
		r.Origin = &hooks.Origin{Custom: &hooks.CustomOrigin{DomainName: host, Port: p, Protocol: "http", Path: "/base"}}
		r.Headers.Set("Host", "second.example")
		return hooks.Result{Request: r}, nil
	})
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\", functions: {origin-request: sw}}]\n", first.URL,
		map[string]hooks.Function{"sw": switcher})
	r := n.get(t, "/x")
	if r.body != "second saw host second.example path /base/x" || first.hits.Load() != 0 {
		t.Fatalf("got %d %q; first origin hits %d", r.StatusCode, r.body, first.hits.Load())
	}
}

func TestOriginRequestPassThroughKeepsConfiguredOrigin(t *testing.T) {
	// An origin-request function that hands back the origin unchanged (with an empty instead of
	// a missing custom header list, as JavaScript code does) keeps the configured origin, its
	// Host header and timeouts, even when they are outside what a function may set.
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("host " + r.Host)) })
	pass := hooks.GoFunc(func(_ context.Context, ev *hooks.Event) (hooks.Result, error) {
		r := ev.Request.Clone()
		r.Origin.Custom.CustomHeaders = hooks.Headers{}
		return hooks.Result{Request: r}, nil
	})
	dropped := hooks.GoFunc(func(_ context.Context, ev *hooks.Event) (hooks.Result, error) {
		r := ev.Request.Clone()
		r.Origin = nil
		return hooks.Result{Request: r}, nil
	})
	for name, fn := range map[string]hooks.Function{"pass": pass, "dropped": dropped} {
		n := startNode(t, "origins: [{id: o, url: ORIGIN, host_header: www.example.com, read_timeout: 90s}]\nbehaviors: [{path: \"*\", functions: {origin-request: f}}]\n", o.URL,
			map[string]hooks.Function{"f": fn})
		r := n.get(t, "/")
		if r.StatusCode != 200 || r.body != "host www.example.com" {
			t.Errorf("%s: %d %q", name, r.StatusCode, r.body)
		}
	}
}

func TestEventsShareOneRequestID(t *testing.T) {
	o := staticOrigin(t, "x")
	var mu sync.Mutex
	ids := map[string]bool{}
	rec := hooks.GoFunc(func(ctx context.Context, ev *hooks.Event) (hooks.Result, error) {
		mu.Lock()
		ids[ev.Config.RequestID] = true
		mu.Unlock()
		return (&recorder{}).Invoke(ctx, ev)
	})
	n := startNode(t, allStagesYAML, o.URL, map[string]hooks.Function{"rec": rec})
	n.get(t, "/")
	if len(ids) != 1 {
		t.Fatalf("the four hooks of one request saw %d request ids", len(ids))
	}
}

// selfTimed is a hooks.SelfTimed function: it records the context it is given and times out
// by itself when asked to.
type selfTimed struct {
	mu       sync.Mutex
	noTimer  bool
	deadline time.Duration
	timeout  bool
}

func (f *selfTimed) StopsAtDeadline() {}

func (f *selfTimed) Invoke(ctx context.Context, ev *hooks.Event) (hooks.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, _ := ctx.Deadline()
	f.noTimer, f.deadline = ctx.Done() == nil, time.Until(d)
	if f.timeout {
		return hooks.Result{}, hooks.Errorf(hooks.Timeout, "%s: timed out", ev.Stage)
	}
	return hooks.Result{Request: ev.Request.Clone()}, nil
}

// TestSelfTimedFunction: a function that enforces its own deadline gets the association's
// deadline without a timer, its timeouts are CloudFront's 503, and its successes are counted.
func TestSelfTimedFunction(t *testing.T) {
	o := staticOrigin(t, "body", "Cache-Control", "no-store")
	f := &selfTimed{}
	n := startNode(t, `
origins: [{id: o, url: ORIGIN}]
behaviors:
  - path: "*"
    functions:
      viewer-request: {function: timed, timeout: 2s}
`, o.URL, map[string]hooks.Function{"timed": f})
	for range 3 {
		n.get(t, "/").expect(t, 200, "Miss from verge")
	}
	f.mu.Lock()
	if !f.noTimer || f.deadline <= 0 || f.deadline > 2*time.Second {
		t.Errorf("context: no timer %v, deadline in %v (want no timer, within 2s)", f.noTimer, f.deadline)
	}
	f.timeout = true
	f.mu.Unlock()
	n.get(t, "/").expect(t, 503, "LambdaLimitExceeded from verge")
	if v := n.metric(t, `verge_function_invocations_total{event="viewer-request",function="timed",outcome="ok",version="go"}`); v != 3 {
		t.Errorf("invocations{outcome=ok} = %v, want 3", v)
	}
	if v := n.metric(t, `verge_function_invocations_total{event="viewer-request",function="timed",outcome="timeout",version="go"}`); v != 1 {
		t.Errorf("invocations{outcome=timeout} = %v, want 1", v)
	}
}
