package edge

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestNeverCached(t *testing.T) {
	for _, cc := range []string{"no-store", "private, max-age=60", "no-cache", "max-age=0"} {
		t.Run(cc, func(t *testing.T) {
			o := staticOrigin(t, "secret", "Cache-Control", cc)
			n := startNode(t, `
origins: [{id: o, url: ORIGIN}]
behaviors: [{path: "*", cache: {default_ttl: 1h}}]
`, o.URL, nil)
			n.get(t, "/").expect(t, 200, "Miss from verge")
			n.get(t, "/").expect(t, 200, "Miss from verge")
			if o.hits.Load() != 2 {
				t.Fatalf("origin hits = %d, want 2", o.hits.Load())
			}
		})
	}
}

func TestSetCookieNotShared(t *testing.T) {
	o := staticOrigin(t, "hi", "Cache-Control", "public, max-age=60", "Set-Cookie", "session=alice")
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
	first := n.get(t, "/")
	if first.Header.Get("Set-Cookie") != "session=alice" {
		t.Fatalf("the viewer who caused the fetch lost its cookie: %v", first.Header)
	}
	second := n.get(t, "/")
	second.expect(t, 200, "Hit from verge")
	if second.Header.Get("Set-Cookie") != "" {
		t.Fatalf("a cached response handed out another viewer's cookie")
	}
}

func TestTTLBounds(t *testing.T) {
	tests := []struct {
		name     string
		policy   string
		cc       string
		freshFor time.Duration // fresh just before, stale just after
	}{
		{"origin max-age", "{}", "max-age=30", 30 * time.Second},
		{"s-maxage wins", "{}", "max-age=30, s-maxage=90", 90 * time.Second},
		{"max_ttl caps", "{max_ttl: 10s}", "max-age=3600", 10 * time.Second},
		{"min_ttl floors", "{min_ttl: 20s, default_ttl: 20s}", "max-age=5", 20 * time.Second},
		{"default_ttl without headers", "{default_ttl: 15}", "", 15 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o *testOrigin
			if tt.cc == "" {
				o = staticOrigin(t, "x")
			} else {
				o = staticOrigin(t, "x", "Cache-Control", tt.cc)
			}
			n := startNode(t, fmt.Sprintf("origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\", cache: %s}]\n", tt.policy), o.URL, nil)
			n.get(t, "/").expect(t, 200, "Miss from verge")
			n.clock.advance(tt.freshFor - time.Second)
			n.get(t, "/").expect(t, 200, "Hit from verge")
			n.clock.advance(2 * time.Second)
			n.get(t, "/").expect(t, 200, "Miss from verge")
		})
	}
}

func TestNoDefaultTTLMeansNoCaching(t *testing.T) {
	o := staticOrigin(t, "x") // no Cache-Control, no Expires: the quick start's default TTL 0
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
	n.get(t, "/").expect(t, 200, "Miss from verge")
	n.get(t, "/").expect(t, 200, "Miss from verge")
}

func TestCacheKeyPolicy(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		a, b   []string // path, then header pairs
		shared bool     // the second request hits the first one's object
	}{
		{"query ignored by default", "{}", []string{"/p?x=1"}, []string{"/p?x=2"}, true},
		{"query all", "{query_strings: all}", []string{"/p?x=1"}, []string{"/p?x=2"}, false},
		{"query all, same", "{query_strings: all}", []string{"/p?x=1"}, []string{"/p?x=1"}, true},
		{"query allow-list ignores others", "{query_strings: {allow: [v]}}", []string{"/p?v=1&utm=a"}, []string{"/p?utm=b&v=1"}, true},
		{"query allow-list keys on listed", "{query_strings: {allow: [v]}}", []string{"/p?v=1"}, []string{"/p?v=2"}, false},
		{"header in key", "{headers: [Accept-Language]}", []string{"/p", "Accept-Language", "en"}, []string{"/p", "accept-language", "fr"}, false},
		{"header in key, same", "{headers: [Accept-Language]}", []string{"/p", "Accept-Language", "en"}, []string{"/p", "Accept-Language", "en"}, true},
		{"header not in key", "{}", []string{"/p", "Accept-Language", "en"}, []string{"/p", "Accept-Language", "fr"}, true},
		{"cookie in key", "{cookies: [ab]}", []string{"/p", "Cookie", "ab=a; x=1"}, []string{"/p", "Cookie", "ab=b; x=1"}, false},
		{"other cookies ignored", "{cookies: [ab]}", []string{"/p", "Cookie", "ab=a; x=1"}, []string{"/p", "Cookie", "x=2; ab=a"}, true},
		{"host in key", "{}", []string{"/p", "Host", "a.example"}, []string{"/p", "Host", "b.example"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := staticOrigin(t, "x", "Cache-Control", "max-age=60")
			n := startNode(t, fmt.Sprintf("origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\", cache: %s}]\n", tt.policy), o.URL, nil)
			n.get(t, tt.a[0], tt.a[1:]...).expect(t, 200, "Miss from verge")
			want := "Miss from verge"
			if tt.shared {
				want = "Hit from verge"
			}
			n.get(t, tt.b[0], tt.b[1:]...).expect(t, 200, want)
		})
	}
}

func TestVaryAcceptEncoding(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Vary", "Accept-Encoding")
		if r.Header.Get("Accept-Encoding") == "gzip" {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write([]byte("gzipped"))
			return
		}
		w.Write([]byte("plain"))
	})
	// Accept-Encoding reaches the origin unkeyed only as a plain HTTP cache forwards it: then
	// the origin's Vary keeps the variants apart.
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\", origin_request: {headers: all}}]\n", o.URL, nil)
	n.client.Transport = &http.Transport{DisableCompression: true}
	n.get(t, "/v", "Accept-Encoding", "gzip").expect(t, 200, "Miss from verge")
	plain := n.get(t, "/v", "Accept-Encoding", "identity")
	plain.expect(t, 200, "Miss from verge")
	if plain.body != "plain" {
		t.Fatalf("identity viewer got %q", plain.body)
	}
	gz := n.get(t, "/v", "Accept-Encoding", "gzip")
	gz.expect(t, 200, "Hit from verge")
	if gz.body != "gzipped" {
		t.Fatalf("gzip viewer got %q", gz.body)
	}
}

func TestBehaviorsRouteToOrigins(t *testing.T) {
	api := staticOrigin(t, "api", "Cache-Control", "no-store")
	web := staticOrigin(t, "web", "Cache-Control", "max-age=60")
	yaml := fmt.Sprintf(`
origins:
  - {id: api, url: %s}
  - {id: web, url: %s}
behaviors:
  - {path: /api/*, origin: api}
  - {path: "*", origin: web}
`, api.URL, web.URL)
	n := startNode(t, yaml, "", nil)
	if r := n.get(t, "/api/users"); r.body != "api" {
		t.Fatalf("/api/users went to %q", r.body)
	}
	if r := n.get(t, "/index.html"); r.body != "web" {
		t.Fatalf("/index.html went to %q", r.body)
	}
}
