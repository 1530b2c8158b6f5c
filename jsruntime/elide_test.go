package jsruntime

import (
	"strings"
	"testing"
)

// TestElideAsync: which handlers lose their async keyword, and which keep it.
func TestElideAsync(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want bool
	}{
		{"async arrow", `exports.handler = async (event) => event.Records[0].cf.request;`, true},
		{"async arrow, one parameter", `exports.handler = async event => { return event.Records[0].cf.request; };`, true},
		{"async function", `exports.handler = async function handler(event) { return event.Records[0].cf.request; };`, true},
		{"async method", `module.exports = { async handler(event) { return event.Records[0].cf.request; } };`, true},
		{"declared, then exported", "const h = async (e) => e.Records[0].cf.request;\nexports.handler = h;", true},
		{"awaits", `exports.handler = async (e) => { await null; return e.Records[0].cf.request; };`, false},
		{"await in a nested function", `exports.handler = async (e) => { const f = async () => { await 1 }; f(); return e.Records[0].cf.request; };`, false},
		{"not async", `exports.handler = (e, c, cb) => cb(null, e.Records[0].cf.request);`, false},
		{"async generator", `exports.handler = async function* (e) { yield 1 };`, false}, // goja refuses to load it
		{"two identical handlers", "const a = async (e) => e;\nconst b = async (e) => e;\nexports.handler = a;", false},
		{"toString replaced at load", "Function.prototype.toString = () => 'async (e) => e';\nexports.handler = async (e) => e.Records[0].cf.request;", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := compile((&Options{Code: SingleFile(tc.src)}).withDefaults())
			if err != nil {
				t.Fatal(err)
			}
			q, w := elideAsync(p)
			if w != nil {
				if w.p != q {
					t.Fatal("the runtime returned is not of the program returned")
				}
				w.close()
			}
			if q.asyncElided != tc.want {
				t.Fatalf("elided %v, want %v", q.asyncElided, tc.want)
			}
			if tc.want {
				v, err := newVM(q, true)
				if err != nil {
					t.Fatal(err)
				}
				defer v.close()
				if src := v.handlerSource(); strings.HasPrefix(src, "async") {
					t.Fatalf("the compiled handler is %q", src)
				}
			}
		})
	}
}
