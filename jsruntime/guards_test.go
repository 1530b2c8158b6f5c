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
