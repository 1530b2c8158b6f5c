package edge

import (
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vergecdn/verge/cache"
)

// TestUnsafeMethodInvalidates is RFC 9111 4.4: a successful unsafe request invalidates its
// URI and the same-origin URIs in its Location and Content-Location.
func TestUnsafeMethodInvalidates(t *testing.T) {
	tests := []struct {
		name        string
		method      string
		path        string // the unsafe request's
		status      int    // the origin's answer to it
		location    string // Location it sends
		contentLoc  string // Content-Location it sends
		invalidated []string
		kept        []string
	}{
		{"POST invalidates its URI", "POST", "/a", 200, "", "", []string{"/a"}, []string{"/b"}},
		{"PUT invalidates its URI", "PUT", "/a", 204, "", "", []string{"/a"}, []string{"/b"}},
		{"DELETE invalidates its URI", "DELETE", "/a", 200, "", "", []string{"/a"}, nil},
		{"an unknown method invalidates its URI", "PURGEX", "/a", 200, "", "", []string{"/a"}, nil},
		{"a redirect is a success", "POST", "/a", 303, "", "", []string{"/a"}, nil},
		{"Location on the same site", "POST", "/a", 201, "/b", "", []string{"/a", "/b"}, nil},
		{"an absolute Location on the same site", "POST", "/a", 201, "http://site.example/b", "", []string{"/a", "/b"}, nil},
		{"Content-Location, relative", "POST", "/dir/a", 200, "", "b", []string{"/dir/a", "/dir/b"}, nil},
		{"not another site's Location", "POST", "/a", 201, "http://other.example/b", "", []string{"/a"}, []string{"/b"}},
		{"not after an error", "POST", "/a", 500, "/b", "", nil, []string{"/a", "/b"}},
		{"not after a client error", "DELETE", "/a", 404, "", "", nil, []string{"/a"}},
		{"not by a safe method", "OPTIONS", "/a", 200, "", "", nil, []string{"/a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var version atomic.Int64
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodGet {
					if tt.location != "" {
						w.Header().Set("Location", tt.location)
					}
					if tt.contentLoc != "" {
						w.Header().Set("Content-Location", tt.contentLoc)
					}
					version.Add(1)
					w.WriteHeader(tt.status)
					return
				}
				w.Header().Set("Cache-Control", "max-age=600")
				io.WriteString(w, "v"+strconv.FormatInt(version.Load(), 10))
			})
			n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
			host := []string{"Host", "site.example"}
			paths := append(append([]string{}, tt.invalidated...), tt.kept...)
			for _, p := range paths {
				n.get(t, p, host...).expect(t, 200, "Miss from verge")
			}
			n.do(t, tt.method, tt.path, host...)
			for _, p := range tt.invalidated {
				if r := n.get(t, p, host...); r.Header.Get("X-Cache") != "Miss from verge" || r.body != "v1" {
					t.Errorf("%s: %q %q, want a fresh fetch", p, r.Header.Get("X-Cache"), r.body)
				}
			}
			for _, p := range tt.kept {
				if r := n.get(t, p, host...); r.Header.Get("X-Cache") != "Hit from verge" || r.body != "v0" {
					t.Errorf("%s: %q %q, want the stored object", p, r.Header.Get("X-Cache"), r.body)
				}
			}
		})
	}
}

// TestHeadFromStoredGet is RFC 9110 9.3.2: a HEAD is answered from the stored GET, with its
// headers and no body, without asking the origin.
func TestHeadFromStoredGet(t *testing.T) {
	o := staticOrigin(t, "hello", "Cache-Control", "max-age=60", "ETag", `"e"`)
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
	n.get(t, "/h").expect(t, 200, "Miss from verge")
	r := n.do(t, http.MethodHead, "/h")
	r.expect(t, 200, "Hit from verge")
	if r.body != "" || r.ContentLength != 5 || r.Header.Get("ETag") != `"e"` || o.hits.Load() != 1 {
		t.Fatalf("HEAD: body %q, length %d, ETag %q, origin hits %d", r.body, r.ContentLength, r.Header.Get("ETag"), o.hits.Load())
	}
}

// TestCDNCacheControl is RFC 9213: the edge keeps an object for CDN-Cache-Control's lifetime
// and does not pass the field on to viewers.
func TestCDNCacheControl(t *testing.T) {
	o := staticOrigin(t, "x", "Cache-Control", "no-store", "CDN-Cache-Control", "max-age=600")
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
	for _, want := range []string{"Miss", "Hit"} {
		r := n.get(t, "/c")
		r.expect(t, 200, want+" from verge")
		if r.Header.Get("CDN-Cache-Control") != "" || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("%s: viewer got CDN-Cache-Control %q, Cache-Control %q", want, r.Header.Get("CDN-Cache-Control"), r.Header.Get("Cache-Control"))
		}
	}
}

// TestPurgeTagsStayWithTheCache: an origin's Surrogate-Key and Cache-Tag name the object for
// "tag:" purges and never reach a viewer, on a miss, a hit or a refresh; a 304 that names no
// tags keeps the object's.
func TestPurgeTagsStayWithTheCache(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Surrogate-Key", "news front")
		w.Header().Set("Cache-Tag", "sport")
		io.WriteString(w, "page")
	})
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
	for i, want := range []string{"Miss", "Hit", "RefreshHit"} {
		if want == "RefreshHit" {
			n.clock.advance(61 * time.Second)
		}
		r := n.get(t, "/t")
		r.expect(t, 200, want+" from verge")
		if r.Header.Get("Surrogate-Key") != "" || r.Header.Get("Cache-Tag") != "" || r.body != "page" {
			t.Fatalf("request %d (%s): Surrogate-Key %q, Cache-Tag %q, body %q", i, want,
				r.Header.Get("Surrogate-Key"), r.Header.Get("Cache-Tag"), r.body)
		}
	}
	for _, tag := range []string{"tag:front", "tag:sport"} {
		if got := n.Store().Purge(cache.Purge{Pattern: tag}); got != 1 {
			t.Fatalf("purge %s after the refresh removed %d objects, want 1", tag, got)
		}
		n.get(t, "/t").expect(t, 200, "Miss from verge")
	}
}
