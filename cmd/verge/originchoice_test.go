package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vergecdn/verge/internal/poll"
)

// TestCloudFrontOriginChoice runs a cloudfront-js-2.0 function (in a worker process) that
// changes the origin at viewer-request with the cloudfront module, on a node with several
// configured origins: selectRequestOriginById, a failover group whose first member answers
// 503, updateRequestOrigin to another host and port with a custom header, and an unknown id
// (a function validation error: 502, as CloudFront answers).
func TestCloudFrontOriginChoice(t *testing.T) {
	answer := func(name string) string {
		return httpOriginFunc(t, func(w http.ResponseWriter, r *http.Request) {
			if name == "broken" {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
			io.WriteString(w, name+" "+r.URL.Path+" "+r.Header.Get("X-From"))
		})
	}
	main, api, broken, backup := answer("main"), answer("api"), answer("broken"), answer("backup")
	apiPort := api[strings.LastIndex(api, ":")+1:]
	listen := freeAddr(t)
	dir := t.TempDir()
	cfg := `listen: ` + listen + `
admin: ` + freeAddr(t) + `
origins:
  - {id: main, url: "` + main + `"}
  - {id: api, url: "` + api + `"}
  - {id: broken, url: "` + broken + `"}
  - {id: backup, url: "` + backup + `"}
functions:
  - name: route
    runtime: cloudfront-js-2.0
    isolation: process
    source: |
      import cf from 'cloudfront';
      function handler(event) {
        const r = event.request;
        if (r.uri.startsWith('/api/')) cf.selectRequestOriginById('api');
        if (r.uri.startsWith('/group/')) cf.createRequestOriginGroup({originIds: ['broken', 'backup'], failoverCriteria: {statusCodes: [503]}});
        if (r.uri.startsWith('/upd/')) cf.updateRequestOrigin({domainName: '127.0.0.1', customOriginConfig: {port: ` + apiPort + `, protocol: 'http'}, customHeaders: {'x-from': 'edge'}});
        if (r.uri.startsWith('/bad/')) cf.selectRequestOriginById('nope');
        return r;
      }
behaviors:
  - path: "*"
    origin: main
    cache: {default_ttl: 0}
    functions:
      viewer-request: route
`
	file := filepath.Join(dir, "verge.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startVerge(t, "serve", "--config", file, "--data", t.TempDir())
	for path, want := range map[string]string{
		"/x":         "main /x ",
		"/api/users": "api /api/users ",
		"/group/a":   "backup /group/a ",
		"/upd/b":     "api /upd/b edge",
	} {
		if _, body := get(t, "http://"+listen+path); body != want {
			t.Errorf("%s: %q, want %q", path, body, want)
		}
	}
	if resp, body := get(t, "http://"+listen+"/bad/x"); resp.StatusCode != http.StatusBadGateway || !strings.Contains(resp.Header.Get("X-Cache"), "FunctionValidationError") {
		t.Errorf("/bad/x: %d %q %q", resp.StatusCode, resp.Header.Get("X-Cache"), body)
	}
	// The failure is in the node's log, as any other function failure (it was not).
	poll.Until(t, 5*time.Second, "the unknown origin's failure logged", func() bool {
		out := p.stderr.String()
		return strings.Contains(out, `"msg":"function failed","function":"route"`) && strings.Contains(out, "nope")
	})
}
