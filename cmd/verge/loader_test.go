package main

import (
	"context"
	"log/slog"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vergecdn/verge/edge"
	"github.com/vergecdn/verge/hooks"
)

// TestInProcessFunctionMemoryGuard: a configuration function the operator runs in-process is
// stopped by the loader's memory guard at the node's memory limit (503), before it takes the
// node down, and the node's other work goes on.
func TestInProcessFunctionMemoryGuard(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(256 << 20))
	l, err := newFunctionLoader(prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ld, err := l.Load(edge.FunctionConfig{Name: "hog", Runtime: "lambda-edge", Isolation: "in-process",
		Source: `exports.handler = async () => { const a = []; for (;;) a.push(new Uint8Array(1 << 24)) }`}, "")
	if err != nil {
		t.Fatal(err)
	}
	ev := &hooks.Event{Stage: hooks.ViewerRequest, Request: &hooks.Request{Method: "GET", URI: "/"}}
	_, err = ld.Function.Invoke(context.Background(), ev)
	if hooks.KindOf(err) != hooks.Execution || !strings.Contains(err.Error(), "memory limit") {
		t.Fatalf("got %v, want the memory guard's error", err)
	}
}

// TestInProcessFunctionRefusesEval: a configuration function run in the node's process has no
// eval nor new Function, which Lambda@Edge functions otherwise have (jsruntime.Options.RefuseEval):
// code compiled at run time could stall the node or exhaust its stack.
func TestInProcessFunctionRefusesEval(t *testing.T) {
	l, err := newFunctionLoader(prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ld, err := l.Load(edge.FunctionConfig{Name: "ev", Runtime: "lambda-edge", Isolation: "in-process",
		Source: `exports.handler = async () => { try { new Function('return 1')(); return null } catch (e) { return { status: '200', body: e.name } } }`}, "")
	if err != nil {
		t.Fatal(err)
	}
	ev := &hooks.Event{Stage: hooks.ViewerRequest, Request: &hooks.Request{Method: "GET", URI: "/"}}
	res, err := ld.Function.Invoke(context.Background(), ev)
	if err != nil || res.Response == nil || string(res.Response.Body) != "EvalError" {
		t.Fatalf("got %+v, %v; want a response saying EvalError", res.Response, err)
	}
}
