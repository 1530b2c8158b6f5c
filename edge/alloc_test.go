package edge

import (
	"net"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// hitServer returns a server (not listening) whose cache holds /obj of size bytes, and a
// request context asking for it.
func hitServer(tb testing.TB, size int) (*Server, *fasthttp.RequestCtx) {
	tb.Helper()
	o := newOriginTB(tb, strings.Repeat("x", size), "Cache-Control", "max-age=3600", "Content-Type", "text/plain")
	cfg, err := ParseConfig("alloc.yaml", []byte("origins: [{id: o, url: "+o+"}]\nbehaviors: [{path: \"*\"}]\n"))
	if err != nil {
		tb.Fatal(err)
	}
	s, err := New(cfg, Deps{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.pipe.Load().close(); s.store.Close() })
	var req fasthttp.Request
	req.SetRequestURI("/obj")
	req.Header.SetHost("bench.example")
	ctx := &fasthttp.RequestCtx{}
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
	// As the server sets them up (Server.DisableHeaderNamesNormalizing).
	ctx.Request.Header.DisableNormalizing()
	ctx.Response.Header.DisableNormalizing()
	s.handle(ctx)
	if got := string(ctx.Response.Header.Peek("X-Cache")); got != "Miss from verge" {
		tb.Fatalf("first request: X-Cache %q", got)
	}
	ctx.Response.Reset()
	s.handle(ctx)
	if got := string(ctx.Response.Header.Peek("X-Cache")); got != "Hit from verge" || len(ctx.Response.Body()) != size {
		tb.Fatalf("second request: X-Cache %q, %d bytes", got, len(ctx.Response.Body()))
	}
	return s, ctx
}

// TestHitAllocations is the hot path's contract: a cache hit with no functions allocates nothing.
func TestHitAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	s, ctx := hitServer(t, 1024)
	allocs := testing.AllocsPerRun(2000, func() {
		ctx.Response.Reset()
		s.handle(ctx)
	})
	if allocs != 0 {
		t.Fatalf("a cache hit allocates %.1f times", allocs)
	}
}
