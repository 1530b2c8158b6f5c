package edge

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vergecdn/verge/hooks"
)

// TestRFC9111Section3StoresBodylessResponses is RFC 9111 section 3: a response without a body
// (204 No Content) is stored and reused like any other when its headers allow it.
func TestRFC9111Section3StoresBodylessResponses(t *testing.T) {
	tests := []struct {
		name   string
		status int
	}{
		{"204 with max-age", http.StatusNoContent},
		{"200 with max-age", http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=3600")
				w.WriteHeader(tc.status)
			})
			n := startQuickStart(t, o.URL)
			n.get(t, "/a").expect(t, tc.status, "Miss from verge")
			n.get(t, "/a").expect(t, tc.status, "Hit from verge")
			if got := o.hits.Load(); got != 1 {
				t.Fatalf("origin saw %d requests, want 1", got)
			}
		})
	}
}

// TestRFC9110Section6_6_1DateIsTheOrigins is RFC 9110 6.6.1 with RFC 9111 4.2.3: a stored
// response is served with the Date the origin gave it (its Age counts from there), and one
// that came without a Date is stored with the time it arrived. Every answer carries exactly
// one Date; those the edge makes itself (a miss, a 304 or a range from the cache) the time
// they are made.
func TestRFC9110Section6_6_1DateIsTheOrigins(t *testing.T) {
	const (
		originDate  = "Mon, 23 Nov 2026 11:59:00 GMT" // a minute before the test clock
		arrivalDate = "Mon, 23 Nov 2026 12:00:00 GMT" // the test clock
	)
	dropDate := hooks.GoFunc(func(_ context.Context, ev *hooks.Event) (hooks.Result, error) {
		resp := ev.Response.Clone()
		resp.Headers.Del("Date")
		return hooks.Result{Response: resp}, nil
	})
	tests := []struct {
		name     string
		date     string // the origin's Date; "" sends none
		fn       hooks.Function
		headers  []string
		status   int
		wantDate string // of the second answer; "" : any one Date
	}{
		{"a hit keeps the origin's Date", originDate, nil, nil, http.StatusOK, originDate},
		{"no Date from the origin: the arrival time is stored", "", nil, nil, http.StatusOK, arrivalDate},
		{"an origin-response function removed it: the arrival time", originDate, dropDate, nil, http.StatusOK, arrivalDate},
		{"a 304 from the cache has one Date", originDate, nil, []string{"If-None-Match", `"x"`}, http.StatusNotModified, ""},
		{"a range from the cache has one Date", originDate, nil, []string{"Range", "bytes=0-1"}, http.StatusPartialContent, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=3600")
				w.Header().Set("ETag", `"x"`)
				if tc.date == "" {
					w.Header()["Date"] = nil // net/http adds one unless told not to
				} else {
					w.Header().Set("Date", tc.date)
				}
				io.WriteString(w, "hello")
			})
			var n *node
			if tc.fn == nil {
				n = startQuickStart(t, o.URL)
			} else {
				n = startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\", functions: {origin-response: f}}]\n",
					o.URL, map[string]hooks.Function{"f": tc.fn})
			}
			first := n.get(t, "/a")
			first.expect(t, http.StatusOK, "Miss from verge")
			second := n.get(t, "/a", tc.headers...)
			second.expect(t, tc.status, "Hit from verge")
			for i, r := range []reply{first, second} {
				got := r.Header.Values("Date")
				if len(got) != 1 || i == 1 && tc.wantDate != "" && got[0] != tc.wantDate {
					t.Errorf("answer %d: Date %q, want one, %q", i+1, got, tc.wantDate)
				}
			}
		})
	}
}

// TestRFC9111Section4_2_2QuickStartHeuristics is RFC 9111 4.2.2 as operators meet it: the
// quick start reuses a response that has only a Last-Modified, for a tenth of its age; a
// configured behavior does so only with heuristic_freshness.
func TestRFC9111Section4_2_2QuickStartHeuristics(t *testing.T) {
	tests := []struct {
		name       string
		quickStart bool
		yaml       string
		advance    time.Duration
		want       string // X-Cache of the second request
	}{
		{"quick start, fresh", true, "", 2 * time.Hour, "Hit from verge"},
		{"quick start, past a tenth", true, "", 3 * time.Hour, "Miss from verge"},
		{"behavior without heuristic_freshness", false, "", time.Minute, "Miss from verge"},
		{"behavior with heuristic_freshness", false, "    heuristic_freshness: true\n", time.Minute, "Hit from verge"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				// Modified a day before the test clock: fresh for 2h24m.
				w.Header().Set("Date", "Mon, 23 Nov 2026 12:00:00 GMT")
				w.Header().Set("Last-Modified", "Sun, 22 Nov 2026 12:00:00 GMT")
				io.WriteString(w, "hello")
			})
			var n *node
			if tc.quickStart {
				n = startQuickStart(t, o.URL)
			} else {
				n = startNode(t, "origins:\n  - id: o\n    url: ORIGIN\nbehaviors:\n  - path: \"*\"\n    origin: o\n    cache:\n"+
					"      query_strings: all\n"+strings.ReplaceAll(tc.yaml, "    ", "      "), o.URL, nil)
			}
			n.get(t, "/a").expect(t, http.StatusOK, "Miss from verge")
			n.clock.advance(tc.advance)
			n.get(t, "/a").expect(t, http.StatusOK, tc.want)
		})
	}
}

// TestRFC9111Section5_2_2_4NoCacheRevalidates is RFC 9111 5.2.2.4 end to end: a no-cache
// response with an ETag is kept, and each later request revalidates it with If-None-Match; a
// 304 answers the viewer from the cache (RefreshHit), a 200 replaces it.
func TestRFC9111Section5_2_2_4NoCacheRevalidates(t *testing.T) {
	tests := []struct {
		name    string
		changed bool // the origin has a new version for the second request
		xcache  string
		body    string
	}{
		{"unchanged: 304, served from the cache", false, "RefreshHit from verge", "v1"},
		{"changed: the new version", true, "Miss from verge", "v2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var version atomic.Int64
			version.Store(1)
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				tag := `"v` + strconv.FormatInt(version.Load(), 10) + `"`
				w.Header().Set("Cache-Control", "no-cache")
				w.Header().Set("ETag", tag)
				if r.Header.Get("If-None-Match") == tag {
					w.WriteHeader(http.StatusNotModified)
					return
				}
				io.WriteString(w, "v"+strconv.FormatInt(version.Load(), 10))
			})
			n := startQuickStart(t, o.URL)
			n.get(t, "/a").expect(t, http.StatusOK, "Miss from verge")
			if tc.changed {
				version.Store(2)
			}
			r := n.get(t, "/a")
			r.expect(t, http.StatusOK, tc.xcache)
			if r.body != tc.body {
				t.Fatalf("body %q, want %q", r.body, tc.body)
			}
			if inm := o.lastRequest().Header.Get("If-None-Match"); inm != `"v1"` {
				t.Fatalf("second origin request: If-None-Match %q, want \"v1\"", inm)
			}
			if got := o.hits.Load(); got != 2 {
				t.Fatalf("origin saw %d requests, want 2", got)
			}
		})
	}
}
