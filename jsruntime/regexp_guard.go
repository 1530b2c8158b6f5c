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
// timeout it reports as a failed match, silently changing the answer. RegExp.prototype.exec
// and test, the only methods that run the engine, are replaced before user code runs by Go
// functions that call the originals and time them: one that ran for the function's
// RegexpTimeout (or the engine's cut-off, if that is shorter) interrupts the runtime, so the
// invocation fails (503) whatever the code does with the result or tries to catch. The other
// matching methods (Symbol.match, matchAll, replace, search and split, which String.prototype's
// methods call) reach the engine through exec: with exec replaced, goja no longer takes its
// shortcut for standard regular expressions, and calls exec for each match, so a replace
// callback runs between the timed calls, not inside one (TestRegexpTimeoutThrows tries every
// entry point). User code that replaces these methods only replaces them with its own code,
// which it could have written anyway; the originals stay out of its reach, held here.
func (v *vm) guardRegexps() error {
	rt := v.rt
	limit := min(v.p.opts.RegexpTimeout, regexp2.DefaultMatchTimeout) - regexpSlack
	proto := rt.Get("RegExp").ToObject(rt).Get("prototype").ToObject(rt)
	for _, name := range []string{"exec", "test"} {
		fn, ok := goja.AssertFunction(proto.Get(name))
		if !ok {
			return errors.New("jsruntime: RegExp.prototype lacks " + name)
		}
		g := rt.ToValue(func(call goja.FunctionCall) goja.Value {
			arg := call.Argument(0)
			if _, isObj := arg.(*goja.Object); isObj {
				arg = arg.ToString() // now, so that a toString the code defines runs before the clock
			}
			start := time.Now()
			res, err := fn(call.This, arg)
			if time.Since(start) >= limit {
				rt.Interrupt(errRegexpTimeout)
			}
			if err != nil {
				panic(err)
			}
			return res
		})
		if err := proto.DefineDataProperty(name, g, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
			return err
		}
	}
	return nil
}
