package jsruntime

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vergecdn/verge/hooks"
)

// catastrophic is true by ECMAScript (its second alternative matches), and Node answers true
// for the same pattern on 'a'.repeat(20)+'b'; on 32 a's backtracking takes minutes.
const catastrophic = `/^(?:(a+)+\1c|a+b)$/`

// TestRegexpTimeoutThrows: a match that runs out of time ends the invocation with an error
// (503), in process and in a worker, even inside try/catch; it never answers false. The same
// pattern on a short input still answers true, and a slow replace callback is not counted.
func TestRegexpTimeoutThrows(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	tests := []struct {
		name, body string
		want       string // the body the function returns; "" means the invocation fails
	}{
		{"times out", `return String(` + catastrophic + `.test('a'.repeat(32) + 'b'))`, ""},
		{"times out in try", `try { return String(` + catastrophic + `.test('a'.repeat(32) + 'b')) } catch (e) { return 'caught' }`, ""},
		{"times out in replace", `return ('a'.repeat(32) + 'b').replace(` + catastrophic + `, 'x')`, ""},
		{"times out in exec", `return String(` + catastrophic + `.exec('a'.repeat(32) + 'b'))`, ""},
		{"times out in match", `return String(('a'.repeat(32) + 'b').match(` + catastrophic + `))`, ""},
		{"times out in a global match", `return String(('a'.repeat(32) + 'b').match(/^(?:(a+)+\1c|a+b)$/g))`, ""},
		{"times out in matchAll", `return String([...('a'.repeat(32) + 'b').matchAll(/^(?:(a+)+\1c|a+b)$/g)].length)`, ""},
		{"times out in search", `return String(('a'.repeat(32) + 'b').search(` + catastrophic + `))`, ""},
		{"times out in split", `return String(('a'.repeat(32) + 'b').split(` + catastrophic + `).length)`, ""},
		{"times out in matchAll with exec deleted", `delete RegExp.prototype.exec; return String([...('a'.repeat(32) + 'b').matchAll(/^(?:(a+)+\1c|a+b)$/g)].length)`, ""},
		{"times out in matchAll with exec not callable", `RegExp.prototype.exec = 1; return String([...('a'.repeat(32) + 'b').matchAll(/^(?:(a+)+\1c|a+b)$/g)].length)`, ""},
		{"times out in matchAll of a subclass hiding exec", `class R extends RegExp { get exec() { return null } } return String([...('a'.repeat(32) + 'b').matchAll(new R('^(?:(a+)+\\1c|a+b)$', 'g'))].length)`, ""},
		{"times out in matchAll of a species hiding exec", `const re = /^(?:(a+)+\1c|a+b)$/g; re.constructor = { [Symbol.species]: function (src, fl) { const r = new RegExp(src, fl); r.exec = null; return r } }; return String([...('a'.repeat(32) + 'b').matchAll(re)].length)`, ""},
		{"matchAll with exec deleted, short input", `delete RegExp.prototype.exec; return String([...('a'.repeat(12) + 'b').matchAll(/^(?:(a+)+\1c|a+b)$/g)].length)`, "1"},
		{"times out in a string pattern", `return String(('a'.repeat(32) + 'b').match('^(?:(a+)+\\1c|a+b)$'))`, ""},
		{"short input", `return String(` + catastrophic + `.test('a'.repeat(12) + 'b'))`, "true"},
		{"slow callback", `return 'ab'.replace(/a/, () => { const t = Date.now(); while (Date.now() - t < 150) {} return 'x' })`, "xb"},
	}
	for _, iso := range []Isolation{InProcess, Process} {
		for _, tc := range tests {
			t.Run(iso.String()+"/"+tc.name, func(t *testing.T) {
				f, err := New(Options{Code: SingleFile(`exports.handler = async () => { const b = (() => { ` + tc.body + ` })(); return { status: '200', body: b } }`),
					Isolation: iso, Limits: hooks.Limits{Timeout: 5 * time.Second},
					Worker: WorkerOptions{Command: []string{os.Args[0]}, Env: []string{WorkerEnv + "=1"}}})
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				res, err := f.Invoke(context.Background(), seedEvent(t, hooks.ViewerRequest))
				if err == nil && res.Response == nil {
					t.Fatalf("no response: %+v", res)
				}
				switch {
				case tc.want == "" && (err == nil || hooks.KindOf(err) != hooks.Execution || !strings.Contains(err.Error(), "regular expression")):
					t.Fatalf("got %v, %v; want a regular expression error", res.Response, err)
				case tc.want != "" && (err != nil || string(res.Response.Body) != tc.want):
					t.Fatalf("got %v, %v; want %q", res.Response, err, tc.want)
				}
			})
		}
	}
}

// TestRegexpTimeoutPerFunction: in workers each function's own RegexpTimeout stops its
// matches, whichever function started first.
func TestRegexpTimeoutPerFunction(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	for _, limit := range []time.Duration{50 * time.Millisecond, 1500 * time.Millisecond} {
		f, err := New(Options{Code: SingleFile(`exports.handler = async () => String(` + catastrophic + `.test('a'.repeat(32) + 'b'))`),
			Isolation: Process, RegexpTimeout: limit, Limits: hooks.Limits{Timeout: 5 * time.Second},
			Worker: WorkerOptions{Command: []string{os.Args[0]}, Env: []string{WorkerEnv + "=1"}}})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = f.Invoke(context.Background(), seedEvent(t, hooks.ViewerRequest))
		d := time.Since(start)
		f.Close()
		if err == nil || d < limit || d > limit+time.Second {
			t.Errorf("RegexpTimeout %v: failed after %v with %v", limit, d, err)
		}
	}
}
