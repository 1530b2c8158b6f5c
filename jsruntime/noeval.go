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
// Node's --disallow-code-generation-from-strings do. goja has no switch for it, but each such
// compile first makes a parser with the runtime's parser options (Runtime.SetParserOptions),
// and nothing else in a runtime compiles there: the function's code and its modules are
// compiled ahead, by the program. The option refuses in Go, where no code in the runtime can
// reach it, whichever way the code found to a constructor. The EvalError constructor is read
// now, before user code runs: it is the runtime's own, and making the error runs no JS.
func refuseCodeGeneration(rt *goja.Runtime) error {
	evalError, ok := goja.AssertConstructor(rt.Get("EvalError"))
	if !ok {
		return errors.New("jsruntime: no EvalError constructor")
	}
	refuse := reflect.MakeFunc(parserOption, func([]reflect.Value) []reflect.Value {
		e, err := evalError(nil, rt.ToValue(evalRefused))
		if err != nil {
			panic(err)
		}
		panic(e)
	}).Interface().(parser.Option)
	rt.SetParserOptions(refuse)
	return nil
}
