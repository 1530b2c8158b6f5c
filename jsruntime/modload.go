package jsruntime

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
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
	// resolved maps a requiring module's directory and a name to the module it resolved to, so
	// that a require inside a handler costs a map lookup after its first call (a package
	// name's resolution walks node_modules and parses package.json files).
	resolved map[string]*goja.Object
}

// thrownError carries a JS error object made for a require (newJSError) to requireFrom, which
// throws it.
type thrownError struct{ v *goja.Object }

func (e thrownError) Error() string { return e.v.String() }

func newModules(p *program, rt *goja.Runtime, builtin *require.RequireModule) *modules {
	parse, _ := goja.AssertFunction(rt.Get("JSON").ToObject(rt).Get("parse"))
	return &modules{p: p, rt: rt, builtin: builtin, parse: parse, cache: map[string]*goja.Object{}, parent: map[string]string{},
		resolved: map[string]*goja.Object{}}
}

// requireFrom returns the require function of the module at absolute path from.
func (m *modules) requireFrom(from string) goja.Value {
	return builtin(m.rt, "require", 1, func(c goja.FunctionCall) goja.Value {
		id := c.Argument(0)
		if _, ok := id.Export().(string); !ok {
			panic(newJSError(m.rt, "TypeError", "ERR_INVALID_ARG_TYPE", `The "id" argument must be of type string. Received `+argDescription(id)))
		}
		name := id.String()
		if name == "" {
			panic(newJSError(m.rt, "TypeError", "ERR_INVALID_ARG_VALUE", "The argument 'id' must be a non-empty string. Received ''"))
		}
		exp, err := m.require(from, name)
		if err != nil {
			var ex *goja.Exception
			var te thrownError
			switch {
			case errors.As(err, &ex):
				panic(ex)
			case errors.As(err, &te):
				panic(te.v)
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
// that loaded it, and so on to the entry).
func (m *modules) notFound(from, name string) *goja.Object {
	var stack []any
	seen := map[string]bool{}
	for f := from; f != "" && !seen[f]; f = m.parent[f] { // parents may form a cycle (a module loaded again after it failed)
		seen[f] = true
		stack = append(stack, f)
	}
	msg := "Cannot find module '" + name + "'\nRequire stack:"
	for _, f := range stack {
		msg += "\n- " + f.(string)
	}
	e := newJSError(m.rt, "Error", "MODULE_NOT_FOUND", msg)
	_ = e.Set("requireStack", m.rt.NewArray(stack...))
	return e
}

// newJSError returns a new error of the global constructor ctor with Node's code, made as code
// that throws one makes it (reading the constructors in advance would build them in every
// runtime); if code replaced that global with what is not a constructor, goja's GoError.
func newJSError(rt *goja.Runtime, ctor, code, msg string) *goja.Object {
	var e *goja.Object
	if c, ok := goja.AssertConstructor(rt.Get(ctor)); ok {
		e, _ = c(nil, rt.ToValue(msg))
	}
	if e == nil {
		e = rt.NewGoError(errors.New(msg))
	}
	if code != "" {
		_ = e.Set("code", code)
	}
	return e
}

// argDescription describes a value as Node's argument errors do ("type number (1)", "undefined").
func argDescription(v goja.Value) string {
	switch {
	case v == nil || goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "null"
	}
	if o, ok := v.(*goja.Object); ok {
		if _, fn := goja.AssertFunction(o); fn {
			return "function"
		}
		return "an instance of Object"
	}
	t := "number"
	switch v.Export().(type) {
	case bool:
		t = "boolean"
	case string:
		t = "string"
	case *big.Int:
		t = "bigint"
	}
	return "type " + t + " (" + v.String() + ")"
}

// require returns the exports of module name as required from the module at path from, as
// Node resolves it: a path is a file or a directory (only a directory with a final slash), any
// other name a built-in module or a package under a node_modules directory. It returns nil,
// nil when nothing matches.
func (m *modules) require(from, name string) (goja.Value, error) {
	dir := path.Dir(from)
	key := dir + "\x00" + name
	if mod := m.resolved[key]; mod != nil {
		return mod.Get("exports"), nil
	}
	var mod *goja.Object
	var err error
	switch {
	case name == "." || name == ".." || strings.HasSuffix(name, "/") && isPath(name):
		mod, err = m.dir(from, resolvePath(dir, name))
	case isPath(name):
		mod, err = m.fileOrDir(from, resolvePath(dir, name))
	default:
		exp, berr := m.builtin.Require(name)
		if berr == nil || !errors.Is(berr, require.InvalidModuleError) {
			return exp, berr
		}
		mod, err = m.nodeModules(from, name)
	}
	if mod == nil || err != nil {
		return nil, err
	}
	m.resolved[key] = mod
	return mod.Get("exports"), nil
}

// isPath reports whether a require names a path rather than a module.
func isPath(name string) bool {
	return name == "." || name == ".." || strings.HasPrefix(name, "/") || strings.HasPrefix(name, "./") || strings.HasPrefix(name, "../")
}

// nodeModules loads package name (with a subpath: "pkg/lib", "@scope/pkg/lib") from the
// nearest node_modules directory that has it, from the directory of the module at path from up
// to the root. A package whose package.json has "exports" is reached through them only.
func (m *modules) nodeModules(from, name string) (*goja.Object, error) {
	pkgName, sub := splitPackage(name)
	for d := path.Dir(from); ; d = path.Dir(d) {
		if path.Base(d) != "node_modules" {
			base := path.Join(d, "node_modules", pkgName)
			pkg, err := m.packageJSON(base)
			if err != nil {
				return nil, err
			}
			if pkg != nil && pkg.Exports != nil {
				target, err := m.exportsTarget(base, pkg.Exports, sub)
				if err != nil {
					return nil, err
				}
				return m.load(from, target)
			}
			if mod, err := m.fileOrDir(from, path.Join(d, "node_modules", name)); mod != nil || err != nil {
				return mod, err
			}
		}
		if d == "/" || d == "." {
			return nil, nil
		}
	}
}

// splitPackage splits a module name into its package ("pkg", "@scope/pkg") and the subpath
// within it ("." or "./lib").
func splitPackage(name string) (pkg, sub string) {
	parts := strings.SplitN(name, "/", 3)
	n := 1
	if strings.HasPrefix(name, "@") && len(parts) > 1 {
		n = 2
	}
	if len(parts) <= n {
		return name, "."
	}
	pkg = strings.Join(parts[:n], "/")
	return pkg, "." + name[len(pkg):]
}

// packageInfo is what require reads of a package.json.
type packageInfo struct {
	Main    string          `json:"main"`
	Exports json.RawMessage `json:"exports"`
}

// packageJSON reads dir's package.json: nil when there is none, and Node's error when it does
// not parse.
func (m *modules) packageJSON(dir string) (*packageInfo, error) {
	b, err := m.p.load(dir + "/package.json")
	if err != nil {
		return nil, nil
	}
	var pkg packageInfo
	if err := json.Unmarshal(bytes.TrimPrefix(b, []byte("\uFEFF")), &pkg); err != nil {
		return nil, thrownError{newJSError(m.rt, "SyntaxError", "", "Error parsing "+dir+"/package.json: "+err.Error())}
	}
	if string(pkg.Exports) == "null" {
		pkg.Exports = nil
	}
	return &pkg, nil
}

// fileOrDir loads p, a file or a directory, for the module at path from.
func (m *modules) fileOrDir(from, p string) (*goja.Object, error) {
	if mod, err := m.file(from, p); mod != nil || err != nil {
		return mod, err
	}
	return m.dir(from, p)
}

// dir loads directory p: its package.json's main, else its index.
func (m *modules) dir(from, p string) (*goja.Object, error) {
	pkg, err := m.packageJSON(p)
	if err != nil {
		return nil, err
	}
	if pkg != nil && pkg.Main != "" {
		main := resolvePath(p, pkg.Main)
		if mod, err := m.file(from, main); mod != nil || err != nil {
			return mod, err
		}
		if mod, err := m.index(from, main); mod != nil || err != nil {
			return mod, err
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
		v, err := m.parse(goja.Undefined(), m.rt.ToValue(strings.TrimPrefix(src, "\uFEFF")))
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
