package origin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// fetch runs one Fetch with a background context and fails on error.
func fetch(t *testing.T, o *Origin, req *fasthttp.Request, v Viewer) *fasthttp.Response {
	t.Helper()
	resp := &fasthttp.Response{}
	if err := o.Fetch(context.Background(), req, resp, v); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	return resp
}

// only returns the single request srv received.
func only(t *testing.T, srv *rawServer) rawRequest {
	t.Helper()
	reqs := srv.requests()
	if len(reqs) != 1 {
		t.Fatalf("origin got %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

func TestFetchTarget(t *testing.T) {
	for _, tc := range []struct {
		name, base, method, uri, body string
		wantLine                      string
	}{
		{"root", "", "GET", "/", "", "GET / HTTP/1.1"},
		{"path and query", "", "GET", "/a/b?x=1&y=%20", "", "GET /a/b?x=1&y=%20 HTTP/1.1"},
		{"base path", "/base", "GET", "/a?x=1", "", "GET /base/a?x=1 HTTP/1.1"},
		{"base path trailing slash", "/base/", "GET", "/a", "", "GET /base/a HTTP/1.1"},
		{"base path root", "/v1/site", "GET", "/", "", "GET /v1/site/ HTTP/1.1"},
		{"path kept verbatim", "", "GET", "/a//b/../c%2F", "", "GET /a//b/../c%2F HTTP/1.1"},
		{"post body", "/api", "POST", "/items", `{"a":1}`, "POST /api/items HTTP/1.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRawServer(t, answer(200, "ok"))
			o := newOrigin(t, Config{URL: srv.url() + tc.base})
			req := newRequest(tc.method, tc.uri)
			req.SetBodyString(tc.body)
			resp := fetch(t, o, req, Viewer{})
			got := only(t, srv)
			if got.Line != tc.wantLine {
				t.Errorf("request line %q, want %q", got.Line, tc.wantLine)
			}
			if string(got.Body) != tc.body {
				t.Errorf("body %q, want %q", got.Body, tc.body)
			}
			if resp.StatusCode() != 200 || string(resp.Body()) != "ok" {
				t.Errorf("response %d %q", resp.StatusCode(), resp.Body())
			}
			if string(req.RequestURI()) != tc.uri {
				t.Errorf("caller's request URI changed to %q", req.RequestURI())
			}
		})
	}
}

func TestFetchStripsHopByHopFromRequest(t *testing.T) {
	srv := newRawServer(t, answer(200, "ok"))
	o := newOrigin(t, Config{URL: srv.url()})
	req := newRequest("GET", "/",
		"Connection: keep-alive, X-Secret",
		"X-Secret: named in Connection",
		"Keep-Alive: timeout=5",
		"Proxy-Connection: keep-alive",
		"Proxy-Authorization: Basic Zm9vOmJhcg==",
		"TE: trailers",
		"Upgrade: websocket",
		"X-End-To-End: kept",
	)
	fetch(t, o, req, Viewer{})
	got := only(t, srv)
	for _, h := range got.Headers {
		if IsHopByHop(h[0]) || strings.EqualFold(h[0], "X-Secret") {
			t.Errorf("hop-by-hop field forwarded: %s: %s", h[0], h[1])
		}
	}
	if vs := got.values("X-End-To-End"); !slices.Equal(vs, []string{"kept"}) {
		t.Errorf("X-End-To-End = %q", vs)
	}
	if len(req.Header.Peek("X-Secret")) == 0 || len(req.Header.Peek("Upgrade")) == 0 {
		t.Error("Fetch modified the caller's request")
	}
}

func TestFetchResponseHeaders(t *testing.T) {
	chunked := "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n"
	srv := newRawServer(t, answer(200, chunked,
		"x-lower-case: a",
		"X-MiXeD-CaSe: b",
		"Connection: keep-alive, X-Hop",
		"X-Hop: named in Connection",
		"Keep-Alive: timeout=5",
		"Proxy-Authenticate: Basic",
		"Upgrade: h2c",
		"Transfer-Encoding: chunked",
		"Trailer: X-Checksum",
		"Cache-Control: max-age=60",
	))
	o := newOrigin(t, Config{URL: srv.url()})
	for _, async := range []bool{false, true} {
		t.Run(fmt.Sprintf("async=%v", async), func(t *testing.T) {
			checkResponseHeaders(t, fetchCtx(t, o, async, newRequest("GET", "/")))
		})
	}
}

// fetchCtx fetches with a context that cannot end (Fetch runs the exchange
// in place) or with a deadline (Fetch runs it on a goroutine).
func fetchCtx(t *testing.T, o *Origin, async bool, req *fasthttp.Request) *fasthttp.Response {
	t.Helper()
	ctx := context.Background()
	if async {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Minute)
		defer cancel()
	}
	resp := &fasthttp.Response{}
	if err := o.Fetch(ctx, req, resp, Viewer{}); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	return resp
}

func checkResponseHeaders(t *testing.T, resp *fasthttp.Response) {
	t.Helper()
	if string(resp.Body()) != "hello world" {
		t.Errorf("body %q", resp.Body())
	}
	if resp.Header.ContentLength() != len("hello world") {
		t.Errorf("Content-Length %d", resp.Header.ContentLength())
	}
	var names []string
	for k := range resp.Header.All() {
		names = append(names, string(k))
		if IsHopByHop(string(k)) || strings.EqualFold(string(k), "X-Hop") {
			t.Errorf("hop-by-hop field kept: %s", k)
		}
	}
	for _, want := range []string{"x-lower-case", "X-MiXeD-CaSe", "Cache-Control"} {
		if !slices.Contains(names, want) {
			t.Errorf("field %q missing or case changed; have %q", want, names)
		}
	}
}

func TestFetchDoesNotFollowRedirects(t *testing.T) {
	srv := newRawServer(t, answer(302, "", "Location: /elsewhere"))
	o := newOrigin(t, Config{URL: srv.url()})
	resp := fetch(t, o, newRequest("GET", "/start"), Viewer{})
	if resp.StatusCode() != 302 || string(resp.Header.Peek("Location")) != "/elsewhere" {
		t.Errorf("got %d Location %q, want the 302 itself", resp.StatusCode(), resp.Header.Peek("Location"))
	}
	only(t, srv)
}

func TestFetchKeepAlive(t *testing.T) {
	url, ln := newFastServer(t, nil, func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("ok") })
	o := newOrigin(t, Config{URL: url})
	for i := 0; i < 10; i++ {
		if resp := fetchCtx(t, o, i%2 == 1, newRequest("GET", "/")); string(resp.Body()) != "ok" {
			t.Fatalf("body %q", resp.Body())
		}
	}
	if n := ln.accepted.Load(); n != 1 {
		t.Errorf("origin accepted %d connections for 10 fetches, want 1", n)
	}
	if st := o.Stats(); st.Conns != 1 || st.Idle != 1 || st.Pending != 0 {
		t.Errorf("Stats %+v, want 1 idle connection", st)
	}
}

func TestFetchHTTPS(t *testing.T) {
	cert := selfSigned(t)
	url, _ := newFastServer(t, cert, func(ctx *fasthttp.RequestCtx) {
		ctx.SetBodyString(string(ctx.Host()) + " " + string(ctx.RequestURI()))
	})
	o := newOrigin(t, Config{URL: url + "/base", TLSInsecureSkipVerify: true})
	resp := fetch(t, o, newRequest("GET", "/x"), Viewer{})
	if want := strings.TrimPrefix(url, "https://") + " /base/x"; string(resp.Body()) != want {
		t.Errorf("body %q, want %q", resp.Body(), want)
	}

	strict := newOrigin(t, Config{URL: url})
	err := strict.Fetch(context.Background(), newRequest("GET", "/"), &fasthttp.Response{}, Viewer{})
	var oe *Error
	if !errors.As(err, &oe) || oe.Kind != Unreachable {
		t.Errorf("unknown certificate: err %v, want Unreachable", err)
	}
}
