package edge

import (
	"bufio"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/vergecdn/verge/cache"
	"github.com/vergecdn/verge/hooks"
)

// TestConversions: what a function sees of a request and a response is exactly their header
// lines, in order and case, without the disallowed ones, and its strings survive fasthttp
// reusing its buffers.
func TestConversions(t *testing.T) {
	var req fasthttp.Request
	req.Header.DisableNormalizing()
	req.SetRequestURI("/a/b?x=1&y=2")
	req.Header.SetHost("example.org")
	req.Header.Add("X-Custom", "one")
	req.Header.Add("Connection", "keep-alive") // disallowed
	req.Header.Add("x-custom", "two")
	hr := requestOf(&req, "192.0.2.1")
	want := lines("Host", "example.org", "X-Custom", "one", "x-custom", "two")
	if hr.Method != "GET" || hr.URI != "/a/b" || hr.QueryString != "x=1&y=2" || hr.ClientIP != "192.0.2.1" || !slices.Equal(hr.Headers, want) {
		t.Fatalf("requestOf: %+v", hr)
	}

	var resp fasthttp.Response
	resp.Header.DisableNormalizing()
	resp.SetStatusCode(203)
	resp.Header.Add("X-Amz-Cf-Id", "hidden") // disallowed by prefix
	resp.Header.Add("Cache-Control", "max-age=60")
	resp.Header.Add("ETag", `"v1"`)
	hresp := viewerResponseInto(&hooks.Response{}, &resp)
	if hresp.Status != 203 || hresp.StatusDescription != "Non-Authoritative Information" || hresp.Headers.Get("X-Amz-Cf-Id") != "" ||
		hresp.Headers.Get("cache-control") != "max-age=60" || hresp.Headers.Get("etag") != `"v1"` {
		t.Fatalf("viewerResponseInto: %+v", hresp)
	}
	// fasthttp reuses its buffers: the converted strings must not change with them.
	req.Reset()
	req.Header.Add("X-Custom", "zzz")
	resp.Reset()
	resp.Header.Add("Cache-Control", "no-store!!")
	if !slices.Equal(hr.Headers, want) || hresp.Headers.Get("cache-control") != "max-age=60" {
		t.Fatalf("converted headers changed with fasthttp's buffers: %v %v", hr.Headers, hresp.Headers)
	}
}

// TestApplyHeaders: appended lines are added in place; any other change rewrites the lines,
// and the result is out in both cases.
func TestApplyHeaders(t *testing.T) {
	in := lines("A", "1", "B", "2", "A", "3")
	for _, tc := range []struct {
		name string
		out  hooks.Headers
	}{
		{"unchanged", in},
		{"appended", append(in.Clone(), hooks.Header{Name: "C", Value: "4"}, hooks.Header{Name: "D", Value: "5"})},
		{"changed", lines("A", "1", "B", "x", "A", "3")},
		{"deleted", lines("B", "2")},
		{"reordered", lines("A", "1", "A", "3", "B", "2")},
		{"emptied", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var resp fasthttp.Response
			resp.Header.DisableNormalizing()
			for _, h := range in {
				resp.Header.Add(h.Name, h.Value)
			}
			applyHeaders(&resp.Header, in, tc.out)
			var got hooks.Headers
			for k, v := range resp.Header.All() {
				if n := string(k); n != "Content-Type" && n != "Content-Length" && n != "Server" && n != "Date" {
					got = append(got, hooks.Header{Name: n, Value: string(v)})
				}
			}
			if !slices.Equal(got, tc.out) {
				t.Fatalf("got %v, want %v", got, tc.out)
			}
		})
	}
}

// TestRequestTime: with the real clock a hit takes fasthttp's reading of the request time;
// with a test clock, the test clock's.
func TestRequestTime(t *testing.T) {
	rs, err := New(mustConfig(t), Deps{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { rs.pipe.Load().close(); rs.store.Close() }()
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, nil)
	if got := rs.requestTime(&ctx); !got.Equal(ctx.Time()) {
		t.Fatalf("real clock: %v, want fasthttp's %v", got, ctx.Time())
	}
	at := ctx.Time().Add(-time.Hour)
	fake, err := New(mustConfig(t), Deps{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { fake.pipe.Load().close(); fake.store.Close() }()
	if got := fake.requestTime(&ctx); !got.Equal(at) || fake.since(at) != 0 {
		t.Fatalf("test clock: %v, since %v", got, fake.since(at))
	}
}

func mustConfig(t *testing.T) *Config {
	t.Helper()
	cfg, err := ParseConfig("t.yaml", []byte("origins: [{id: o, url: http://127.0.0.1:9}]\nbehaviors: [{path: \"*\"}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// lines makes header lines from name, value pairs.
func lines(kv ...string) hooks.Headers {
	var h hooks.Headers
	for i := 0; i+1 < len(kv); i += 2 {
		h = append(h, hooks.Header{Name: kv[i], Value: kv[i+1]})
	}
	return h
}

// TestWireHeader: a hit written from the stored object's encoded header is byte for byte the
// one written header by header, and the response stays as the server set it up (names keep
// their case, no default Content-Type) for what is added after it.
func TestWireHeader(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  int
		headers []cache.Header
	}{
		{"typical", 200, storedHeaders("Server", "nginx", "Date", "Thu, 03 Dec 2026 11:49:32 GMT",
			"Content-Type", "text/html", "Content-Length", "5", "ETag", `"x"`, "Cache-Control", "max-age=60", "Via", "1.1 verge")},
		{"no content type, odd case, repeated", 200, storedHeaders("x-lower", "a", "X-UPPER", "b", "x-lower", "c",
			"Vary", "Accept-Encoding", "content-length", "5")},
		{"other status", 404, storedHeaders("Cache-Control", "max-age=10", "Content-Encoding", "gzip")},
		{"nothing", 301, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte("hello")
			render := func(write func(*fasthttp.Response)) string {
				var r fasthttp.Response
				r.Header.DisableNormalizing()
				r.Header.SetNoDefaultContentType(true)
				write(&r)
				r.Header.SetBytesV("Age", []byte("7"))
				r.Header.Set("x-added", "later")
				return r.String()
			}
			want := render(func(r *fasthttp.Response) { writeStored(r, tc.status, tc.headers, body) })
			wire, size := wireHeader(new(fasthttp.ResponseHeader), tc.status, tc.headers)
			if size < wireOverhead {
				t.Fatalf("wire size %d", size)
			}
			obj := &cache.Object{Status: tc.status, Headers: tc.headers, Body: body, Wire: wire, WireSize: size}
			// Twice: the encoded header is shared by every hit and must not change.
			for range 2 {
				if got := render(func(r *fasthttp.Response) { writeObject(r, obj) }); got != want {
					t.Fatalf("from the encoded header:\n%q\nheader by header:\n%q", got, want)
				}
			}
		})
	}
}

// storedHeaders makes header lines from name, value pairs.
func storedHeaders(pairs ...string) []cache.Header {
	var hs []cache.Header
	for i := 0; i+1 < len(pairs); i += 2 {
		hs = append(hs, cache.Header{Name: pairs[i], Value: pairs[i+1]})
	}
	return hs
}

// FuzzWireHeader: a stored header line with a valid name and a value without control bytes (what
// hooks validation lets a function set, and what an origin can send), next to any Date,
// encodes for hits without panicking into a response that parses back.
func FuzzWireHeader(f *testing.F) {
	f.Add("X-Test", "value", "Mon, 23 Nov 2026 11:59:00 GMT")
	f.Add("Bad:Name", "line\r\nInjected: yes", "tomorrow")
	f.Add("", "", "")
	undated, err := undatedHeader()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name, value, date string) {
		if !hooks.ValidHeaderName(name) || strings.ContainsFunc(value+date, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
			t.Skip()
		}
		hs := []cache.Header{{Name: name, Value: value}, {Name: "Date", Value: date}}
		wire, _ := wireHeader(undated, 200, hs)
		var r fasthttp.Response
		writeObject(&r, &cache.Object{Status: 200, Headers: hs, Body: []byte("hi"), Wire: wire})
		var back fasthttp.Response
		if err := back.Read(bufio.NewReader(strings.NewReader(r.String()))); err != nil {
			t.Fatalf("%q does not parse back: %v", r.String(), err)
		}
		if back.StatusCode() != 200 || string(back.Body()) != "hi" {
			t.Fatalf("parsed back as %d %q", back.StatusCode(), back.Body())
		}
	})
}
