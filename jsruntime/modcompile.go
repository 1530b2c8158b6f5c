package jsruntime

import (
	"reflect"
	"strings"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/file"
	"github.com/dop251/goja/parser"
)

// compileModule compiles a Lambda@Edge file's source as Node does a CommonJS module: inside
// moduleWrapper, whose parameters are the module's exports, require, module, __filename and
// __dirname. The wrapper is parsed as text (so the source is what a function body allows,
// top-level return included). It shares the file's line 1, whose positions it moves right by
// its length, so the positions on line 1 are moved back (shiftLine1): a stack, a load error
// or a compile error says the line and column Node says, on line 1 too (minified code is one
// line). A trailing `//# sourceMappingURL=` (a bundler's) applies to the file's positions, as
// in Node with --enable-source-maps; its map is read with load (from the package, or a data:
// URL) and checked (sourceMap).
func compileModule(name, src string, load func(string) ([]byte, error)) (*goja.Program, error) {
	text := moduleWrapper + src + "\n})"
	prg, err := parser.ParseFile(nil, name, text, 0, parser.WithDisableSourceMaps)
	if err != nil {
		return nil, compileError(err, true)
	}
	if err := wrapperWhole(prg); err != nil {
		return nil, compileError(err, true)
	}
	line1 := len(src)
	if i := strings.IndexAny(src, "\r\n\u2028\u2029"); i >= 0 {
		line1 = i
	}
	shiftLine1(prg, text, len(moduleWrapper), len(moduleWrapper)+line1)
	prg.File.SetSourceMap(sourceMap(name, src, load))
	p, err := goja.CompileAST(prg, false)
	if err != nil {
		return nil, compileError(err, false)
	}
	return p, nil
}

// wrapperWhole checks that the parsed text is the wrapper function alone: source that closes it
// early (`}); code; ({`) would parse, then run code outside the module and leave no function to
// call. Node's own wrapping refuses such a file with a SyntaxError at the closing brace; so
// does this.
func wrapperWhole(prg *ast.Program) error {
	if len(prg.Body) == 1 {
		if st, ok := prg.Body[0].(*ast.ExpressionStatement); ok {
			if _, ok := st.Expression.(*ast.FunctionLiteral); ok {
				return nil
			}
		}
	}
	at := int(prg.Body[0].Idx1())
	if st, ok := prg.Body[0].(*ast.ExpressionStatement); ok {
		if fn, ok := st.Expression.(*ast.FunctionLiteral); ok {
			at = int(fn.Idx1()) - 1 // the brace that closed the function
		}
	}
	return &parser.Error{Position: prg.File.Position(at - 1), Message: "Unexpected token '}'"}
}

var idxType = reflect.TypeFor[file.Idx]()

// shifter moves the positions (file.Idx) on line 1 of a syntax tree back by n, to 1 at least
// (the wrapper's own nodes). A position is on line 1 up to last (an offset in the parsed text,
// positions count from 1); a node that starts after it is on a later line with all it holds,
// and is not walked: the cost is that of line 1's part of the tree. A node that starts with a
// backtick is walked: goja has a tagged template start at its quote, but its tag comes first,
// maybe on line 1 (and so for a node that starts with such a template). Nodes shared between
// lists of the tree (a declaration's bindings are in its statement and in its scope's
// declaration list) are moved once, by their address in seen. plans keeps, per struct type,
// which fields are positions and which may hold nodes: a node costs no reflection on its type.
type shifter struct {
	text    string // the parsed text
	n, last int64
	seen    map[uintptr]struct{}
	plans   map[reflect.Type]*fieldPlan
}

type fieldPlan struct{ idx, sub []int }

// shiftLine1 moves back by n the positions of prg, parsed from text, up to offset last (see
// shifter).
func shiftLine1(prg *ast.Program, text string, n, last int) {
	s := shifter{text: text, n: int64(n), last: int64(last), seen: map[uintptr]struct{}{}, plans: map[reflect.Type]*fieldPlan{}}
	s.walk(reflect.ValueOf(prg).Elem())
}

func (s *shifter) walk(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || v.Type().Elem() == reflect.TypeFor[file.File]() {
			return
		}
		if _, ok := s.seen[v.Pointer()]; ok {
			return
		}
		if n, ok := v.Interface().(ast.Node); ok {
			if at := int64(start(n)); at > s.last+1 && at <= int64(len(s.text)) && s.text[at-1] != '`' {
				return
			}
		}
		s.seen[v.Pointer()] = struct{}{}
		s.walk(v.Elem())
	case reflect.Interface:
		if !v.IsNil() {
			s.walk(v.Elem())
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			s.walk(v.Index(i))
		}
	case reflect.Struct:
		p := s.plan(v.Type())
		for _, i := range p.idx {
			if f := v.Field(i); f.CanSet() {
				if idx := f.Int(); idx > 0 && idx <= s.last+1 {
					f.SetInt(max(1, idx-s.n))
				}
			}
		}
		for _, i := range p.sub {
			s.walk(v.Field(i))
		}
	}
}

// start returns where n starts, or 0 (walk it) for a node that cannot say: some nodes take
// their start from their first child, which a malformed tree might lack.
func start(n ast.Node) (idx file.Idx) {
	defer func() {
		if recover() != nil {
			idx = 0
		}
	}()
	return n.Idx0()
}

// plan returns which exported fields of struct type t are positions and which may hold nodes.
func (s *shifter) plan(t reflect.Type) *fieldPlan {
	if p, ok := s.plans[t]; ok {
		return p
	}
	p := &fieldPlan{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		switch {
		case !f.IsExported():
		case f.Type == idxType:
			p.idx = append(p.idx, i)
		case f.Type.Kind() == reflect.Pointer || f.Type.Kind() == reflect.Interface || f.Type.Kind() == reflect.Struct,
			f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() != reflect.String && f.Type.Elem().Kind() != reflect.Uint8:
			p.sub = append(p.sub, i)
		}
	}
	s.plans[t] = p
	return p
}
