package jsruntime

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vergecdn/verge/hooks"
)

// deepStringify builds an object nested 1e5 deep and serialises it: goja's JSON.stringify
// checks for cycles along its whole path at every level and never looks at the interrupt, so
// it runs for a minute past any deadline unless guardStringify stops it.
const deepStringify = `let o = {}; for (let i = 0; i < 1e5; i++) o = {o}; JSON.stringify(o);`

// deepObject builds the object, and nativeStuck stringifies it with a property-list replacer,
// which guardStringify passes on unguarded: native code that only the node, killing the worker,
// can stop. They are apart so that a test can build the object at init, as the loop can be
// interrupted: a worker slowed down enough by a loaded machine was still in the loop at the
// deadline, and ended the invocation itself.
const (
	deepObject  = `let o = {}; for (let i = 0; i < 1e5; i++) o = {o};`
	nativeStuck = `JSON.stringify(o, ['o']);`
)

// TestWorkerDeadlinesFromOutside: an invocation stuck in a native built-in that ignores the
// runtime's interrupt is answered with a timeout at its deadline, and its worker is killed by
// the node at the deadline plus Grace; module code stuck the same way at init is killed at
// InitTimeout plus Grace, and New says so.
func TestWorkerDeadlinesFromOutside(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	wo := WorkerOptions{Command: []string{os.Args[0]}, Env: []string{WorkerEnv + "=1"}, Grace: 300 * time.Millisecond}
	f, err := New(Options{Code: SingleFile(deepObject + `exports.handler = async () => { ` + nativeStuck + ` return null }`),
		Isolation: Process, Limits: hooks.Limits{Timeout: 500 * time.Millisecond}, Worker: wo})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := f.backend.(*remote)
	w := r.h.current()
	start := time.Now()
	_, err = f.Invoke(context.Background(), seedEvent(t, hooks.ViewerRequest))
	if d := time.Since(start); hooks.KindOf(err) != hooks.Timeout || d > 2*time.Second {
		t.Fatalf("after %v: %v; want a timeout at 0.5 s + grace", d, err)
	}
	if !strings.Contains(w.reason(), "watchdog") {
		t.Errorf("the worker's end: %q, want the watchdog's", w.reason())
	}
	// The watchdog killed it before the invocation returned; its exit is awaited here, with room
	// for a loaded machine to tear down a race-instrumented process.
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the stuck worker was not killed")
	}

	start = time.Now()
	// The loop before the stuck call has 1.5 s (it takes milliseconds): a slowed worker must not
	// be interrupted in it rather than stuck after it.
	_, err = New(Options{Code: SingleFile(deepObject + nativeStuck + `exports.handler = async () => null`), Isolation: Process,
		InitTimeout: 1500 * time.Millisecond, Worker: wo})
	if d := time.Since(start); err == nil || !strings.Contains(err.Error(), "took longer than") || d > 5*time.Second {
		t.Fatalf("init after %v: %v", d, err)
	}
}

// TestStringifyStopsAtDeadline: in process, where no watchdog can kill anything, a deep
// JSON.stringify stops at the invocation's deadline (a timeout), even inside try/catch, and
// JSON.stringify still answers as before with and without replacers.
func TestStringifyStopsAtDeadline(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"deep", deepStringify + ` return 'done'`, ""},
		{"deep in try", `try { ` + deepStringify + ` } catch (e) {} return 'caught'`, ""},
		{"plain", `return JSON.stringify({a: [1, {b: 'x'}], c: null}, null, 1)`, "{\n \"a\": [\n  1,\n  {\n   \"b\": \"x\"\n  }\n ],\n \"c\": null\n}"},
		{"function replacer", `return JSON.stringify({a: 1, b: 2}, function (k, v) { return k === 'a' ? undefined : v })`, `{"b":2}`},
		{"array replacer", `return JSON.stringify({b: 2, a: 1, c: 3}, ['a', 'b'])`, `{"a":1,"b":2}`},
		{"nested", `return JSON.stringify({a: 1}, (k, v) => k === 'a' ? JSON.stringify([v]) : v)`, `{"a":"[1]"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := New(Options{Code: SingleFile(`exports.handler = async () => { const b = (() => { ` + tc.body + ` })(); return { status: '200', body: b } }`),
				Limits: hooks.Limits{Timeout: 500 * time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			start := time.Now()
			res, err := f.Invoke(context.Background(), seedEvent(t, hooks.ViewerRequest))
			d := time.Since(start)
			switch {
			case tc.want == "" && (hooks.KindOf(err) != hooks.Timeout || d > 2*time.Second):
				t.Fatalf("after %v: %+v, %v; want a timeout at 0.5 s", d, res.Response, err)
			case tc.want != "" && (err != nil || res.Response == nil || string(res.Response.Body) != tc.want):
				t.Fatalf("got %+v, %v; want %q", res.Response, err, tc.want)
			}
		})
	}
}
