package jsruntime

import (
	"errors"
	"math"
	"time"

	"github.com/dop251/goja"
)

// installGuards puts Go in front of the built-ins that can allocate without bound or run past
// the deadline in one native call, before user code runs: String.prototype.repeat, padStart
// and padEnd refuse a result longer than maxStringLength with Node's RangeError, JSON.parse
// refuses text that nests deeper than MaxCallDepth (goja's parser recurses per level), and
// JSON.stringify stops at the deadline (guardStringify). The checks read nothing
// user code can replace: the originals are held here, the RangeError comes from goja's own
// constructor (throwRange), and the arguments are converted once, here, and passed on
// converted, so a valueOf or toString with side effects cannot answer one thing to the check
// and another to the built-in.
func (v *vm) installGuards(maxString int64) error {
	rt := v.rt
	// String.prototype as a string's wrapper has it: reading the global String would build the
	// constructor and its static methods in every runtime.
	strProto := rt.ToValue("").ToObject(rt).Prototype()
	original := func(name string) (goja.Callable, error) {
		fn, ok := goja.AssertFunction(strProto.Get(name))
		if !ok {
			return nil, errors.New("jsruntime: String.prototype." + name + " is missing")
		}
		return fn, nil
	}
	repeat, err := original("repeat")
	if err != nil {
		return err
	}
	// throwRange throws a RangeError with msg. It is made by goja's own constructor, whatever
	// code did to the global RangeError: the original repeat throws one for a negative count,
	// and its message is then replaced. Made so on a throw, rather than by a constructor held
	// here, it spares every runtime the RangeError and Error constructors and prototypes that
	// reading the global builds.
	throwRange := func(msg string) {
		_, err := repeat(rt.ToValue(""), rt.ToValue(-1))
		var ex *goja.Exception
		if !errors.As(err, &ex) {
			panic(rt.NewGoError(errors.New("jsruntime: String.prototype.repeat did not throw for a negative count")))
		}
		e, ok := ex.Value().(*goja.Object)
		if !ok {
			panic(ex)
		}
		if err := e.DefineDataProperty("message", rt.ToValue(msg), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
			panic(err)
		}
		panic(e)
	}
	guardString := func(name string, size func(s goja.String, n float64) float64) error {
		orig, err := original(name)
		if err != nil {
			return err
		}
		fn := builtin(rt, name, 1, func(call goja.FunctionCall) goja.Value {
			if goja.IsUndefined(call.This) || goja.IsNull(call.This) {
				panic(rt.NewTypeError("String.prototype." + name + " called on null or undefined"))
			}
			s, _ := call.This.ToString().(goja.String)
			if s == nil {
				s, _ = rt.ToValue(call.This.String()).(goja.String)
			}
			args := append([]goja.Value(nil), call.Arguments...)
			n := 0.0
			if len(args) > 0 {
				num := args[0].ToNumber()
				args[0] = num
				n = num.ToFloat()
			}
			if len(args) > 1 && !goja.IsUndefined(args[1]) {
				args[1] = args[1].ToString()
			}
			if size(s, n) > float64(maxString) {
				throwRange("Invalid string length")
			}
			res, err := orig(s, args...)
			if err != nil {
				panic(err)
			}
			return res
		})
		return strProto.DefineDataProperty(name, fn, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}
	integer := func(n float64) float64 {
		if math.IsNaN(n) {
			return 0
		}
		return math.Trunc(n)
	}
	if err := guardString("repeat", func(s goja.String, n float64) float64 {
		if s.Length() == 0 {
			return 0
		}
		return float64(s.Length()) * max(0, integer(n))
	}); err != nil {
		return err
	}
	for _, name := range []string{"padStart", "padEnd"} {
		if err := guardString(name, func(_ goja.String, n float64) float64 { return integer(n) }); err != nil {
			return err
		}
	}

	jsonObj := rt.Get("JSON").ToObject(rt)
	parse, ok := goja.AssertFunction(jsonObj.Get("parse"))
	if !ok {
		return errors.New("jsruntime: JSON.parse is missing")
	}
	maxDepth := v.p.opts.MaxCallDepth
	fn := builtin(rt, "parse", 2, func(call goja.FunctionCall) goja.Value {
		text := call.Argument(0).ToString()
		if jsonDepth(text.String()) > maxDepth {
			throwRange("Maximum call stack size exceeded")
		}
		res, err := parse(jsonObj, text, call.Argument(1))
		if err != nil {
			panic(err)
		}
		return res
	})
	if err := jsonObj.DefineDataProperty("parse", fn, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
		return err
	}
	return v.guardStringify(jsonObj)
}

// builtin returns fn as a JS function with the name and length a built-in of that name has:
// goja names a Go function after its Go symbol, which stack traces and inspect would show, and
// gives it length 0.
func builtin(rt *goja.Runtime, name string, length int, fn func(goja.FunctionCall) goja.Value) *goja.Object {
	o := rt.ToValue(fn).(*goja.Object)
	_ = o.DefineDataProperty("name", rt.ToValue(name), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	_ = o.DefineDataProperty("length", rt.ToValue(length), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	return o
}

// guardStringify makes JSON.stringify stop at the invocation's deadline. goja's stringify is
// native code that never looks at the runtime's interrupt, and on a deeply nested object it
// runs for a minute (it scans the whole path for cycles at every level). The replacement
// passes the original a replacer written in Go, which hands each value on unchanged (or to
// the caller's replacer function), and every 64 values checks the deadline: past it, it
// throws, and the interrupt it raises ends the invocation as timed out at the next
// instruction. An array replacer (a property list) is passed on as is, unguarded: a function
// cannot reproduce its ordering.
func (v *vm) guardStringify(jsonObj *goja.Object) error {
	rt := v.rt
	var user goja.Callable // the replacer function of the running call, if any
	calls := 0
	var replacer goja.Value // made on the first call: many functions never stringify
	guard := func(c goja.FunctionCall) goja.Value {
		calls++
		if calls&63 == 0 && v.cur != nil && time.Now().After(v.cur.deadline) {
			// Interrupted here, not only by the alarm, whose timer may not have run yet on a
			// busy machine: a catch around the stringify must not let the function go on,
			// and the failure is a timeout however it surfaces.
			v.cur.overran = true
			rt.Interrupt(errTimeout)
			panic(rt.NewGoError(errTimeout))
		}
		if user == nil {
			return c.Argument(1)
		}
		r, err := user(c.This, c.Arguments...)
		if err != nil {
			panic(err)
		}
		return r
	}
	fn := builtin(rt, "stringify", 3, func(call goja.FunctionCall) goja.Value {
		rep := call.Argument(1)
		if o, ok := rep.(*goja.Object); ok && o.ClassName() == "Array" {
			res, err := v.stringify(jsonObj, call.Argument(0), rep, call.Argument(2))
			if err != nil {
				panic(err)
			}
			return res
		}
		if replacer == nil {
			replacer = rt.ToValue(guard)
		}
		prev := user
		user, _ = goja.AssertFunction(rep)
		defer func() { user = prev }()
		res, err := v.stringify(jsonObj, call.Argument(0), replacer, call.Argument(2))
		if err != nil {
			panic(err)
		}
		return res
	})
	return jsonObj.DefineDataProperty("stringify", fn, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
}
