package edge

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vergecdn/verge/hooks"
)

// clock is a settable clock for TTL tests: no test sleeps to make an object stale.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// testOrigin is a real HTTP origin on 127.0.0.1 that counts the requests it serves and
// records them; its handler scripts the answers, request by request.
type testOrigin struct {
	*httptest.Server
	hits atomic.Int64
	mu   sync.Mutex
	last *http.Request // the last request received (headers only)
}

func newOrigin(t *testing.T, h http.HandlerFunc) *testOrigin {
	t.Helper()
	o := &testOrigin{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		o.mu.Lock()
		o.last = r.Clone(context.Background())
		o.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *testOrigin) lastRequest() *http.Request {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last
}

// staticOrigin answers every path with body and the given headers.
func staticOrigin(t *testing.T, body string, headers ...string) *testOrigin {
	return newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Add(headers[i], headers[i+1])
		}
		io.WriteString(w, body)
	})
}

type node struct {
	*Server
	clock  *clock
	reg    *prometheus.Registry
	client *http.Client
}

// startNode starts a Server on ephemeral ports from a YAML config in which ORIGIN stands for
// the origin's URL, with the given Go functions registered.
func startNode(t *testing.T, yaml, originURL string, fns map[string]hooks.Function) *node {
	t.Helper()
	yaml = strings.ReplaceAll(yaml, "ORIGIN", originURL)
	yaml = "listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\n" + yaml
	cfg, err := ParseConfig("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return startConfig(t, cfg, fns)
}

// startQuickStart starts the node `verge serve --origin originURL` runs, on ephemeral ports.
func startQuickStart(t *testing.T, originURL string) *node {
	t.Helper()
	cfg, err := QuickStart(originURL, "127.0.0.1:0", "127.0.0.1:0", t.TempDir())
	if err != nil {
		t.Fatalf("QuickStart: %v", err)
	}
	return startConfig(t, cfg, nil)
}

// startConfig starts a Server for cfg with the given Go functions registered.
func startConfig(t *testing.T, cfg *Config, fns map[string]hooks.Function) *node {
	t.Helper()
	var err error
	reg := hooks.NewGoRegistry()
	for name, f := range fns {
		if err := reg.Register(name, f); err != nil {
			t.Fatal(err)
		}
	}
	n := &node{clock: newClock(), reg: prometheus.NewRegistry(), client: &http.Client{
		Timeout:       20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	n.Server, err = New(cfg, Deps{GoFunctions: reg, Registry: n.reg, Now: n.clock.now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := n.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		n.Shutdown(ctx)
	})
	return n
}

// reply is a response with its body read.
type reply struct {
	*http.Response
	body string
}

// do sends a request to the node; headers are name, value pairs.
func (n *node) do(t *testing.T, method, path string, headers ...string) reply {
	t.Helper()
	return n.send(t, method, path, "", headers...)
}

// send is do with a request body ("" for none).
func (n *node) send(t *testing.T, method, path, body string, headers ...string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+n.Addr()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if strings.EqualFold(headers[i], "Host") {
			req.Host = headers[i+1]
			continue
		}
		req.Header[headers[i]] = append(req.Header[headers[i]], headers[i+1]) // the case given
	}
	resp, err := n.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return reply{resp, string(b)}
}

func (n *node) get(t *testing.T, path string, headers ...string) reply {
	t.Helper()
	return n.do(t, http.MethodGet, path, headers...)
}

// expect checks status and X-Cache.
func (r reply) expect(t *testing.T, status int, xcache string) {
	t.Helper()
	if r.StatusCode != status || r.Header.Get("X-Cache") != xcache {
		t.Fatalf("got %d %q, want %d %q (body %q)", r.StatusCode, r.Header.Get("X-Cache"), status, xcache, r.body)
	}
}

// recorder is a Go function that records the stages it ran at and passes everything through.
type recorder struct {
	mu     sync.Mutex
	stages []string
}

func (r *recorder) Invoke(_ context.Context, ev *hooks.Event) (hooks.Result, error) {
	r.mu.Lock()
	r.stages = append(r.stages, ev.Stage.String())
	r.mu.Unlock()
	if ev.Stage.IsRequest() {
		return hooks.Result{Request: ev.Request.Clone()}, nil
	}
	return hooks.Result{Response: ev.Response.Clone()}, nil
}

// take returns and clears the recorded stages.
func (r *recorder) take() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := strings.Join(r.stages, ",")
	r.stages = nil
	return s
}

// metric returns the value of a counter or gauge series, formatted like "name{k="v",...}".
func (n *node) metric(t *testing.T, series string) float64 {
	t.Helper()
	mfs, err := n.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			name := mf.GetName()
			if len(labels) > 0 {
				name += "{" + strings.Join(labels, ",") + "}"
			}
			if name != series {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			}
		}
	}
	return 0
}
