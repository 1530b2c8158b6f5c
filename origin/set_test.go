package origin

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/valyala/fasthttp"
)

// hostPort splits a test server URL into host and port.
func hostPort(t *testing.T, url string) (string, int) {
	t.Helper()
	host, port, err := net.SplitHostPort(url[strings.Index(url, "//")+2:])
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	return host, p
}

func TestSetGet(t *testing.T) {
	s := NewSet(Config{ReadTimeout: 7e9, HostHeader: "ignored.example", ID: "ignored"}, 8)
	t.Cleanup(s.Close)

	a, err := s.Get("http", "Example.COM", 0, "/base/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.Get("HTTP", "example.com", 80, "/base")
	if a != b {
		t.Error("same origin spelled differently gave two Origins")
	}
	if c, _ := s.Get("http", "example.com", 80, "/other"); c == a {
		t.Error("different base paths share an Origin")
	}
	if c, _ := s.Get("https", "example.com", 0, "/base"); c == a {
		t.Error("different schemes share an Origin")
	}
	cfg := a.Config()
	if cfg.URL != "http://example.com:80/base" || cfg.HostHeader != "example.com" || cfg.ID != "example.com" ||
		cfg.ReadTimeout != 7e9 {
		t.Errorf("config %+v", cfg)
	}
	if s.Len() != 3 {
		t.Errorf("Len %d, want 3", s.Len())
	}

	for _, bad := range []struct {
		scheme, host string
		port         int
		path         string
	}{
		{"ftp", "example.com", 0, ""},
		{"http", "", 0, ""},
		{"http", "a/b", 0, ""},
		{"http", "example.com", 70000, ""},
		{"http", "example.com", 0, "no-slash"},
	} {
		if _, err := s.Get(bad.scheme, bad.host, bad.port, bad.path); err == nil || !strings.HasPrefix(err.Error(), "origin: ") {
			t.Errorf("Get(%q, %q, %d, %q) err = %v, want an \"origin: \" error", bad.scheme, bad.host, bad.port, bad.path, err)
		}
	}
	if s.Len() != 3 {
		t.Errorf("failed Gets changed Len to %d", s.Len())
	}
}

func TestSetEvictsLeastRecentlyUsed(t *testing.T) {
	url, _ := newFastServer(t, nil, func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("ok") })
	host, port := hostPort(t, url)
	s := NewSet(Config{}, 2)
	t.Cleanup(s.Close)

	a, _ := s.Get("http", host, port, "/a")
	b, _ := s.Get("http", host, port, "/b")
	fetch(t, a, newRequest("GET", "/"), Viewer{})
	fetch(t, b, newRequest("GET", "/"), Viewer{})
	if again, _ := s.Get("http", host, port, "/a"); again != a { // a is now the most recent
		t.Fatal("a was not kept")
	}
	if a.Stats().Conns != 1 || b.Stats().Conns != 1 {
		t.Fatalf("before eviction: a %+v, b %+v", a.Stats(), b.Stats())
	}

	c, _ := s.Get("http", host, port, "/c") // evicts b, the least recently used
	if s.Len() != 2 {
		t.Errorf("Len %d, want 2", s.Len())
	}
	if st := b.Stats(); st.Conns != 0 {
		t.Errorf("evicted origin still holds connections: %+v", st)
	}
	if a.Stats().Conns != 1 {
		t.Errorf("kept origin lost its connection: %+v", a.Stats())
	}
	// An evicted Origin still works for a caller that holds it, without keep-alive.
	fetch(t, b, newRequest("GET", "/"), Viewer{})
	if st := b.Stats(); st.Conns != 0 {
		t.Errorf("closed origin kept a connection alive: %+v", st)
	}
	if again, _ := s.Get("http", host, port, "/b"); again == b {
		t.Error("evicted origin handed out again")
	}
	_ = c
}

func TestSetConcurrent(t *testing.T) {
	url, _ := newFastServer(t, nil, func(ctx *fasthttp.RequestCtx) { ctx.SetBody(ctx.RequestURI()) })
	host, port := hostPort(t, url)
	s := NewSet(Config{}, 3)
	t.Cleanup(s.Close)

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				base := fmt.Sprintf("/p%d", (g+i)%6)
				o, err := s.Get("http", host, port, base)
				if err != nil {
					errs <- err
					return
				}
				resp := fasthttp.AcquireResponse()
				err = o.Fetch(context.Background(), newRequest("GET", "/x"), resp, Viewer{})
				if err == nil && string(resp.Body()) != base+"/x" {
					err = fmt.Errorf("body %q, want %q", resp.Body(), base+"/x")
				}
				fasthttp.ReleaseResponse(resp)
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if s.Len() != 3 {
		t.Errorf("Len %d, want 3", s.Len())
	}
}
