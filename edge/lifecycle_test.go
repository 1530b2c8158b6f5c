package edge

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestReload(t *testing.T) {
	a := staticOrigin(t, "from a")
	b := staticOrigin(t, "from b")
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", a.URL, nil)
	if r := n.get(t, "/"); r.body != "from a" {
		t.Fatalf("before reload: %q", r.body)
	}
	bad, err := ParseConfig("bad.yaml", []byte("origins: [{id: o, url: "+b.URL+"}]\nbehaviors: [{path: \"*\", functions: {viewer-request: missing}}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Reload(bad); err == nil || !strings.Contains(err.Error(), `unknown function "missing"`) {
		t.Fatalf("Reload(bad) = %v", err)
	}
	if r := n.get(t, "/"); r.body != "from a" {
		t.Fatalf("a failed reload changed the running configuration: %q", r.body)
	}
	good, err := ParseConfig("good.yaml", []byte("listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\norigins: [{id: o, url: "+b.URL+"}]\nbehaviors: [{path: \"*\"}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Reload(good); err != nil {
		t.Fatal(err)
	}
	if r := n.get(t, "/"); r.body != "from b" {
		t.Fatalf("after reload: %q", r.body)
	}
}

func TestGracefulShutdown(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
		io.WriteString(w, "finished")
	})
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
	var wg sync.WaitGroup
	var inflight reply
	wg.Add(1)
	go func() {
		defer wg.Done()
		inflight = n.get(t, "/slow")
	}()
	<-started
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- n.Shutdown(ctx)
	}()
	// While draining, readiness says so and the in-flight request is still running.
	deadline := time.Now().Add(5 * time.Second)
	for !n.draining.Load() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned (%v) before the in-flight request finished", err)
	default:
	}
	close(release)
	wg.Wait()
	if inflight.StatusCode != 200 || inflight.body != "finished" {
		t.Fatalf("in-flight request: %d %q", inflight.StatusCode, inflight.body)
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func TestAdminEndpoints(t *testing.T) {
	o := staticOrigin(t, "x", "Cache-Control", "max-age=60")
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
	n.get(t, "/")
	n.get(t, "/")
	admin := func(path string) (int, string) {
		resp, err := http.Get("http://" + n.AdminAddr() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := admin("/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	if code, _ := admin("/readyz"); code != 200 {
		t.Errorf("/readyz = %d", code)
	}
	code, body := admin("/metrics")
	for _, want := range []string{
		`verge_http_requests_total{cache="hit",status="200"} 1`,
		`verge_http_requests_total{cache="miss",status="200"} 1`,
		`verge_origin_request_duration_seconds_count{origin="o"} 1`,
		`verge_cache_objects 1`,
		`verge_cache_bytes `,
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// The viewer's timeouts hold on the node's own listener: an idle keep-alive connection and a
// request whose headers never finish are cut, while an origin slower than read_timeout
// still gets its answer to the viewer.
func TestViewerTimeouts(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(900 * time.Millisecond)
		}
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, "body")
	})
	n := startNode(t, "server: {read_timeout: 300ms, write_timeout: 5s, idle_timeout: 400ms}\n"+
		"origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.DialTimeout("tcp", n.Addr(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(10 * time.Second))
		return c, bufio.NewReader(c)
	}
	get := func(c net.Conn, br *bufio.Reader, path string) *http.Response {
		t.Helper()
		if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: test\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "body" {
			t.Fatalf("GET %s: %d %q", path, resp.StatusCode, b)
		}
		return resp
	}

	t.Run("slow origin", func(t *testing.T) {
		c, br := dial()
		get(c, br, "/slow")
		get(c, br, "/fast") // the connection is still good
	})
	t.Run("idle", func(t *testing.T) {
		c, br := dial()
		// The idle time starts once the answer is written, which is after the request went
		// out: timed from before the request, the close cannot come sooner than the timeout,
		// however late this goroutine runs after reading the answer.
		start := time.Now()
		get(c, br, "/fast")
		if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
			t.Fatalf("after the idle timeout: %q, %v; want a clean close", rest, err)
		}
		if took := time.Since(start); took < 400*time.Millisecond {
			t.Fatalf("closed %v after the request, before idle_timeout (400ms)", took)
		}
	})
	t.Run("slow headers", func(t *testing.T) {
		c, br := dial()
		io.WriteString(c, "GET /fast HTTP/1.1\r\nHost: test\r\nX-Slow: ")
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				if _, err := io.WriteString(c, "a"); err != nil {
					return
				}
			}
		}()
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("want an error answer before the close, got %v", err)
		}
		if resp.StatusCode != 408 || !resp.Close || resp.Header.Get("X-Cache") != "Error from verge" {
			t.Fatalf("got %d (close %v, X-Cache %q), want 408 Request Timeout, a close and X-Cache",
				resp.StatusCode, resp.Close, resp.Header.Get("X-Cache"))
		}
	})
}
