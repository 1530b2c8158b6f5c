package edge

import (
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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
			deadline := time.Now().Add(5 * time.Second)
			for o.hits.Load() < 1 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond)
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
	for o.hits.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
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
