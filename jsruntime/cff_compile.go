package jsruntime

import (
	"fmt"
	"reflect"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/file"
	"github.com/dop251/goja/parser"
	"github.com/dop251/goja/token"
)

// compileCFF compiles a CloudFront function's script for its runtime. cloudfront-js-1.0 is
// ES 5.1 plus some ES6: it refuses const, let, async functions and await, as CloudFront's 1.0
// does, checked on goja's own syntax tree (never on the text). cloudfront-js-2.0 accepts
// them, and ES module imports of the built-ins (`import cf from 'cloudfront'`), rewritten into
// require calls before compiling.
func compileCFF(runtime, name, src string) (*goja.Program, error) {
	if runtime == RuntimeCloudFrontJS1 {
		if isESM(name, src) {
			return nil, fmt.Errorf("jsruntime: compile: %s: import and export need runtime %s (1.0 loads modules with require)", name, RuntimeCloudFrontJS2)
		}
		prg, err := parser.ParseFile(nil, name, src, 0, parser.WithDisableSourceMaps)
		if err != nil {
			return nil, compileError(err, false)
		}
		if err := checkRuntime10(prg); err != nil {
			return nil, fmt.Errorf("jsruntime: compile: %s: %w", name, err)
		}
	} else if isESM(name, src) {
		src = esmToCJS(src)
	}
	return compileScript(name, src)
}

// checkRuntime10 reports the first construct of prg that CloudFront's runtime 1.0 does not
// support (const, let, async, await), with its position.
func checkRuntime10(prg *ast.Program) error {
	var bad string
	var at file.Idx
	walkAST(reflect.ValueOf(prg), func(n any) bool {
		switch n := n.(type) {
		case *ast.LexicalDeclaration:
			bad, at = n.Token.String(), n.Idx
		case *ast.ForDeclaration:
			bad, at = token.LET.String(), n.Idx
			if n.IsConst {
				bad = token.CONST.String()
			}
		case *ast.FunctionLiteral:
			if n.Async {
				bad, at = "async function", n.Function
			}
		case *ast.ArrowFunctionLiteral:
			if n.Async {
				bad, at = "async arrow function", n.Start
			}
		case *ast.AwaitExpression:
			bad, at = "await", n.Await
		}
		return bad == ""
	})
	if bad == "" {
		return nil
	}
	pos := prg.File.Position(int(at) - prg.File.Base())
	return fmt.Errorf("line %d:%d: %s is not supported by runtime %s (use %s)", pos.Line, pos.Column, bad, RuntimeCloudFrontJS1, RuntimeCloudFrontJS2)
}

var astNode = reflect.TypeFor[ast.Node]()

// walkAST visits every syntax tree node reachable from v, depth first, until visit returns
// false. It follows pointers, interfaces, slices and struct fields, so it needs no update when
// goja adds node types.
func walkAST(v reflect.Value, visit func(any) bool) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return true
		}
		if v.Kind() == reflect.Pointer && v.Type().Implements(astNode) && !visit(v.Interface()) {
			return false
		}
		if v.Kind() == reflect.Pointer && v.Type().Elem() == reflect.TypeFor[file.File]() {
			return true
		}
		return walkAST(v.Elem(), visit)
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			if !walkAST(v.Index(i), visit) {
				return false
			}
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() && !walkAST(v.Field(i), visit) {
				return false
			}
		}
	}
	return true
}
