package admin_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vergecdn/verge/admin"
	"github.com/vergecdn/verge/deploy"
	"github.com/vergecdn/verge/edge"
	"github.com/vergecdn/verge/registry"
)

// node is a whole edge node with the lifecycle wired as serve wires it.
type node struct {
	srv   *edge.Server
	reg   *registry.Store
	act   *deploy.Activator
	token string
}

func startNode(t *testing.T, dir, originURL string, tokens []admin.Token) *node {
	t.Helper()
	return startNodeWith(t, dir, originURL, tokens, deploy.Options{InProcess: true}, nil)
}

// startNodeWith is startNode with the activator's options o (Registry and DrainDelay are
// set here) and the node's logs, if logs is not nil, written to it.
func startNodeWith(t *testing.T, dir, originURL string, tokens []admin.Token, o deploy.Options, logs io.Writer) *node {
	t.Helper()
	cfg, err := edge.ParseConfig("t.yaml", []byte(fmt.Sprintf(`listen: 127.0.0.1:0
admin: 127.0.0.1:0
origins: [{id: o, url: %s}]
behaviors:
  - {path: /api/*, origin: o}
  - {path: "*", origin: o}
`, originURL)))
	if err != nil {
		t.Fatal(err)
	}
	n := &node{}
	if len(tokens) > 0 {
		n.token = tokens[0].Secret
	}
	if n.reg, err = registry.Open(registry.Options{Dir: dir, Limits: registry.Limits{Origin: 256 << 10, Viewer: 64 << 10}}); err != nil {
		t.Fatal(err)
	}
	var logger *slog.Logger
	if logs != nil {
		logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	o.Registry, o.DrainDelay, o.Logger = n.reg, 20*time.Millisecond, logger
	if n.act, err = deploy.New(o); err != nil {
		t.Fatal(err)
	}
	var srv *edge.Server
	h, err := admin.New(admin.Options{Registry: n.reg, Activator: n.act, Logger: logger, Behaviors: func() []string { return srv.Behaviors() }})
	if err != nil {
		t.Fatal(err)
	}
	guard, err := admin.Guard(admin.GuardOptions{Tokens: tokens, Listen: cfg.Admin})
	if err != nil {
		t.Fatal(err)
	}
	if srv, err = edge.New(cfg, edge.Deps{Admin: h, AdminGuard: guard}); err != nil {
		t.Fatal(err)
	}
	n.srv = srv
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if err := n.act.Start(srv); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.stop)
	return n
}

func (n *node) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n.srv.Shutdown(ctx)
	n.act.Close()
	n.reg.Close()
}

// call sends a request to the admin API and decodes a JSON answer into a map.
func (n *node) call(t *testing.T, method, path string, body []byte) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+n.srv.AdminAddr()+path, bytes.NewReader(body))
	if n.token != "" {
		req.Header.Set("Authorization", "Bearer "+n.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	data, _ := io.ReadAll(resp.Body)
	if len(data) > 0 {
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("%s %s: %d %q", method, path, resp.StatusCode, data)
		}
	}
	return resp.StatusCode, m
}

func (n *node) must(t *testing.T, method, path, body string, want int) map[string]any {
	t.Helper()
	status, m := n.call(t, method, path, []byte(body))
	if status != want {
		t.Fatalf("%s %s: %d %v, want %d", method, path, status, m, want)
	}
	return m
}

func (n *node) xversion(t *testing.T, path string) string {
	t.Helper()
	resp, err := http.Get("http://" + n.srv.Addr() + path)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Header.Get("X-Version")
}

func versionFn(v string) string {
	return fmt.Sprintf(`exports.handler = async (event) => {
  const r = event.Records[0].cf.response;
  console.log("served %s");
  r.headers['x-version'] = [{key: 'X-Version', value: %q}];
  return r;
};`, v, v)
}

func origin(t *testing.T) *httptest.Server {
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "hello")
	}))
	t.Cleanup(o.Close)
	return o
}

func TestEndToEnd(t *testing.T) {
	o := origin(t)
	dir := t.TempDir()
	n := startNode(t, dir, o.URL, []admin.Token{{Name: "ci", Secret: "s3cret"}})

	n.must(t, "PUT", "/v1/functions/tag/code?description=tags", versionFn("one"), 200)
	if m := n.must(t, "POST", "/v1/functions/tag/versions", `{"description":"first"}`, 201); m["version"] != 1.0 {
		t.Fatalf("publish: %v", m)
	}
	n.must(t, "PUT", "/v1/associations/default/viewer-response", `{"function":"tag","qualifier":"1"}`, 200)
	if got := n.xversion(t, "/x"); got != "one" {
		t.Fatalf("through the proxy: X-Version %q", got)
	}
	// $LATEST changes, live traffic does not.
	n.must(t, "PUT", "/v1/functions/tag/code", versionFn("two"), 200)
	if got := n.xversion(t, "/x"); got != "one" {
		t.Fatalf("$LATEST leaked into live traffic: %q", got)
	}
	n.must(t, "POST", "/v1/functions/tag/versions", ``, 201)
	n.must(t, "PUT", "/v1/functions/tag/aliases/live", `{"version":1}`, 200)
	n.must(t, "PUT", "/v1/associations/"+url.PathEscape("/api/*")+"/viewer-response", `{"function":"tag","qualifier":"live"}`, 200)
	if got := n.xversion(t, "/api/a"); got != "one" {
		t.Fatalf("alias -> 1: %q", got)
	}
	n.must(t, "PUT", "/v1/functions/tag/aliases/live", `{"version":2}`, 200)
	if got := n.xversion(t, "/api/a"); got != "two" {
		t.Fatalf("alias flipped to 2: %q", got)
	}
	if got := n.xversion(t, "/x"); got != "one" {
		t.Fatalf("the default behavior moved: %q", got)
	}

	m := n.must(t, "POST", "/v1/functions/tag/invoke?qualifier=live", `{"Records":[{"cf":{"config":{"eventType":"viewer-response"},
	  "request":{"method":"GET","uri":"/","querystring":"","headers":{},"clientIp":"1.2.3.4"},
	  "response":{"status":"200","statusDescription":"OK","headers":{}}}}]}`, 200)
	if m["version"] != "2" || m["error"] != nil {
		t.Fatalf("invoke: %v", m)
	}
	logs := n.must(t, "GET", "/v1/functions/tag/logs", "", 200)["logs"].([]any)
	if len(logs) == 0 {
		t.Fatal("no logs")
	}
	audit := n.must(t, "GET", "/v1/audit", "", 200)["entries"].([]any)
	if first := audit[0].(map[string]any); first["who"] != "ci" || first["action"] != "put-code" {
		t.Fatalf("audit: %v", first)
	}

	// Errors.
	big := "exports.handler = async (e) => e.Records[0].cf.request; //" + strings.Repeat("x", 300<<10)
	viewerBig := "exports.handler = async (e) => e.Records[0].cf.request; //" + strings.Repeat("x", 100<<10)
	cases := []struct {
		method, path, body string
		want               int
		has                string
	}{
		{"GET", "/v1/functions/nope", "", 404, "not found"},
		{"POST", "/v1/functions/nope/versions", "", 404, "not found"},
		{"PUT", "/v1/functions/nope/aliases/x", `{"version":1}`, 404, "not found"},
		{"POST", "/v1/functions/nope/invoke", "{}", 404, "not found"},
		{"GET", "/v1/nothing", "", 404, "no such route"},
		{"PUT", "/v1/functions/bad/code", "exports.handler = async (e) => {\n  return e.;\n};", 400, "line 2, column 12"},
		{"PUT", "/v1/functions/big/code", big, 413, "limit"},
		{"PUT", "/v1/functions/vbig/code", viewerBig, 200, ""},
		{"POST", "/v1/functions/vbig/versions", "", 201, ""},
		{"PUT", "/v1/associations/default/viewer-request", `{"function":"vbig","qualifier":"1"}`, 413, "viewer-request"},
		{"PUT", "/v1/associations/default/origin-request", `{"function":"vbig","qualifier":"1"}`, 200, ""},
		{"PUT", "/v1/associations/%2Fnope%2F%2A/origin-request", `{"function":"vbig","qualifier":"1"}`, 400, "not configured"},
		{"DELETE", "/v1/functions/tag/versions/1", "", 409, "in use"},
		{"DELETE", "/v1/functions/tag/aliases/live", "", 409, "in use"},
		{"DELETE", "/v1/functions/tag", "", 409, "in use"},
		{"PUT", "/v1/functions/tag/aliases/w", `{"version":1,"additionalVersion":2,"weight":1.5}`, 400, "weight"},
		{"PUT", "/v1/functions/tag/aliases/w", `{"version":1,"bogus":2}`, 400, "unknown field"},
	}
	for _, c := range cases {
		status, m := n.call(t, c.method, c.path, []byte(c.body))
		msg, _ := m["error"].(string)
		if status != c.want || !strings.Contains(msg, c.has) {
			t.Errorf("%s %s: %d %q, want %d with %q", c.method, c.path, status, msg, c.want, c.has)
		}
	}
	_, m = n.call(t, "PUT", "/v1/functions/bad/code", []byte("\n\nvar = 1;"))
	if m["file"] != "index.js" || m["line"] != 3.0 || m["column"] != 5.0 {
		t.Fatalf("syntax error position: %v", m)
	}

	// Restart the node on the same data directory: everything is still there and live.
	n.stop()
	n2 := startNode(t, dir, o.URL, []admin.Token{{Name: "ci", Secret: "s3cret"}})
	if got := n2.xversion(t, "/api/a"); got != "two" {
		t.Fatalf("after restart /api/a: %q", got)
	}
	if got := n2.xversion(t, "/x"); got != "one" {
		t.Fatalf("after restart /x: %q %v", got, n2.act.Failures())
	}
	fn := n2.must(t, "GET", "/v1/functions/tag", "", 200)
	if len(fn["versions"].([]any)) != 2 || len(fn["aliases"].([]any)) != 1 || fn["description"] != "tags" {
		t.Fatalf("after restart: %v", fn)
	}
	// Unwind: dissociate, then deletes succeed.
	n2.must(t, "DELETE", "/v1/associations/default/viewer-response", "", 204)
	n2.must(t, "DELETE", "/v1/associations/"+url.PathEscape("/api/*")+"/viewer-response", "", 204)
	n2.must(t, "DELETE", "/v1/functions/tag/aliases/live", "", 204)
	n2.must(t, "DELETE", "/v1/functions/tag/versions/1", "", 204)
	n2.must(t, "DELETE", "/v1/functions/tag", "", 204)
	if got := n2.xversion(t, "/x"); got != "" {
		t.Fatalf("after dissociate: %q", got)
	}
}

func TestAuth(t *testing.T) {
	o := origin(t)
	n := startNode(t, t.TempDir(), o.URL, []admin.Token{{Name: "a", Secret: "right"}})
	for _, c := range []struct {
		header string
		want   int
	}{{"", 401}, {"Bearer wrong", 401}, {"Basic right", 401}, {"Bearer right", 200}, {"bearer right", 200}} {
		req, _ := http.NewRequest("GET", "http://"+n.srv.AdminAddr()+"/v1/functions", nil)
		if c.header != "" {
			req.Header.Set("Authorization", c.header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("Authorization %q: %d, want %d", c.header, resp.StatusCode, c.want)
		}
	}
	// /metrics and /healthz stay the edge's.
	resp, err := http.Get("http://" + n.srv.AdminAddr() + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()

	open := startNode(t, t.TempDir(), o.URL, nil)
	open.must(t, "GET", "/v1/functions", "", 200)
	req, _ := http.NewRequest("PUT", "http://"+open.srv.AdminAddr()+"/v1/functions/x/code", strings.NewReader(versionFn("x")))
	req.Header.Set("Origin", "https://evil.example")
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 403 {
		t.Fatalf("cross-origin: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
}

func TestCheckExposure(t *testing.T) {
	for _, c := range []struct {
		addr   string
		tokens []string
		ok     bool
	}{
		{"127.0.0.1:8081", nil, true}, {"localhost:8081", nil, true}, {"[::1]:8081", nil, true},
		{":8081", nil, false}, {"0.0.0.0:8081", nil, false}, {"10.1.2.3:8081", nil, false},
		{"example.com:8081", nil, false}, {"0.0.0.0:8081", []string{""}, false},
		{"0.0.0.0:8081", []string{"t"}, true}, {"bad", nil, false},
	} {
		if err := admin.CheckExposure(c.addr, c.tokens); (err == nil) != c.ok {
			t.Errorf("%s %v: %v", c.addr, c.tokens, err)
		}
	}
	toks, err := admin.ParseTokens("ci=abc, def ,ops=x")
	if err != nil || len(toks) != 3 || toks[0] != (admin.Token{Name: "ci", Secret: "abc"}) || toks[1].Secret != "def" {
		t.Fatalf("ParseTokens: %v %v", toks, err)
	}
}

func TestFollowLogs(t *testing.T) {
	o := origin(t)
	n := startNode(t, t.TempDir(), o.URL, nil)
	n.must(t, "PUT", "/v1/functions/f/code", versionFn("one"), 200)
	n.must(t, "POST", "/v1/functions/f/versions", "", 201)
	n.must(t, "PUT", "/v1/associations/default/viewer-response", `{"function":"f","qualifier":"1"}`, 200)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+n.srv.AdminAddr()+"/v1/functions/f/logs?follow=1", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	go func() {
		for range 3 {
			n.xversion(t, fmt.Sprintf("/p%d", time.Now().UnixNano()))
		}
	}()
	sc := bufio.NewScanner(resp.Body)
	for i := range 3 {
		if !sc.Scan() {
			t.Fatalf("stream ended after %d lines: %v", i, sc.Err())
		}
		var e deploy.LogEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Message != "served one" || e.Version != "1" {
			t.Fatalf("line %d: %s %v", i, sc.Bytes(), err)
		}
	}
}
