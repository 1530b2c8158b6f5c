package main

import (
	"net/http"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// TestPurgeThroughTheCLI: `verge cache purge --soft` marks objects stale, so the next request
// revalidates (a 304 from the origin, RefreshHit); `--host` purges one site's objects only.
func TestPurgeThroughTheCLI(t *testing.T) {
	var conditional atomic.Int64
	origin := httpOriginFunc(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			conditional.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write([]byte("page"))
	})
	listen, admin := freeAddr(t), freeAddr(t)
	p := startVerge(t, "serve", "--origin", origin, "--listen", listen, "--admin", admin, "--data", t.TempDir())
	fetch := func(host string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+listen+"/page", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("X-Cache")
	}
	purge := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(verge, append([]string{"cache", "purge", "--admin", admin}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("cache purge %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	for _, h := range []string{"a.example", "b.example"} {
		fetch(h)
		if got := fetch(h); got != "Hit from verge" {
			t.Fatalf("%s: %q, want a hit", h, got)
		}
	}
	if out := purge("/page", "--soft", "--host", "a.example"); !strings.Contains(out, "marked stale /page of a.example: 1 object") {
		t.Errorf("soft purge said %q", out)
	}
	if got := fetch("a.example"); got != "RefreshHit from verge" || conditional.Load() != 1 {
		t.Errorf("a.example after a soft purge: %q after %d conditional requests, want RefreshHit after 1", got, conditional.Load())
	}
	if got := fetch("b.example"); got != "Hit from verge" {
		t.Errorf("b.example, not purged: %q", got)
	}
	if out := purge("all", "--host", "B.example."); !strings.Contains(out, "purged all of B.example.: 1 object") {
		t.Errorf("host purge said %q", out)
	}
	if got := fetch("b.example"); got != "Miss from verge" {
		t.Errorf("b.example after its purge: %q", got)
	}
	if got := fetch("a.example"); got != "Hit from verge" {
		t.Errorf("a.example, not purged the second time: %q", got)
	}
	p.stop(t, syscall.SIGTERM)
}
