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
// up, by the clock the guard reads. The engine's deadline is its own clock's last reading plus
// the timeout plus that clock's period (100 ms), and a goroutine moves the clock on every
// period: the engine stops up to two periods late, and early only by as much as that
// goroutine ran late on its period. The slack covers its ticks' rounding and a few
// milliseconds of such lateness; a goroutine held up longer lets a timeout read as no match.
const regexpSlack = 3 * time.Millisecond

// guardRegexps makes a regular expression that runs out of time end the invocation instead of
// answering "no match". goja runs the patterns Go's regexp package cannot with regexp2, whose
// timeout it reports as a failed match, silently changing the answer. What runs the engine is
// replaced before user code runs by Go functions that call the originals and time them: one
// that ran for the function's RegexpTimeout (or the engine's cut-off, if that is shorter)
// interrupts the runtime, so the invocation fails (503) whatever the code does with the result
// or tries to catch. That is RegExp.prototype.exec and test, and the next method of matchAll's
// iterators:
//
//   - The other matching methods (Symbol.match, replace, search and split, which
//     String.prototype's methods call) reach the engine through exec: with exec replaced, goja
//     no longer takes its shortcut for standard regular expressions and calls exec for each
//     match, so a replace callback runs between the timed calls, not inside one.
//   - matchAll's iterator also calls exec, but runs the engine itself when its regular
//     expression's exec is not callable (code deleted it, or a subclass hides it), as the spec
//     says. Its next is wrapped on the first matchAll, before any iterator exists (only the
//     original matchAll, held here, makes them), and a next that called no timed exec, ran out
//     of time and found nothing fails as exec does.
//
// TestRegexpTimeoutThrows tries every entry point. User code that replaces these methods only
// replaces them with its own code, which it could have written anyway; the originals stay out
// of its reach, held here.
func (v *vm) guardRegexps() error {
	rt := v.rt
	limit := min(v.p.opts.RegexpTimeout, regexp2.DefaultMatchTimeout) - regexpSlack
	proto := rt.Get("RegExp").ToObject(rt).Get("prototype").ToObject(rt)
	execs := 0 // calls of the timed exec and test, which tell next whether it ran the engine itself
	timed := func(fn goja.Callable, this goja.Value, args ...goja.Value) (goja.Value, bool) {
		start := time.Now()
		res, err := fn(this, args...)
		over := time.Since(start) >= limit
		if err != nil {
			panic(err)
		}
		return res, over
	}
	for _, name := range []string{"exec", "test"} {
		fn, ok := goja.AssertFunction(proto.Get(name))
		if !ok {
			return errors.New("jsruntime: RegExp.prototype lacks " + name)
		}
		g := builtin(rt, name, 1, func(call goja.FunctionCall) goja.Value {
			arg := call.Argument(0)
			if _, isObj := arg.(*goja.Object); isObj {
				arg = arg.ToString() // now, so that a toString the code defines runs before the clock
			}
			execs++
			res, over := timed(fn, call.This, arg)
			if over {
				rt.Interrupt(errRegexpTimeout)
			}
			return res
		})
		if err := proto.DefineDataProperty(name, g, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
			return err
		}
	}

	matchAll, ok := goja.AssertFunction(proto.GetSymbol(goja.SymMatchAll))
	if !ok {
		return errors.New("jsruntime: RegExp.prototype lacks Symbol.matchAll")
	}
	guardNext := func(iterProto *goja.Object) {
		next, ok := goja.AssertFunction(iterProto.Get("next"))
		if !ok {
			panic(rt.NewGoError(errors.New("jsruntime: the RegExp string iterator has no next")))
		}
		g := builtin(rt, "next", 0, func(call goja.FunctionCall) goja.Value {
			before := execs
			res, over := timed(next, call.This)
			if over && execs == before && res.ToObject(rt).Get("done").ToBoolean() {
				rt.Interrupt(errRegexpTimeout)
			}
			return res
		})
		if err := iterProto.DefineDataProperty("next", g, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
			panic(err)
		}
	}
	guarded := false
	g := builtin(rt, "[Symbol.matchAll]", 1, func(call goja.FunctionCall) goja.Value {
		it, err := matchAll(call.This, call.Arguments...)
		if err != nil {
			panic(err)
		}
		if !guarded {
			guarded = true
			guardNext(it.ToObject(rt).Prototype())
		}
		return it
	})
	return proto.DefineDataPropertySymbol(goja.SymMatchAll, g, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
}
