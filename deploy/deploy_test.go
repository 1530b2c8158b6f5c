package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vergecdn/verge/deploy"
	"github.com/vergecdn/verge/edge"
	"github.com/vergecdn/verge/internal/poll"
	"github.com/vergecdn/verge/internal/syncbuf"
	"github.com/vergecdn/verge/jsruntime"
	"github.com/vergecdn/verge/registry"
)

func TestMain(m *testing.M) {
	if jsruntime.IsWorkerProcess() {
		os.Exit(jsruntime.WorkerMainForTest())
	}
	// fasthttp's background cleaners sleep for seconds after a server or client is gone.
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*HostClient).connsCleaner"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
		// edge: a Shutdown right after Start can run before fasthttp's Serve registers the
		// listener, which then accepts forever (reported to edge's owner).
		goleak.IgnoreAnyFunction("github.com/vergecdn/verge/edge.(*Server).Start.func1"),
		// memberlist's Shutdown does not wait for an in-flight probe (fleet tests); it ends at
		// its ack timeout.
		goleak.IgnoreTopFunction("github.com/hashicorp/memberlist.(*Memberlist).probeNode"))
}

// versionFn is a viewer-response function that tags responses with X-Version: v.
func versionFn(v string) []byte {
	return fmt.Appendf(nil, `exports.handler = async (event) => {
  const r = event.Records[0].cf.response;
  console.log("serving %s");
  r.headers['x-version'] = [{key: 'X-Version', value: %q}];
  return r;
};`, v, v)
}

// edgeConfig is an edge configuration with two behaviors, /api/* and the default, both
// served by the origin at originURL.
func edgeConfig(t *testing.T, originURL string) *edge.Config {
	t.Helper()
	cfg, err := edge.ParseConfig("t.yaml", fmt.Appendf(nil, `listen: 127.0.0.1:0
admin: 127.0.0.1:0
origins: [{id: o, url: %s}]
behaviors:
  - {path: /api/*, origin: o}
  - {path: "*", origin: o}
`, originURL))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

type env struct {
	reg *registry.Store
	act *deploy.Activator
	srv *edge.Server
}

func start(t *testing.T, o deploy.Options) *env {
	t.Helper()
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "hello")
	}))
	t.Cleanup(origin.Close)
	cfg := edgeConfig(t, origin.URL)
	e := &env{}
	var err error
	if e.reg, err = registry.Open(registry.Options{Dir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	o.Registry = e.reg
	if e.act, err = deploy.New(o); err != nil {
		t.Fatal(err)
	}
	if e.srv, err = edge.New(cfg, edge.Deps{}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Start(); err != nil {
		t.Fatal(err)
	}
	if err := e.act.Start(e.srv); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.srv.Shutdown(ctx)
		e.act.Close()
		e.reg.Close()
	})
	return e
}

func (e *env) version(t *testing.T, path string) string {
	t.Helper()
	resp, err := http.Get("http://" + e.srv.Addr() + path)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Header.Get("X-Version")
}

func (e *env) deploy(t *testing.T, name, v string) int {
	t.Helper()
	if _, err := e.reg.PutCode("t", name, registry.Upload{Package: versionFn(v)}); err != nil {
		t.Fatal(err)
	}
	ver, _, err := e.reg.Publish("t", name, v)
	if err != nil {
		t.Fatal(err)
	}
	return ver.Number
}

func (e *env) sync(t *testing.T) {
	t.Helper()
	if err := e.act.Sync(); err != nil {
		t.Fatal(err)
	}
}

func TestActivator(t *testing.T) {
	e := start(t, deploy.Options{InProcess: true, DrainDelay: 50 * time.Millisecond})
	e.deploy(t, "tag", "one")
	if _, err := e.reg.Associate("t", registry.Association{Behavior: "default", Event: "viewer-response", Function: "tag", Qualifier: "1"}); err != nil {
		t.Fatal(err)
	}
	e.sync(t)
	if got := e.version(t, "/x"); got != "one" {
		t.Fatalf("after associate: X-Version %q", got)
	}
	if got := e.version(t, "/api/x"); got != "" {
		t.Fatalf("another behavior got the function: %q", got)
	}
	// $LATEST changes; live traffic stays on version 1.
	if _, err := e.reg.PutCode("t", "tag", registry.Upload{Package: versionFn("two")}); err != nil {
		t.Fatal(err)
	}
	e.sync(t)
	if got := e.version(t, "/x"); got != "one" {
		t.Fatalf("$LATEST leaked into live traffic: %q", got)
	}
	// Publish v2, point an alias at it and associate the alias.
	if _, _, err := e.reg.Publish("t", "tag", ""); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		alias registry.AliasSpec
		want  string
	}{{registry.AliasSpec{Version: 2}, "two"}, {registry.AliasSpec{Version: 1}, "one"}} {
		if _, err := e.reg.PutAlias("t", "tag", "live", step.alias); err != nil {
			t.Fatal(err)
		}
		if _, err := e.reg.Associate("t", registry.Association{Behavior: "*", Event: "viewer-response", Function: "tag", Qualifier: "live"}); err != nil {
			t.Fatal(err)
		}
		e.sync(t)
		if got := e.version(t, "/x"); got != step.want {
			t.Fatalf("alias -> %d: X-Version %q, want %q", step.alias.Version, got, step.want)
		}
	}
	// The change feed applies changes without an explicit Sync.
	if _, err := e.reg.PutAlias("t", "tag", "live", registry.AliasSpec{Version: 2}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.version(t, "/x") != "two" {
		if time.Now().After(deadline) {
			t.Fatal("the change feed did not apply the alias move")
		}
		time.Sleep(10 * time.Millisecond)
	}
	logs := e.act.Logs("tag")
	if len(logs) == 0 || logs[len(logs)-1].Message != "serving two" || logs[len(logs)-1].Version != "2" {
		t.Fatalf("logs: %+v", logs)
	}
	// Dissociate: the behavior is back to the configuration.
	if err := e.reg.Dissociate("t", "default", "viewer-response"); err != nil {
		t.Fatal(err)
	}
	e.sync(t)
	if got := e.version(t, "/x"); got != "" {
		t.Fatalf("after dissociate: %q", got)
	}
}

func TestWeightedAlias(t *testing.T) {
	e := start(t, deploy.Options{InProcess: true})
	e.deploy(t, "w", "a")
	e.deploy(t, "w", "b")
	if _, err := e.reg.PutAlias("t", "w", "canary", registry.AliasSpec{Version: 1, AdditionalVersion: 2, Weight: 0.1}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.reg.Associate("t", registry.Association{Behavior: "default", Event: "viewer-response", Function: "w", Qualifier: "canary"}); err != nil {
		t.Fatal(err)
	}
	e.sync(t)
	const n, p = 1000, 0.1
	b := 0
	for range n {
		switch e.version(t, "/x") {
		case "b":
			b++
		case "a":
		default:
			t.Fatal("unexpected version")
		}
	}
	sigma := math.Sqrt(n * p * (1 - p))
	if math.Abs(float64(b)-n*p) > 5*sigma {
		t.Fatalf("%d of %d requests ran the additional version; want %v ± %.0f", b, n, n*p, 5*sigma)
	}
}

func TestInvokeAndCheck(t *testing.T) {
	e := start(t, deploy.Options{InProcess: true})
	e.deploy(t, "inv", "x")
	ev := []byte(`{"Records":[{"cf":{"config":{"eventType":"viewer-response","requestId":"r"},
	  "request":{"method":"GET","uri":"/","querystring":"","headers":{},"clientIp":"1.2.3.4"},
	  "response":{"status":"200","statusDescription":"OK","headers":{}}}}]}`)
	rep, err := e.act.Invoke(context.Background(), "inv", "1", ev)
	if err != nil || rep.Error != nil || rep.Version != "1" || len(rep.Logs) != 1 {
		t.Fatalf("invoke: %+v %v", rep, err)
	}
	if _, err := e.act.Invoke(context.Background(), "nope", "", ev); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("unknown function: %v", err)
	}
	if _, err := e.act.Invoke(context.Background(), "inv", "", []byte("{")); !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("bad event: %v", err)
	}
	cases := []struct {
		name, runtime string
		files         map[string]string
		file          string
		line, col     int
	}{
		{"line 2", "", map[string]string{"index.js": "exports.handler = async (e) => {\n  return e.;\n};"}, "index.js", 2, 12},
		{"line 1", "", map[string]string{"index.js": "exports.handler = ;"}, "index.js", 1, 19},
		{"other file", "", map[string]string{"index.js": "require('./lib/a.js')", "lib/a.js": "\n\nvar = 1;"}, "lib/a.js", 3, 5},
		{"cff", "cloudfront-functions", map[string]string{"index.js": "function handler(event) {\n  return event.request\n}}"}, "index.js", 3, 2},
	}
	for _, c := range cases {
		err := e.act.Check("f", c.runtime, "", registry.Source{Files: c.files, Entry: "index.js"})
		var ce *deploy.CompileError
		if !errors.As(err, &ce) {
			t.Errorf("%s: %v is not a CompileError", c.name, err)
			continue
		}
		if ce.File != c.file || ce.Line != c.line || ce.Column != c.col {
			t.Errorf("%s: %s:%d:%d, want %s:%d:%d (%s)", c.name, ce.File, ce.Line, ce.Column, c.file, c.line, c.col, ce.Message)
		}
	}
	if err := e.act.Check("f", "", "", registry.Source{Files: map[string]string{"index.js": string(versionFn("ok"))}, Entry: "index.js"}); err != nil {
		t.Fatal(err)
	}
	if err := e.act.Check("f", "", "", registry.Source{Files: map[string]string{"index.js": "throw new Error('boom')"}, Entry: "index.js"}); err == nil {
		t.Fatal("a module that throws at load passed the check")
	}
	// Uploaded code run in this process (InProcess) has no eval (jsruntime.Options.RefuseEval);
	// in a worker it has (TestProcessIsolation).
	if err := e.act.Check("f", "", "", registry.Source{Files: map[string]string{"index.js": evalAtLoad}, Entry: "index.js"}); err == nil || !strings.Contains(err.Error(), "EvalError") {
		t.Fatalf("a module compiling code at load, in process: %v, want EvalError", err)
	}
}

// evalAtLoad is a module that compiles code from a string as it loads.
const evalAtLoad = "const one = new Function('return 1')(); exports.handler = async (e) => e.Records[0].cf.request;"

// TestProcessIsolation runs an association in a worker process, as uploaded code runs by
// default.
func TestProcessIsolation(t *testing.T) {
	exe, _ := os.Executable()
	e := start(t, deploy.Options{Worker: jsruntime.WorkerOptions{Command: []string{exe}, Env: []string{jsruntime.WorkerEnv + "=1"}}})
	e.deploy(t, "p", "proc")
	if err := e.act.Check("f", "", "", registry.Source{Files: map[string]string{"index.js": evalAtLoad}, Entry: "index.js"}); err != nil {
		t.Fatalf("a module compiling code at load, in a worker: %v", err)
	}
	if _, err := e.reg.Associate("t", registry.Association{Behavior: "/api/*", Event: "viewer-response", Function: "p", Qualifier: "1"}); err != nil {
		t.Fatal(err)
	}
	e.sync(t)
	if got := e.version(t, "/api/x"); got != "proc" {
		t.Fatalf("X-Version %q", got)
	}
}

func TestStopFollowers(t *testing.T) {
	e := start(t, deploy.Options{InProcess: true})
	lines, cancel := e.act.Follow("x")
	defer cancel()
	e.act.StopFollowers()
	select {
	case _, ok := <-lines:
		if ok {
			t.Fatal("a line after StopFollowers")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end")
	}
	if l, _ := e.act.Follow("x"); l == nil {
		t.Fatal("nil channel")
	}
}

// get returns the status, X-Cache and X-Version of a GET of path.
func (e *env) get(t *testing.T, path string) (int, string, string) {
	t.Helper()
	resp, err := http.Get("http://" + e.srv.Addr() + path)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("X-Cache"), resp.Header.Get("X-Version")
}

// TestBrokenVersionNeverFailsOpen: an alias moved to a version that throws when it loads
// keeps the behavior on the previous version; a behavior associated with that version and
// nothing before answers CloudFront's 503, not the origin's page. Each failure is logged once
// however often the registry changes (and the build is retried), and Failures lists both.
func TestBrokenVersionNeverFailsOpen(t *testing.T) {
	logs := &syncbuf.Buffer{}
	e := start(t, deploy.Options{InProcess: true, Logger: slog.New(slog.NewTextHandler(logs, nil)), RetryBackoff: 5 * time.Millisecond})
	if _, err := e.reg.PutCode("t", "auth", registry.Upload{Package: blockerFn(1)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.reg.Publish("t", "auth", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.reg.PutCode("t", "auth", registry.Upload{Package: []byte(`throw new Error('boom')`)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.reg.Publish("t", "auth", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.reg.PutAlias("t", "auth", "live", registry.AliasSpec{Version: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.reg.Associate("t", registry.Association{Behavior: "*", Event: "viewer-request", Function: "auth", Qualifier: "live"}); err != nil {
		t.Fatal(err)
	}
	e.sync(t)
	if st, _, v := e.get(t, "/x"); st != http.StatusForbidden || v != "1" {
		t.Fatalf("version 1: %d %q", st, v)
	}
	if st := e.act.Status(""); !st.Current() {
		t.Errorf("status %+v: not current with every association running its target", st)
	}
	if _, err := e.reg.PutAlias("t", "auth", "live", registry.AliasSpec{Version: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.reg.Associate("t", registry.Association{Behavior: "/api/*", Event: "viewer-request", Function: "auth", Qualifier: "2"}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 { // unrelated changes: each Sync meets the same failures again
		if _, err := e.reg.PutCode("t", "other", registry.Upload{Package: versionFn(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
		e.sync(t)
	}
	cases := []struct {
		path, xcache string
		status       int
	}{
		{"/x", "LambdaGeneratedResponse from verge", http.StatusForbidden},
		{"/api/x", "LambdaExecutionError from verge", http.StatusServiceUnavailable},
	}
	for _, c := range cases {
		if st, xc, _ := e.get(t, c.path); st != c.status || xc != c.xcache {
			t.Errorf("%s: %d %q, want %d %q", c.path, st, xc, c.status, c.xcache)
		}
	}
	if f := e.act.Failures(); len(f) != 2 || !strings.Contains(fmt.Sprint(f), "boom") {
		t.Errorf("failures: %v", f)
	}
	// Every change applied, but not run: not current (what `fn alias --wait` waits for).
	if st := e.act.Status("auth"); st.Current() || st.Applied != st.Revision || st.Settled {
		t.Errorf("status %+v: want the current revision applied, unsettled", st)
	}
	// Another function's deploy is not held up by auth.
	if st := e.act.Status("other"); !st.Current() {
		t.Errorf("status of other %+v: want current", st)
	}
	for _, msg := range []string{"keeping the previous target", "answers 503"} {
		if n := strings.Count(logs.String(), msg); n != 1 {
			t.Errorf("%q logged %d times, want once", msg, n)
		}
	}
}

// TestFailedBuildIsRetried: a version whose worker process cannot start answers 503 (nothing
// ran before it), and is built again with backoff without any registry change: once workers
// can start, it runs.
func TestFailedBuildIsRetried(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	worker := filepath.Join(t.TempDir(), "worker") // not there yet
	e := start(t, deploy.Options{RetryBackoff: 10 * time.Millisecond,
		Worker: jsruntime.WorkerOptions{Command: []string{worker}, Env: []string{jsruntime.WorkerEnv + "=1"}}})
	if _, err := e.reg.PutCode("t", "auth", registry.Upload{Package: blockerFn(1)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.reg.Publish("t", "auth", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.reg.Associate("t", registry.Association{Behavior: "*", Event: "viewer-request", Function: "auth", Qualifier: "1"}); err != nil {
		t.Fatal(err)
	}
	e.sync(t)
	if st, xc, _ := e.get(t, "/x"); st != http.StatusServiceUnavailable {
		t.Fatalf("without a worker: %d %q, want 503", st, xc)
	}
	if err := os.Symlink(exe, worker); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 10*time.Second, "the version to run once its worker could start", func() bool {
		st, _, v := e.get(t, "/x")
		return st == http.StatusForbidden && v == "1"
	})
}
