package edge

import (
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vergecdn/verge/cache"
)

// versionedOrigin is a scripted origin for revalidation: it serves version v of every path
// with max-age=60 and the validators asked for, and answers a matching conditional request
// with a 304 that carries max-age=120 and X-Refreshed. It records the conditional headers of
// the last request.
type versionedOrigin struct {
	*testOrigin
	v          atomic.Int64
	etag, date bool // send ETag, Last-Modified
}

const lastModified = "Mon, 23 Nov 2026 10:00:00 GMT"

func newVersionedOrigin(t *testing.T, etag, date bool) *versionedOrigin {
	vo := &versionedOrigin{etag: etag, date: date}
	vo.v.Store(1)
	vo.testOrigin = newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		tag := `"v` + string(rune('0'+vo.v.Load())) + `"`
		if vo.etag && r.Header.Get("If-None-Match") == tag ||
			!vo.etag && vo.date && vo.v.Load() == 1 && r.Header.Get("If-Modified-Since") == lastModified {
			w.Header().Set("Cache-Control", "max-age=120")
			w.Header().Set("X-Refreshed", "yes")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Cache-Control", "max-age=60")
		if vo.etag {
			w.Header().Set("ETag", tag)
		}
		if vo.date {
			w.Header().Set("Last-Modified", lastModified)
		}
		io.WriteString(w, "body "+tag)
	})
	return vo
}

// TestRevalidation is RFC 9111 4.3: a stale object with a validator is kept and revalidated.
func TestRevalidation(t *testing.T) {
	type req struct {
		advance time.Duration
		headers []string
		status  int
		xcache  string
		body    string
		inm     string // If-None-Match the origin must have received ("-": no request)
		ims     string
	}
	tests := []struct {
		name       string
		etag, date bool
		bump       int // origin version changes before this request (0: never)
		reqs       []req
	}{
		{"RFC 9111 4.3.1: If-None-Match from ETag; 4.3.4: the 304 refreshes", true, false, 0, []req{
			{status: 200, xcache: "Miss", body: `body "v1"`},
			{advance: 61 * time.Second, status: 200, xcache: "RefreshHit", body: `body "v1"`, inm: `"v1"`},
			{advance: 100 * time.Second, status: 200, xcache: "Hit", body: `body "v1"`, inm: "-"},
		}},
		{"RFC 9111 4.3.1: If-Modified-Since from Last-Modified", false, true, 0, []req{
			{status: 200, xcache: "Miss"},
			{advance: 61 * time.Second, status: 200, xcache: "RefreshHit", body: `body "v1"`, ims: lastModified},
		}},
		{"RFC 9111 4.3.3: a 200 replaces the stored object", true, false, 2, []req{
			{status: 200, xcache: "Miss", body: `body "v1"`},
			{advance: 61 * time.Second, status: 200, xcache: "Miss", body: `body "v2"`, inm: `"v1"`},
			{status: 200, xcache: "Hit", body: `body "v2"`, inm: "-"},
		}},
		{"RFC 9111 4.3.1: without a validator the object is fetched again", false, false, 0, []req{
			{status: 200, xcache: "Miss"},
			{advance: 61 * time.Second, status: 200, xcache: "Miss", inm: "", ims: ""},
		}},
		{"RFC 9110 13.2.2: a viewer's conditional request on a refreshed object gets a 304", true, false, 0, []req{
			{status: 200, xcache: "Miss"},
			{advance: 61 * time.Second, headers: []string{"If-None-Match", `"v1"`}, status: 304, xcache: "RefreshHit", inm: `"v1"`},
			{headers: []string{"If-None-Match", `"v0"`}, status: 200, xcache: "Hit", body: `body "v1"`, inm: "-"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newVersionedOrigin(t, tt.etag, tt.date)
			n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
			for i, rq := range tt.reqs {
				if i == tt.bump-1 {
					o.v.Add(1)
				}
				n.clock.advance(rq.advance)
				before := o.hits.Load()
				r := n.get(t, "/r", rq.headers...)
				r.expect(t, rq.status, rq.xcache+" from verge")
				if rq.body != "" && r.body != rq.body {
					t.Errorf("request %d: body %q, want %q", i, r.body, rq.body)
				}
				if rq.inm == "-" {
					if o.hits.Load() != before {
						t.Errorf("request %d reached the origin", i)
					}
					continue
				}
				last := o.lastRequest()
				if got := last.Header.Get("If-None-Match"); got != rq.inm {
					t.Errorf("request %d: origin got If-None-Match %q, want %q", i, got, rq.inm)
				}
				if got := last.Header.Get("If-Modified-Since"); got != rq.ims {
					t.Errorf("request %d: origin got If-Modified-Since %q, want %q", i, got, rq.ims)
				}
			}
		})
	}
}

// TestRefreshUpdatesStoredHeaders is RFC 9111 4.3.4: the 304's fields replace the stored
// ones on the refreshed object, which keeps its body.
func TestRefreshUpdatesStoredHeaders(t *testing.T) {
	o := newVersionedOrigin(t, true, false)
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
	n.get(t, "/u").expect(t, 200, "Miss from verge")
	n.clock.advance(61 * time.Second)
	n.get(t, "/u").expect(t, 200, "RefreshHit from verge")
	r := n.get(t, "/u")
	r.expect(t, 200, "Hit from verge")
	if r.Header.Get("X-Refreshed") != "yes" || r.Header.Get("Cache-Control") != "max-age=120" || r.Header.Get("ETag") != `"v1"` ||
		r.body != `body "v1"` || r.ContentLength != int64(len(r.body)) {
		t.Fatalf("refreshed object: %v, body %q", r.Header, r.body)
	}
}

// TestRevalidationCollapsed: stale requests arriving together send one conditional request.
func TestRevalidationCollapsed(t *testing.T) {
	o := newVersionedOrigin(t, true, false)
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
	n.get(t, "/c").expect(t, 200, "Miss from verge")
	n.clock.advance(61 * time.Second)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := n.get(t, "/c"); r.StatusCode != 200 || r.body != `body "v1"` {
				t.Errorf("got %d %q", r.StatusCode, r.body)
			}
		}()
	}
	wg.Wait()
	if got := o.hits.Load(); got > 2 {
		// One revalidation; a request that arrives after it finished is a fresh hit.
		t.Fatalf("origin served %d requests, want 2", got)
	}
}

// TestSoftPurgeRevalidates: a soft-purged object is revalidated by the next request, which a
// 304 answers without the body crossing again.
func TestSoftPurgeRevalidates(t *testing.T) {
	o := newVersionedOrigin(t, true, false)
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
	n.get(t, "/p").expect(t, 200, "Miss from verge")
	n.get(t, "/p").expect(t, 200, "Hit from verge")
	if got := n.Store().Purge(cache.Purge{Pattern: "/p", Soft: true}); got != 1 {
		t.Fatalf("SoftPurge marked %d objects", got)
	}
	r := n.get(t, "/p")
	r.expect(t, 200, "RefreshHit from verge")
	if r.body != `body "v1"` || o.lastRequest().Header.Get("If-None-Match") != `"v1"` {
		t.Fatalf("body %q, origin If-None-Match %q", r.body, o.lastRequest().Header.Get("If-None-Match"))
	}
	n.get(t, "/p").expect(t, 200, "Hit from verge")
}
