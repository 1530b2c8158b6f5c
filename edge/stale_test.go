package edge

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vergecdn/verge/internal/syncbuf"
)

// flakyOrigin is a scripted origin that serves "body N" (N counts the bodies served) with the
// Cache-Control given, until it is told to fail: with a status, by hanging past the node's
// read timeout, or by going away altogether.
type flakyOrigin struct {
	*testOrigin
	cc      string
	bodies  atomic.Int64
	status  atomic.Int64  // 0: answer normally
	hang    atomic.Bool   // wait for release before answering
	release chan struct{} // closed at cleanup
}

func newFlakyOrigin(t *testing.T, cc string) *flakyOrigin {
	fo := &flakyOrigin{cc: cc, release: make(chan struct{})}
	fo.testOrigin = newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if fo.hang.Load() {
			select {
			case <-fo.release:
			case <-r.Context().Done():
				return
			}
		}
		if st := fo.status.Load(); st != 0 {
			w.WriteHeader(int(st))
			io.WriteString(w, "origin error")
			return
		}
		w.Header().Set("Cache-Control", fo.cc)
		io.WriteString(w, "body "+string(rune('0'+fo.bodies.Add(1))))
	})
	t.Cleanup(func() { close(fo.release) })
	return fo
}

// TestServeStale is RFC 5861 and RFC 9111 4.2.4: when a stale object may answer, and when not.
func TestServeStale(t *testing.T) {
	tests := []struct {
		name     string
		cc       string
		behavior string // cache policy settings
		fail     func(o *flakyOrigin)
		advance  time.Duration
		status   int
		xcache   string
		body     string
	}{
		{"RFC 5861 4: stale-if-error on a 5xx", "max-age=60, stale-if-error=300", "",
			func(o *flakyOrigin) { o.status.Store(503) }, 120 * time.Second, 200, "StaleHit", "body 1"},
		{"RFC 5861 4: stale-if-error on a refused connection", "max-age=60, stale-if-error=300", "",
			func(o *flakyOrigin) { o.Close() }, 120 * time.Second, 200, "StaleHit", "body 1"},
		{"RFC 5861 4: stale-if-error on a timeout", "max-age=60, stale-if-error=300", "",
			func(o *flakyOrigin) { o.hang.Store(true) }, 120 * time.Second, 200, "StaleHit", "body 1"},
		{"RFC 5861 4: not past the stale-if-error window", "max-age=60, stale-if-error=30", "",
			func(o *flakyOrigin) { o.status.Store(503) }, 120 * time.Second, 503, "Miss", "origin error"},
		{"behavior stale_if_error on a 5xx", "max-age=60", "stale_if_error: 1h",
			func(o *flakyOrigin) { o.status.Store(500) }, 30 * time.Minute, 200, "StaleHit", "body 1"},
		{"behavior stale_if_error on a refused connection", "max-age=60", "stale_if_error: 1h",
			func(o *flakyOrigin) { o.Close() }, 30 * time.Minute, 200, "StaleHit", "body 1"},
		{"RFC 9111 4.2.4: must-revalidate forbids serving stale", "max-age=60, must-revalidate, stale-if-error=300", "stale_if_error: 1h",
			func(o *flakyOrigin) { o.status.Store(503) }, 120 * time.Second, 503, "Miss", "origin error"},
		{"RFC 9111 4.2.4: proxy-revalidate forbids serving stale", "max-age=60, proxy-revalidate", "stale_if_error: 1h",
			func(o *flakyOrigin) { o.Close() }, 120 * time.Second, 502, "Error", ""},
		{"RFC 9111 5.2.2.10: s-maxage forbids serving stale", "s-maxage=60, stale-if-error=300", "stale_if_error: 1h",
			func(o *flakyOrigin) { o.status.Store(503) }, 120 * time.Second, 503, "Miss", "origin error"},
		{"RFC 5861 3: stale-while-revalidate answers at once", "max-age=60, stale-while-revalidate=60", "",
			func(o *flakyOrigin) {}, 90 * time.Second, 200, "StaleHit", "body 1"},
		{"RFC 5861 3: not past the stale-while-revalidate window", "max-age=60, stale-while-revalidate=60", "",
			func(o *flakyOrigin) {}, 130 * time.Second, 200, "Miss", "body 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newFlakyOrigin(t, tt.cc)
			n := startNode(t, "origins: [{id: o, url: ORIGIN, connect_timeout: 1s, read_timeout: 300ms}]\n"+
				"behaviors: [{path: \"*\", cache: {"+tt.behavior+"}}]\n", o.URL, nil)
			n.get(t, "/s").expect(t, 200, "Miss from verge")
			tt.fail(o)
			n.clock.advance(tt.advance)
			r := n.get(t, "/s")
			r.expect(t, tt.status, tt.xcache+" from verge")
			if tt.body != "" && r.body != tt.body {
				t.Fatalf("body %q, want %q", r.body, tt.body)
			}
		})
	}
}

// TestStaleWhileRevalidateInBackground: the stale answers go out at once while one background
// fetch, however many viewers came, refreshes the object for those after it.
func TestStaleWhileRevalidateInBackground(t *testing.T) {
	o := newFlakyOrigin(t, "max-age=60, stale-while-revalidate=60")
	// A request that reached the origin while it hangs fails after read_timeout, not never.
	n := startNode(t, "origins: [{id: o, url: ORIGIN, read_timeout: 5s}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
	n.get(t, "/w").expect(t, 200, "Miss from verge")
	n.get(t, "/w").expect(t, 200, "Hit from verge") // stored
	n.clock.advance(90 * time.Second)
	o.hang.Store(true) // the background fetch waits until all stale answers are out
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := n.get(t, "/w")
			if r.Header.Get("X-Cache") != "StaleHit from verge" || r.body != "body 1" {
				t.Errorf("got %q %q", r.Header.Get("X-Cache"), r.body)
			}
		}()
	}
	wg.Wait()
	// The origin hangs until the background fetch has reached it: on a loaded machine it may
	// get there only after every stale answer is out.
	select { // the one background fetch goes on
	case o.release <- struct{}{}:
	case <-time.After(10 * time.Second):
		t.Fatal("no background revalidation reached the origin")
	}
	o.hang.Store(false)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := n.get(t, "/w")
		if r.Header.Get("X-Cache") == "Hit from verge" {
			if r.body != "body 2" {
				t.Fatalf("refreshed body %q", r.body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never refreshed: %q", r.Header.Get("X-Cache"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := o.hits.Load(); got != 2 {
		t.Fatalf("origin received %d requests, want 2 (one background revalidation)", got)
	}
}

// TestStaleAnswerLogged: the access log says an answer was stale, as X-Cache does, and the
// operational log's warning about the origin gives the status the viewer got.
func TestStaleAnswerLogged(t *testing.T) {
	o := newFlakyOrigin(t, "max-age=60, stale-if-error=300")
	cfg, err := ParseConfig("log.yaml", []byte("listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\norigins: [{id: o, url: "+o.URL+"}]\nbehaviors: [{path: \"*\"}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	var buf, ops syncbuf.Buffer
	s, err := New(cfg, Deps{AccessLog: &buf, Logger: slog.New(slog.NewJSONHandler(&ops, nil)), Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	get := func() {
		resp, err := http.Get("http://" + s.Addr() + "/l")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	get()
	o.status.Store(503)
	clk.advance(2 * time.Minute)
	get()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.Shutdown(ctx) // flushes the buffered access log
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], `"cache":"StaleHit"`) || !strings.Contains(lines[1], `"status":200`) {
		t.Fatalf("access log:\n%s", buf.String())
	}
	if !strings.Contains(ops.String(), `"msg":"origin failed; served stale","path":"/l","status":200,"error":"origin answered 503"`) {
		t.Fatalf("operational log:\n%s", ops.String())
	}
}

// A background refresh (RFC 5861 stale-while-revalidate) asks the origin as the viewer did: an
// object an HTTPS viewer got is refreshed with X-Forwarded-Proto: https and stored under the
// same key; an answer it does not store gives its origin connection back.
func TestBackgroundRefreshAsTheViewer(t *testing.T) {
	ca := newTestCA(t)
	c, k := ca.issue(t, t.TempDir(), "a", "a.example")
	var n atomic.Int64
	var storable atomic.Bool
	storable.Store(true)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if storable.Load() {
			w.Header().Set("Cache-Control", "max-age=60, stale-while-revalidate=600")
		} else {
			w.Header().Set("Cache-Control", "no-store")
		}
		fmt.Fprintf(w, "proto=%s #%d", r.Header.Get("X-Forwarded-Proto"), n.Add(1))
	})
	// Two connections to the origin: a refresh that kept one would soon leave none.
	nd := startNode(t, "tls:\n  listen: 127.0.0.1:0\n  certificates: [{cert: "+c+", key: "+k+"}]\n"+
		"origins: [{id: o, url: ORIGIN, max_conns: 2, connect_timeout: 1s}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
	waitFresh := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			_, body := httpsGet(t, nd, ca.pool, "a.example", "/p")
			if strings.HasPrefix(body, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("over HTTPS: %q, want it to start %q", body, want)
			}
		}
	}
	httpsGet(t, nd, ca.pool, "a.example", "/p")
	nd.clock.advance(2 * time.Minute)
	httpsGet(t, nd, ca.pool, "a.example", "/p") // stale: answered at once, refreshed behind
	waitFresh("proto=https #2")

	// Refreshes whose answers are not stored, more of them than the origin has connections.
	storable.Store(false)
	for range 6 {
		nd.clock.advance(2 * time.Minute)
		httpsGet(t, nd, ca.pool, "a.example", "/p")
		for deadline := time.Now().Add(5 * time.Second); nd.revalidatingAny() && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
	}
	if r := nd.do(t, "GET", "/other"); r.StatusCode != 200 {
		t.Fatalf("a miss after the refreshes: %d %q (origin connections leaked?)", r.StatusCode, r.body)
	}
}

// revalidatingAny reports whether a background revalidation is running.
func (n *node) revalidatingAny() bool {
	busy := false
	n.revalidating.Range(func(any, any) bool { busy = true; return false })
	return busy
}
