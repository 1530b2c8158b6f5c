package jsruntime

import (
	"maps"
	"strings"

	"github.com/dop251/goja"
)

// Most Lambda@Edge handlers are written `async (event) => { ... return x }` and never await:
// the async keyword only wraps the result in a promise. goja runs every async call through a
// generator and a promise capability (two native resolving functions, a reaction, about 25
// allocations), which on a cache hit with one viewer-response function cost a sixth of the
// node's throughput (bench/run.sh js: 87k req/s with a callback-style handler, 75k with the
// same handler async).
//
// elideAsync compiles such a handler without its async keyword (blanked, so every position
// and line number stays), and the invocation takes its return value as the settled result, a
// thenable being followed as before. What the function does is unchanged: a synchronous throw
// fails the invocation as the rejected promise did; a callback called before returning wins as
// it did; microtasks queued by the handler run before the invocation ends either way. What
// changes is introspection only: the handler's constructor is Function, not AsyncFunction, and
// its toString no longer starts with "async".
//
// The handler qualifies when its source text starts with "async", contains no "await" at all,
// is not a generator (a '*' before its parameters), and occurs exactly once in the package, so
// that the blanked keyword is the handler's. Anything else, or any error on the way, keeps p as
// it is.
//
// It returns the program to run and a runtime of it, ready for the pool (nil if making one
// failed: the pool's own warm-up then reports why), so that a new version's cold start makes
// one runtime more than it did, not two.
func elideAsync(p *program) (*program, *vm) {
	if p.script != nil {
		return p, nil
	}
	v, err := newVM(p, true)
	if err != nil {
		return p, nil
	}
	keep := func() (*program, *vm) { return p, v }
	src := v.handlerSource()
	rest, ok := strings.CutPrefix(src, "async")
	head, _, _ := strings.Cut(rest, "(")
	if !ok || strings.Contains(src, "await") || strings.Contains(head, "*") {
		return keep() // not async, awaits, or an async generator
	}
	name, at := "", -1
	for file, text := range p.files {
		switch n := strings.Count(text, src); {
		case n > 1, n == 1 && at >= 0:
			return keep() // ambiguous
		case n == 1:
			name, at = file, strings.Index(text, src)
		}
	}
	if at < 0 {
		return keep()
	}
	files := maps.Clone(p.files)
	text := files[name]
	files[name] = text[:at] + "     " + text[at+len("async"):]
	q, err := p.withFiles(files)
	if err != nil {
		return keep()
	}
	q.asyncElided = true
	w, err := newVM(q, true)
	if err != nil {
		return keep()
	}
	// The handler must now be exactly the same text without the keyword.
	if got := w.handlerSource(); got != strings.TrimLeft(rest, " \t") || w.arity != v.arity {
		w.close()
		return keep()
	}
	v.close()
	return q, w
}

// handlerSource returns the handler's source text, by the Function.prototype.toString that the
// runtime had before user code ran.
func (v *vm) handlerSource() string {
	if v.fnToString == nil || v.handlerVal == nil {
		return ""
	}
	s, err := v.fnToString(v.handlerVal)
	if err != nil || !isString(s) {
		return ""
	}
	return s.String()
}

// captureToString keeps the original Function.prototype.toString (see handlerSource).
func (v *vm) captureToString() {
	fn, ok := goja.AssertFunction(v.rt.Get("Function").ToObject(v.rt).Get("prototype").ToObject(v.rt).Get("toString"))
	if ok {
		v.fnToString = fn
	}
}
