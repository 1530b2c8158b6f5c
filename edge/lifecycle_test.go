package edge

import (
	"context"
	"io"
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
