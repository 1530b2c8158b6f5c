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
	shiftPositions(reflect.ValueOf(prg), len(moduleWrapper))
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

// shifter moves every position (file.Idx) of a syntax tree back by n, to 1 at least (the
// wrapper's own nodes). Nodes shared between lists of the tree (a declaration's bindings are
// in its statement and in its scope's declaration list) are moved once, by their address in
// seen. plans keeps, per struct type, which fields are positions and which may hold nodes,
// so that each node costs no reflection on its type.
type shifter struct {
	n     int64
	seen  map[uintptr]struct{}
	plans map[reflect.Type]*fieldPlan
}

type fieldPlan struct{ idx, sub []int }

// shiftPositions moves every position of the tree v back by n (see shifter).
func shiftPositions(v reflect.Value, n int) {
	s := shifter{n: int64(n), seen: map[uintptr]struct{}{}, plans: map[reflect.Type]*fieldPlan{}}
	s.walk(v)
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
				if idx := f.Int(); idx > 0 {
					f.SetInt(max(1, idx-s.n))
				}
			}
		}
		for _, i := range p.sub {
			s.walk(v.Field(i))
		}
	}
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
