package edge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/internal/poll"
	"github.com/vergecdn/verge/origin"
)

func TestCollapsedMisses(t *testing.T) {
	tests := []struct {
		name       string
		cc         string
		originHits int64
	}{
		{"cacheable: one origin fetch", "max-age=60", 1},
		{"private: every viewer fetches its own", "private", 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gate := make(chan struct{})
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				<-gate
				w.Header().Set("Cache-Control", tt.cc)
				io.WriteString(w, "slow body")
			})
			n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
			var wg sync.WaitGroup
			replies := make([]reply, 20)
			for i := range replies {
				wg.Add(1)
				go func() {
					defer wg.Done()
					replies[i] = n.get(t, "/same")
				}()
			}
			// Let the requests pile up behind the first, then let the origin answer.
			waitCollapsed(t, len(replies))
			close(gate)
			wg.Wait()
			for i, r := range replies {
				if r.StatusCode != 200 || r.body != "slow body" {
					t.Fatalf("reply %d: %d %q", i, r.StatusCode, r.body)
				}
			}
			if got := o.hits.Load(); got != tt.originHits {
				t.Fatalf("origin hits = %d, want %d", got, tt.originHits)
			}
		})
	}
}

// TestUncacheableKeysAreNotCollapsed: once a key's answer proved uncacheable, concurrent misses
// for it reach the origin side by side instead of waiting for one another.
func TestUncacheableKeysAreNotCollapsed(t *testing.T) {
	var arrived atomic.Int64
	both := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "private")
		if r.Header.Get("X-Wave") == "" {
			io.WriteString(w, "first")
			return
		}
		if arrived.Add(1) == 2 {
			close(both)
		}
		select {
		case <-both:
			io.WriteString(w, "together")
		case <-time.After(3 * time.Second):
			io.WriteString(w, "alone")
		}
	})
	// X-Wave reaches the origin but is not in the key, so every request below shares one key.
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\", origin_request: {headers: all}}]\n", o.URL, nil)
	if r := n.get(t, "/api"); r.body != "first" {
		t.Fatalf("first: %q", r.body)
	}
	var wg sync.WaitGroup
	bodies := make([]string, 2)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bodies[i] = n.get(t, "/api", "X-Wave", "1").body
		}()
	}
	wg.Wait()
	if bodies[0] != "together" || bodies[1] != "together" {
		t.Fatalf("bodies %q: the second wave was collapsed behind one request", bodies)
	}
}

func TestCollapsedFailureCountedOnce(t *testing.T) {
	gate := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		<-gate
		panic(http.ErrAbortHandler) // the connection drops: a reset
	})
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
	var wg sync.WaitGroup
	codes := make([]int, 10)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = n.get(t, "/down").StatusCode
		}()
	}
	// Every viewer must have joined the one flight before it fails: a viewer that arrived
	// after would start a second fetch, rightly counted a second time.
	waitCollapsed(t, len(codes))
	close(gate)
	wg.Wait()
	for _, c := range codes {
		if c != 502 {
			t.Fatalf("statuses %v, want all 502", codes)
		}
	}
	// One collapsed fetch failed (the client may have retried it once on a fresh connection).
	if got := n.metric(t, `verge_origin_errors_total{kind="connection reset",origin="o"}`); got != 1 {
		t.Fatalf("one failed fetch counted %v times", got)
	}
}

// leaderFailer is a Go function for collapsing tests: at viewer-request it counts the requests
// that arrived; at origin-request it fails the first request (a function error of that
// request's own), once released, and passes the others.
type leaderFailer struct {
	arrived atomic.Int64
	calls   atomic.Int64
	release chan struct{}
}

func (f *leaderFailer) Invoke(_ context.Context, ev *hooks.Event) (hooks.Result, error) {
	if ev.Stage == hooks.ViewerRequest {
		f.arrived.Add(1)
		return hooks.Result{Request: ev.Request.Clone()}, nil
	}
	if f.calls.Add(1) == 1 {
		<-f.release
		return hooks.Result{}, errors.New("this request's own failure")
	}
	return hooks.Result{Request: ev.Request.Clone()}, nil
}

// TestCollapsedFollowersOfAFailedLeader: a leader that failed for a reason of its own (its
// function's error) does not fail its followers; they fetch for themselves.
func TestCollapsedFollowersOfAFailedLeader(t *testing.T) {
	o := staticOrigin(t, "body", "Cache-Control", "max-age=60")
	f := &leaderFailer{release: make(chan struct{})}
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\", functions: {viewer-request: f, origin-request: f}}]\n",
		o.URL, map[string]hooks.Function{"f": f})
	const viewers = 5
	replies := make([]reply, viewers)
	var wg sync.WaitGroup
	for i := range replies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = n.get(t, "/f")
		}()
	}
	waitCollapsed(t, viewers) // the leader held in its origin-request function, the others behind it
	close(f.release)
	wg.Wait()
	failed := 0
	for _, r := range replies {
		switch {
		case r.StatusCode == 200 && r.body == "body":
		case r.StatusCode >= 500:
			failed++
		default:
			t.Fatalf("reply %d %q", r.StatusCode, r.body)
		}
	}
	if failed != 1 {
		t.Fatalf("%d viewers failed, want only the leader", failed)
	}
}

// TestVariantsCollapseApart: once the cache knows a key varies, each variant has its own
// leader, so one variant's viewers do not wait for another's fetch and then fetch again.
func TestVariantsCollapseApart(t *testing.T) {
	gate := make(chan struct{})
	var gated atomic.Bool
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if gated.Load() {
			<-gate
		}
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Vary", "Accept-Language")
		io.WriteString(w, "lang "+r.Header.Get("Accept-Language"))
	})
	// Accept-Language reaches the origin unkeyed: only Vary tells the variants apart.
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\", origin_request: {headers: all}}]\n", o.URL, nil)
	n.get(t, "/v", "Accept-Language", "da").expect(t, 200, "Miss from verge")
	gated.Store(true)
	var wg sync.WaitGroup
	for _, lang := range []string{"en", "en", "en", "fr", "fr", "fr"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := n.get(t, "/v", "Accept-Language", lang); r.body != "lang "+lang {
				t.Errorf("%s viewer got %q", lang, r.body)
			}
		}()
	}
	// Both variants' leaders reach the origin side by side.
	deadline := time.Now().Add(3 * time.Second)
	for o.hits.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := o.hits.Load(); got != 3 {
		close(gate)
		wg.Wait()
		t.Fatalf("origin saw %d requests while the first variant's was waiting, want 3", got)
	}
	close(gate)
	wg.Wait()
	if got := o.hits.Load(); got != 3 {
		t.Fatalf("origin hits %d, want 3 (one per variant)", got)
	}
}

// Followers share only the origin's own failures: a leader's request loop, or the "too large
// to cut a range from" of a leader that asked for a range, is not the follower's.
func TestSharedFailure(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&origin.Error{Kind: origin.Unreachable}, true},
		{&origin.Error{Kind: origin.Timeout}, true},
		{&originStatusError{status: 503}, true},
		{&origin.Error{Kind: origin.Loop}, false},
		{&origin.Error{Kind: origin.TooLarge}, false},
		{errors.New("a function failed"), false},
	}
	for _, tt := range tests {
		if got := sharedFailure(tt.err); got != tt.want {
			t.Errorf("sharedFailure(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// waitCollapsed waits until want requests are in a collapsed miss (Server.miss's flight): the
// leader fetching and its followers waiting for it. A request that reaches the flight only
// after its leader is done starts a flight of its own, so a test of what followers share lets
// the leader finish only once they are all in. The goroutine dump is the one place a request
// waiting in singleflight shows.
func waitCollapsed(t *testing.T, want int) {
	t.Helper()
	buf := make([]byte, 1<<20)
	collapsed := func() int {
		n := runtime.Stack(buf, true)
		for n == len(buf) {
			buf = make([]byte, 2*len(buf))
			n = runtime.Stack(buf, true)
		}
		got := 0
		for _, g := range strings.Split(string(buf[:n]), "\n\n") {
			if strings.Contains(g, "singleflight.(*Group).Do(") && strings.Contains(g, "edge.(*Server).miss(") {
				got++
			}
		}
		return got
	}
	poll.Until(t, 20*time.Second, fmt.Sprintf("%d requests in one collapsed miss", want), func() bool { return collapsed() >= want })
}
