package jsruntime

import (
	"errors"
	"reflect"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
)

// evalRefused is Node's message for code generation from strings that is disallowed.
const evalRefused = "Code generation from strings disallowed for this context"

// parserOption is the type of goja's parser options, whose parameter type is unexported.
var parserOption = reflect.TypeFor[parser.Option]()

// refuseCodeGeneration makes every compile from a string in rt (eval, new Function and the
// other function constructors) throw EvalError with evalRefused, as CloudFront Functions and
// Node's --disallow-code-generation-from-strings do.
//
// goja has no switch for it, but each such compile first makes a parser with the runtime's
// parser options (Runtime.SetParserOptions), and the option refuses there, in Go, where no code
// in the runtime can reach it, whichever way the code found to a constructor. Nothing of
// Verge's own may compile on such a runtime (RunString, RunScript): the function's code, its
// package's files and the built-in modules are compiled by the program's loaders, which do not
// take the runtime's options. The global eval, the one way most code would take, is replaced
// by a Go function that throws at once, as Node's does for any argument: the parser option
// comes only after goja has copied the string.
//
// The EvalError constructor is read now, before user code runs: it is the runtime's own, and
// making the error runs no JS.
func refuseCodeGeneration(rt *goja.Runtime) error {
	evalError, ok := goja.AssertConstructor(rt.Get("EvalError"))
	if !ok {
		return errors.New("jsruntime: no EvalError constructor")
	}
	throw := func() {
		e, err := evalError(nil, rt.ToValue(evalRefused))
		if err != nil {
			panic(err)
		}
		panic(e)
	}
	refuse := reflect.MakeFunc(parserOption, func([]reflect.Value) []reflect.Value {
		throw()
		return nil
	}).Interface().(parser.Option)
	rt.SetParserOptions(refuse)
	eval := builtin(rt, "eval", 1, func(goja.FunctionCall) goja.Value {
		throw()
		return nil
	})
	// Node 20's eval: writable, configurable, not enumerable.
	return rt.GlobalObject().DefineDataProperty("eval", eval, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
}
