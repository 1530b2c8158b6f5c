package origin

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

func TestFetchHost(t *testing.T) {
	for _, tc := range []struct {
		name        string
		cfg         Config
		viewerHost  string
		wantHost    string // "" means the server's host:port
		wantDefault bool
	}{
		{name: "default is the URL host", viewerHost: "viewer.example", wantDefault: true},
		{name: "override", cfg: Config{HostHeader: "origin.example"}, viewerHost: "viewer.example", wantHost: "origin.example"},
		{name: "forward viewer host", cfg: Config{ForwardHost: true}, viewerHost: "viewer.example", wantHost: "viewer.example"},
		{name: "forward wins over override", cfg: Config{ForwardHost: true, HostHeader: "origin.example"}, viewerHost: "viewer.example", wantHost: "viewer.example"},
		{name: "forward without viewer host", cfg: Config{ForwardHost: true}, wantDefault: true},
		{name: "forwarded host with user info", cfg: Config{ForwardHost: true}, viewerHost: "u:pw@viewer.example",
			wantHost: "u:pw@viewer.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRawServer(t, answer(200, "ok"))
			cfg := tc.cfg
			cfg.URL = srv.url()
			o := newOrigin(t, cfg)
			fetch(t, o, newRequest("GET", "/"), Viewer{Host: tc.viewerHost})
			want := tc.wantHost
			if tc.wantDefault {
				want = srv.ln.Addr().String()
			}
			got := only(t, srv)
			if hosts := got.values("Host"); !slices.Equal(hosts, []string{want}) {
				t.Errorf("Host %q, want [%q]", hosts, want)
			}
			if auth := got.values("Authorization"); len(auth) > 0 {
				t.Errorf("Authorization %q appeared", auth)
			}
		})
	}
}

func TestFetchForwardingHeaders(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fields   []string
		lower    bool // the viewer's request keeps header names as received
		viewer   Viewer
		via      string
		want     map[string][]string
		wantNone []string
	}{
		{
			name:   "first hop",
			viewer: Viewer{IP: "192.0.2.1", Proto: "https", ProtoMajor: 1, ProtoMinor: 1},
			want: map[string][]string{"X-Forwarded-For": {"192.0.2.1"}, "Via": {"1.1 verge"},
				"X-Forwarded-Proto": {"https"}},
		},
		{
			name:   "appends to existing",
			fields: []string{"X-Forwarded-For: 198.51.100.7", "Via: 1.0 fred", "X-Forwarded-Proto: http"},
			viewer: Viewer{IP: "192.0.2.1", Proto: "https", ProtoMajor: 2},
			want: map[string][]string{"X-Forwarded-For": {"198.51.100.7, 192.0.2.1"},
				"Via": {"1.0 fred, 2 verge"}, "X-Forwarded-Proto": {"https"}},
		},
		{
			name:   "lower-case names in a non-normalizing request",
			fields: []string{"x-forwarded-for: 198.51.100.7", "via: 1.1 other-cdn"},
			lower:  true,
			viewer: Viewer{IP: "192.0.2.1", ProtoMajor: 1, ProtoMinor: 0},
			want: map[string][]string{"X-Forwarded-For": {"198.51.100.7, 192.0.2.1"},
				"Via": {"1.1 other-cdn, 1.0 verge"}},
		},
		{
			name:     "nothing known about the viewer",
			via:      "edge-7",
			want:     map[string][]string{"Via": {"1.1 edge-7"}},
			wantNone: []string{"X-Forwarded-For", "X-Forwarded-Proto"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRawServer(t, answer(200, "ok"))
			o := newOrigin(t, Config{URL: srv.url(), ViaName: tc.via})
			req := newRequest("GET", "/")
			if tc.lower {
				req.Header.DisableNormalizing()
			}
			for _, f := range tc.fields {
				k, v, _ := strings.Cut(f, ": ")
				req.Header.Add(k, v)
			}
			fetch(t, o, req, tc.viewer)
			got := only(t, srv)
			for name, want := range tc.want {
				if vs := got.values(name); !slices.Equal(vs, want) {
					t.Errorf("%s = %q, want %q", name, vs, want)
				}
			}
			for _, name := range tc.wantNone {
				if vs := got.values(name); len(vs) > 0 {
					t.Errorf("%s = %q, want none", name, vs)
				}
			}
		})
	}
}

func TestFetchLoop(t *testing.T) {
	srv := newRawServer(t, answer(200, "ok"))
	o := newOrigin(t, Config{URL: srv.url(), ViaName: "edge-1"})
	for _, tc := range []struct {
		via      string
		wantLoop bool
	}{
		{"1.1 edge-1", true},
		{"1.0 fred, 1.1 EDGE-1 (Verge)", true},
		{"1.1 edge-10, 1.1 edge-2", false},
		{"", false},
	} {
		req := newRequest("GET", "/")
		if tc.via != "" {
			req.Header.Set("Via", tc.via)
		}
		err := o.Fetch(context.Background(), req, &fasthttp.Response{}, Viewer{})
		var oe *Error
		if isLoop := errors.As(err, &oe) && oe.Kind == Loop; isLoop != tc.wantLoop {
			t.Errorf("Via %q: err %v, want loop=%v", tc.via, err, tc.wantLoop)
		}
		if tc.wantLoop && oe.Status() != 502 {
			t.Errorf("loop status %d", oe.Status())
		}
	}
	if n := len(srv.requests()); n != 2 {
		t.Errorf("origin got %d requests, want 2 (loops must not reach it)", n)
	}
}
