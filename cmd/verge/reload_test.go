package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vergecdn/verge/edge"
	"github.com/vergecdn/verge/internal/poll"
)

// TestReloadKeepsFunctions: a reload keeps running the configuration functions whose code did
// not change (no new runtimes, and /metrics keeps answering), runs changed code at once, and
// closes what no pipeline uses any more (what a failed reload loaded, and the replaced
// version) once it has drained.
func TestReloadKeepsFunctions(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "o") }))
	defer origin.Close()
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	setHeader := func(v string) string {
		return `exports.handler = async (e) => { const r = e.Records[0].cf.response; r.headers['x-v'] = [{key: 'X-V', value: '` + v + `'}]; return r }`
	}
	write("f.js", setHeader("1"))
	write("broken.js", "exports.handler = async (e) => {")
	write("g.js", setHeader("g"))
	// conf runs f from file; with broken, a function g the build loads before it reaches one
	// that does not compile.
	conf := func(file string, broken bool) *edge.Config {
		fns := "functions: [{name: f, file: " + file + ", isolation: in-process}]\n"
		if broken {
			fns = "functions: [{name: g, file: g.js, isolation: in-process}, {name: h, file: broken.js, isolation: in-process}, {name: f, file: " + file + ", isolation: in-process}]\n"
		}
		yaml := "listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\naccess_log: off\norigins: [{id: o, url: " + origin.URL + "}]\n" + fns +
			"behaviors: [{path: \"*\", origin: o, functions: {viewer-response: f}}]\n"
		cfg, err := edge.ParseConfig(filepath.Join(dir, "verge.yaml"), []byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	reg := prometheus.NewRegistry()
	l, err := newFunctionLoader(reg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.retireAfter = 200 * time.Millisecond
	srv, err := edge.New(conf("f.js", false), edge.Deps{Loader: l, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	header := func() string {
		resp, err := http.Get("http://" + srv.Addr() + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("X-V")
	}
	// counts says how many runtimes of f are alive, over its versions and copies (each copy
	// keeps one warm), and how many of those copies are draining.
	counts := func() (runtimes, retired int) {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatalf("metrics: %v", err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "verge_function_runtimes" {
				for _, m := range mf.GetMetric() {
					runtimes += int(m.GetGauge().GetValue())
				}
			}
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		return runtimes, len(l.retired)
	}
	first := header()
	for range 3 {
		if err := srv.Reload(conf("f.js", false)); err != nil {
			t.Fatal(err)
		}
	}
	if n, r := counts(); first != "1" || header() != "1" || n != 1 || r != 0 {
		t.Fatalf("after three reloads of the same code: X-V %q, %d runtimes, %d retired; want 1, 1, 0", header(), n, r)
	}
	if err := srv.Reload(conf("f.js", true)); err == nil {
		t.Fatal("a function with a syntax error was accepted")
	}
	poll.Until(t, 5*time.Second, "g, loaded by the reload that failed, closed", func() bool { n, r := counts(); return n == 1 && r == 0 })
	write("f.js", setHeader("2"))
	if err := srv.Reload(conf("f.js", false)); err != nil {
		t.Fatal(err)
	}
	if got := header(); got != "2" {
		t.Fatalf("X-V %q after the code changed, want 2", got)
	}
	if n, r := counts(); n != 2 || r != 1 {
		t.Fatalf("%d runtimes, %d retired after the change; want 2 and 1 (the old version, draining)", n, r)
	}
	poll.Until(t, 5*time.Second, "the replaced version closed", func() bool { n, r := counts(); return n == 1 && r == 0 })
}
