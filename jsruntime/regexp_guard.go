package jsruntime

import (
	"errors"
	"time"

	"github.com/dlclark/regexp2/v2"
	"github.com/dop251/goja"
)

// errRegexpTimeout is the interrupt value of a runtime whose regular expression ran past
// Options.RegexpTimeout.
var errRegexpTimeout = errors.New("regular expression timeout")

// regexpSlack is how much earlier than its nominal timeout the backtracking engine may give
// up: its clock counts in ticks of about a millisecond.
const regexpSlack = 3 * time.Millisecond

// guardRegexps makes a regular expression that runs out of time end the invocation instead of
// answering "no match". goja runs the patterns Go's regexp package cannot with regexp2, whose
// timeout it reports as a failed match, silently changing the answer. Every matching entry
// point of RegExp.prototype (exec, test and the Symbol.match, matchAll, replace, search and
// split methods String.prototype's methods call) is replaced, before user code runs, by a Go
// function that calls the original and measures it: one that ran for the function's
// RegexpTimeout (or the engine's cut-off, if that is shorter) interrupts the runtime, so the
// invocation fails (503) whatever the code does with the result or tries to catch. Time spent
// in a replace callback is the function's own and does not count. User code that replaces
// these methods only replaces them with its own code, which it could have written anyway; the
// originals stay out of its reach, held here.
func (v *vm) guardRegexps() error {
	rt := v.rt
	limit := min(v.p.opts.RegexpTimeout, regexp2.DefaultMatchTimeout) - regexpSlack
	proto := rt.Get("RegExp").ToObject(rt).Get("prototype").ToObject(rt)
	wrap := func(orig goja.Value) (goja.Value, error) {
		fn, ok := goja.AssertFunction(orig)
		if !ok {
			return nil, errors.New("jsruntime: RegExp.prototype lacks a matching method")
		}
		return rt.ToValue(func(call goja.FunctionCall) goja.Value {
			args := call.Arguments
			var inCallbacks time.Duration
			for i, a := range args[:min(len(args), 2)] {
				switch cb, isFn := goja.AssertFunction(a); {
				case isFn && i == 1:
					args = append([]goja.Value(nil), args...)
					args[i] = rt.ToValue(func(c goja.FunctionCall) goja.Value {
						t := time.Now()
						r, err := cb(c.This, c.Arguments...)
						inCallbacks += time.Since(t)
						if err != nil {
							panic(err)
						}
						return r
					})
				case a != nil && !isFn && i == 0:
					// Converted now, so a toString the code defines runs before the clock.
					if _, isObj := a.(*goja.Object); isObj {
						args = append([]goja.Value(nil), args...)
						args[i] = a.ToString()
					}
				}
			}
			start := time.Now()
			res, err := fn(call.This, args...)
			if time.Since(start)-inCallbacks >= limit {
				rt.Interrupt(errRegexpTimeout)
			}
			if err != nil {
				panic(err)
			}
			return res
		}), nil
	}
	for _, name := range []string{"exec", "test"} {
		g, err := wrap(proto.Get(name))
		if err != nil {
			return err
		}
		if err := proto.DefineDataProperty(name, g, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
			return err
		}
	}
	for _, sym := range []*goja.Symbol{goja.SymMatch, goja.SymMatchAll, goja.SymReplace, goja.SymSearch, goja.SymSplit} {
		g, err := wrap(proto.GetSymbol(sym))
		if err != nil {
			return err
		}
		if err := proto.DefineDataPropertySymbol(sym, g, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
			return err
		}
	}
	return nil
}
