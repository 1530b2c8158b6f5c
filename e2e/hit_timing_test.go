package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/vergecdn/verge/edge"
	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/jsruntime"
)

const addHeaderJS = `exports.handler = async (event) => {
  const response = event.Records[0].cf.response;
  response.headers['x-bench'] = [{key: 'X-Bench', value: '1'}];
  return response;
};`

// BenchmarkHitPath measures cache hits of a 1 KiB object through a real node over loopback,
// without a function and with a JavaScript viewer-response function (in-process and in a
// worker process), from a pooled fasthttp client.
func BenchmarkHitPath(b *testing.B) {
	for _, mode := range []string{"no-function", "js-in-process", "js-process"} {
		b.Run(mode, func(b *testing.B) {
			addr := startHitNode(b, mode)
			client := &fasthttp.HostClient{Addr: addr, MaxConns: 64}
			check := func() {
				var resp fasthttp.Response
				req := fasthttp.AcquireRequest()
				defer fasthttp.ReleaseRequest(req)
				req.SetRequestURI("http://bench.example/obj")
				if err := client.Do(req, &resp); err != nil {
					b.Fatal(err)
				}
				if mode != "no-function" && string(resp.Header.Peek("X-Bench")) != "1" {
					b.Fatalf("%s: no X-Bench header", mode)
				}
			}
			check()
			check()
			b.SetParallelism(32) // 64 requests in flight on 2 cores, like wrk -c64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				req := fasthttp.AcquireRequest()
				resp := fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(resp)
				req.SetRequestURI("http://bench.example/obj")
				for pb.Next() {
					if err := client.Do(req, resp); err != nil || resp.StatusCode() != 200 {
						b.Errorf("hit: %v %d", err, resp.StatusCode())
						return
					}
				}
			})
		})
	}
}

func startHitNode(b *testing.B, mode string) string {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write([]byte(strings.Repeat("x", 1024)))
	}))
	b.Cleanup(origin.Close)
	cfg, err := edge.ParseConfig("bench.yaml", []byte("listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\norigins: [{id: o, url: "+origin.URL+"}]\nbehaviors: [{path: \"*\"}]\n"))
	if err != nil {
		b.Fatal(err)
	}
	srv, err := edge.New(cfg, edge.Deps{})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	if mode == "no-function" {
		return srv.Addr()
	}
	iso := jsruntime.InProcess
	if mode == "js-process" {
		iso = jsruntime.Process
	}
	fn, err := jsruntime.New(jsruntime.Options{Name: "addh", Code: jsruntime.SingleFile(addHeaderJS), Isolation: iso,
		Worker: workerOptions(b)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { fn.Close() })
	var at [4]*edge.Attachment
	at[hooks.ViewerResponse] = &edge.Attachment{Name: "addh", Version: "1", Function: fn}
	srv.SetAttachments(edge.Attachments{"*": at})
	return srv.Addr()
}
