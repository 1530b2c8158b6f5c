package jsruntime

import (
	"context"
	"testing"

	"github.com/vergecdn/verge/hooks"
)

// TestGuardsIgnoreReplacedGlobals: the allocation guards hold in process after user code
// replaces every global they could have read (the prelude's guards read Math.max, Number,
// String and Function.prototype.apply, so 'x'.repeat(2**30) allocated a gigabyte), and the
// guarded built-ins still answer as Node's do.
func TestGuardsIgnoreReplacedGlobals(t *testing.T) {
	tamper := `Math.max = () => 0; Math.min = () => 0; Number = () => 0; String = () => '';
Function.prototype.apply = function () { return 'applied' }; Function.prototype.call = Function.prototype.apply;
RangeError = function () { return {} }; Reflect.apply = () => 'reflected';`
	tests := []struct{ name, expr, want string }{
		{"repeat", `'x'.repeat(2 ** 30)`, "RangeError: Invalid string length"},
		{"padStart", `''.padStart(2 ** 30, 'y')`, "RangeError: Invalid string length"},
		{"padEnd", `'a'.padEnd(2 ** 30)`, "RangeError: Invalid string length"},
		{"JSON.parse", `JSON.parse('['.repeat(1e5))`, "RangeError: Maximum call stack size exceeded"},
		{"repeat works", `'ab'.repeat(3)`, "ababab"},
		{"padStart works", `'5'.padStart(3, '0')`, "005"},
		{"JSON.parse works", `JSON.parse('{"a":[1]}', (k, v) => k === 'a' ? v.length : v).a`, "1"},
		{"repeat on a number", `(Object.getPrototypeOf(12).rep = ''.repeat, (12).rep(2))`, "1212"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := tamper + `
exports.handler = async () => { let b; try { b = '' + (` + tc.expr + `) } catch (e) { b = e.name + ': ' + e.message } return { status: '200', body: b } }`
			f, err := New(Options{Code: SingleFile(src), Limits: hooks.Limits{MemoryMB: 128}})
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			res, err := f.Invoke(context.Background(), seedEvent(t, hooks.ViewerRequest))
			if err != nil || res.Response == nil || string(res.Response.Body) != tc.want {
				t.Fatalf("got %+v, %v; want %q", res.Response, err, tc.want)
			}
		})
	}
}

// TestProcessEnvOrder: process.env lists the function's variables and Lambda's in one
// (sorted) order in every runtime of the function, as Node lists its environment in one order.
func TestProcessEnvOrder(t *testing.T) {
	src := `exports.handler = async () => ({ status: '200', body: Object.keys(process.env).join(',') })`
	want := "AWS_EXECUTION_ENV,AWS_LAMBDA_FUNCTION_MEMORY_SIZE,AWS_LAMBDA_FUNCTION_NAME,AWS_LAMBDA_FUNCTION_VERSION," +
		"AWS_REGION,A_VAR,B_VAR,LAMBDA_TASK_ROOT,TZ,Z_VAR"
	for i := range 8 {
		f, err := New(Options{Code: SingleFile(src), Env: map[string]string{"Z_VAR": "z", "A_VAR": "a", "B_VAR": "b"}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := f.Invoke(context.Background(), seedEvent(t, hooks.ViewerRequest))
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := string(res.Response.Body); got != want {
			t.Fatalf("runtime %d: process.env's keys are %s, want %s", i, got, want)
		}
	}
}

// TestLazyGlobalsFrozen: where code froze the global object before it read Node's globals made
// on first read (as hardening code does), each still reads as one value. The expected body is
// what Node prints for the same expressions; for TextEncoder and atob, which Node then fails to
// define, Verge answers as for the others.
func TestLazyGlobalsFrozen(t *testing.T) {
	src := `Object.freeze(globalThis);
exports.handler = async () => ({ status: '200', body: [typeof Buffer, Buffer === Buffer, process === process, typeof process.env, Object.isFrozen(globalThis),
  TextEncoder === TextEncoder, atob === atob].join(',') });`
	if got, want := responseBody(t, src), "function,true,true,object,true,true,true"; got != want {
		t.Fatalf("body %q, want %q", got, want)
	}
}

// TestLazyGlobalsAssigned: an assignment to a global made on first read behaves as one to
// Node's data property: through an object that inherits from the global object (or another
// receiver) it makes the receiver's own property; on a sealed global object it takes effect,
// read or not. Before its first read console is an accessor here (a data property in Node),
// with Node's attributes once read. The expected body is what Node prints for the same code.
func TestLazyGlobalsAssigned(t *testing.T) {
	src := `exports.handler = async () => {
  const kind = (n) => { const d = Object.getOwnPropertyDescriptor(globalThis, n); return (d.get ? 'accessor' : 'data' + (d.writable ? '+w' : '')) + (d.enumerable ? '+e' : '') + (d.configurable ? '+c' : ''); };
  const r = [kind('console')];
  const o = Object.create(globalThis); o.console = 7;
  r.push(['receiver', typeof console, Object.prototype.hasOwnProperty.call(o, 'console'), o.console, kind('console')]);
  const p = {}; Reflect.set(globalThis, 'URL', 9, p);
  r.push(['reflect', typeof URL, p.URL]);
  Object.seal(globalThis);
  URLSearchParams = 1;
  r.push(['seal-assign-unread', typeof URLSearchParams]);
  console.log; console = 2;
  r.push(['seal-assign-read', typeof console]);
  console = { log: () => {} };
  r.push(['seal-assign-again', typeof console.log]);
  return { status: '200', body: JSON.stringify(r) };
};`
	// Node 20 prints the same but for the first entry, "data+w+c": console is a data property
	// there before its first read too.
	want := `["accessor+c",["receiver","object",true,7,"data+w+c"],["reflect","function",9],["seal-assign-unread","number"],["seal-assign-read","number"],["seal-assign-again","function"]]`
	if got := responseBody(t, src); got != want {
		t.Fatalf("body %s\nwant %s", got, want)
	}
}

// responseBody runs src's handler in process on a viewer-request event and returns the body of
// the response it answers with.
func responseBody(t *testing.T, src string) string {
	t.Helper()
	f, err := New(Options{Code: SingleFile(src)})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := f.Invoke(context.Background(), seedEvent(t, hooks.ViewerRequest))
	if err != nil {
		t.Fatal(err)
	}
	if res.Response == nil {
		t.Fatal("no response")
	}
	return string(res.Response.Body)
}
