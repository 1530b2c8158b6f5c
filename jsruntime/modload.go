package jsruntime

import (
	"encoding/json"
	"errors"
	"path"
	"strings"

	"github.com/dop251/goja"
	"github.com/dop251/goja_nodejs/require"
)

// modules is one runtime's CommonJS module system for a Lambda@Edge package: Node's require
// over the package's files (a file, its name with .js or .json, a directory's package.json
// main or index.js, node_modules up the tree), each file compiled once per program by
// compileModule and run once per runtime. Built-in modules (crypto, buffer, node:...) come
// from the program's registry, which serves no file.
type modules struct {
	p       *program
	rt      *goja.Runtime
	builtin *require.RequireModule
	parse   goja.Callable           // JSON.parse as it was before user code ran, for .json files
	cache   map[string]*goja.Object // absolute path -> module object, as Node's require.cache
	parent  map[string]string       // absolute path -> the module that loaded it first
}

func newModules(p *program, rt *goja.Runtime, builtin *require.RequireModule) *modules {
	parse, _ := goja.AssertFunction(rt.Get("JSON").ToObject(rt).Get("parse"))
	return &modules{p: p, rt: rt, builtin: builtin, parse: parse, cache: map[string]*goja.Object{}, parent: map[string]string{}}
}

// requireFrom returns the require function of the module at absolute path from.
func (m *modules) requireFrom(from string) goja.Value {
	return builtin(m.rt, "require", 1, func(c goja.FunctionCall) goja.Value {
		name := c.Argument(0).String()
		exp, err := m.require(from, name)
		if err != nil {
			var ex *goja.Exception
			if errors.As(err, &ex) {
				panic(ex)
			}
			panic(m.rt.NewGoError(err))
		}
		if exp == nil {
			panic(m.notFound(from, name))
		}
		return exp
	})
}

// notFound returns Node's error for module name, required from the module at path from, that
// is not there: an Error with code MODULE_NOT_FOUND and the require stack (from, the module
// that loaded it, and so on to the entry). It is made by the global Error, as code that throws
// one does (reading it in advance would build the Error constructor in every runtime); if code
// replaced that with what is not a constructor, by goja's GoError.
func (m *modules) notFound(from, name string) *goja.Object {
	var stack []any
	for f := from; f != ""; f = m.parent[f] {
		stack = append(stack, f)
	}
	msg := "Cannot find module '" + name + "'\nRequire stack:"
	for _, f := range stack {
		msg += "\n- " + f.(string)
	}
	var e *goja.Object
	if ctor, ok := goja.AssertConstructor(m.rt.Get("Error")); ok {
		e, _ = ctor(nil, m.rt.ToValue(msg))
	}
	if e == nil {
		e = m.rt.NewGoError(errors.New(msg))
	}
	_ = e.Set("code", "MODULE_NOT_FOUND")
	_ = e.Set("requireStack", m.rt.NewArray(stack...))
	return e
}

// require returns the exports of module name as required from the module at path from, as
// Node resolves it: a path is a file or a directory, any other name a built-in module or a
// package under a node_modules directory. It returns nil, nil when nothing matches.
func (m *modules) require(from, name string) (goja.Value, error) {
	var mod *goja.Object
	var err error
	dir := path.Dir(from)
	if name == "." || name == ".." || strings.HasPrefix(name, "/") || strings.HasPrefix(name, "./") || strings.HasPrefix(name, "../") {
		mod, err = m.fileOrDir(from, resolvePath(dir, name))
	} else {
		exp, berr := m.builtin.Require(name)
		if berr == nil || !errors.Is(berr, require.InvalidModuleError) {
			return exp, berr
		}
		mod, err = m.nodeModules(from, name)
	}
	if mod == nil || err != nil {
		return nil, err
	}
	return mod.Get("exports"), nil
}

// nodeModules loads package name from the nearest node_modules directory that has it, from
// the directory of the module at path from up to the root.
func (m *modules) nodeModules(from, name string) (*goja.Object, error) {
	for d := path.Dir(from); ; d = path.Dir(d) {
		if path.Base(d) != "node_modules" {
			if mod, err := m.fileOrDir(from, path.Join(d, "node_modules", name)); mod != nil || err != nil {
				return mod, err
			}
		}
		if d == "/" || d == "." {
			return nil, nil
		}
	}
}

// fileOrDir loads p, a file or a directory, for the module at path from.
func (m *modules) fileOrDir(from, p string) (*goja.Object, error) {
	if mod, err := m.file(from, p); mod != nil || err != nil {
		return mod, err
	}
	if b, err := m.p.load(p + "/package.json"); err == nil {
		var pkg struct{ Main string }
		if json.Unmarshal(b, &pkg) == nil && pkg.Main != "" {
			main := resolvePath(p, pkg.Main)
			if mod, err := m.file(from, main); mod != nil || err != nil {
				return mod, err
			}
			if mod, err := m.index(from, main); mod != nil || err != nil {
				return mod, err
			}
		}
	}
	return m.index(from, p)
}

func (m *modules) file(from, p string) (*goja.Object, error) {
	for _, name := range []string{p, p + ".js", p + ".json"} {
		if mod, err := m.load(from, name); mod != nil || err != nil {
			return mod, err
		}
	}
	return nil, nil
}

func (m *modules) index(from, dir string) (*goja.Object, error) {
	for _, name := range []string{dir + "/index.js", dir + "/index.json"} {
		if mod, err := m.load(from, name); mod != nil || err != nil {
			return mod, err
		}
	}
	return nil, nil
}

// load runs the file at absolute path name as a module required by the module at path from
// ("" for the entry), once per runtime: a module that is being loaded (a require cycle) gives
// its exports so far, as in Node. It returns nil, nil when the package has no such file.
func (m *modules) load(from, name string) (*goja.Object, error) {
	if mod := m.cache[name]; mod != nil {
		return mod, nil
	}
	src, err := m.p.load(name)
	if errors.Is(err, require.ModuleFileDoesNotExistError) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	mod := m.rt.NewObject()
	exports := m.rt.NewObject()
	_ = mod.Set("exports", exports)
	m.cache[name] = mod
	if from != "" {
		m.parent[name] = from
	}
	if err := m.run(name, string(src), mod, exports); err != nil {
		delete(m.cache, name)
		delete(m.parent, name)
		return nil, err
	}
	return mod, nil
}

func (m *modules) run(name, src string, mod, exports *goja.Object) error {
	if strings.HasSuffix(name, ".json") {
		v, err := m.parse(goja.Undefined(), m.rt.ToValue(src))
		if err == nil {
			err = mod.Set("exports", v)
		}
		return err
	}
	prg, err := m.p.module(name, src)
	if err != nil {
		return err
	}
	f, err := m.rt.RunProgram(prg)
	if err != nil {
		return err
	}
	fn, _ := goja.AssertFunction(f)
	_, err = fn(exports, exports, m.requireFrom(name), mod, m.rt.ToValue(name), m.rt.ToValue(path.Dir(name)))
	return err
}
