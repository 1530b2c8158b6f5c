package jsruntime

import (
	"reflect"

	"github.com/dop251/goja"
	"github.com/dop251/goja/file"
	"github.com/dop251/goja/parser"
)

// compileModule compiles a Lambda@Edge file's source as Node does a CommonJS module: inside
// moduleWrapper, whose parameters are the module's exports, require, module, __filename and
// __dirname. The wrapper is parsed as text (so the source is what a function body allows,
// top-level return included), but the compiled program reports positions in the file itself:
// every position of the syntax tree is moved back by the wrapper's length and the tree is
// given the file's own text, so a stack, a load error or a compile error says the line and
// column Node says, on line 1 too (minified code is one line). A trailing
// `//# sourceMappingURL=` (a bundler's) applies to the file's own positions, as in Node with
// --enable-source-maps; its map is read with load (from the package, or a data: URL).
func compileModule(name, src string, load func(string) ([]byte, error)) (*goja.Program, error) {
	const tail = "\n})"
	prg, err := parser.ParseFile(nil, name, moduleWrapper+src+tail, 0, parser.WithDisableSourceMaps)
	if err != nil {
		return nil, compileError(err, true)
	}
	shiftPositions(reflect.ValueOf(prg), len(moduleWrapper), map[uintptr]bool{})
	f := file.NewFile(name, src+tail, 1)
	f.SetSourceMap(sourceMap(name, src, load))
	prg.File = f
	p, err := goja.CompileAST(prg, false)
	if err != nil {
		return nil, compileError(err, false)
	}
	return p, nil
}

var idxType = reflect.TypeFor[file.Idx]()

// shiftPositions moves every position (file.Idx) reachable from v back by n, to 1 at least
// (the wrapper's own nodes). Nodes shared between lists of the tree (a declaration is in its
// statement and in its scope's declaration list) are moved once, by their address in seen.
func shiftPositions(v reflect.Value, n int, seen map[uintptr]bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || seen[v.Pointer()] || v.Type().Elem() == reflect.TypeFor[file.File]() {
			return
		}
		seen[v.Pointer()] = true
		shiftPositions(v.Elem(), n, seen)
	case reflect.Interface:
		if !v.IsNil() {
			shiftPositions(v.Elem(), n, seen)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			shiftPositions(v.Index(i), n, seen)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			fv := v.Field(i)
			switch {
			case !v.Type().Field(i).IsExported():
			case fv.Type() == idxType && fv.CanSet():
				if idx := fv.Int(); idx > 0 {
					fv.SetInt(max(1, idx-int64(n)))
				}
			default:
				shiftPositions(fv, n, seen)
			}
		}
	}
}
