package jsruntime

import (
	"embed"
	"fmt"
	"strings"
	"sync"

	"github.com/dop251/goja"
	"github.com/dop251/goja_nodejs/require"
)

//go:embed js/*.js
var jsFS embed.FS

// builtinModules maps a require() name to the embedded file that implements it. Each is also
// reachable with the "node:" prefix.
var builtinModules = map[string]string{
	"buffer":           "buffer.js",
	"cloudfront":       "cloudfront.js",
	"crypto":           "crypto.js",
	"path":             "path.js",
	"querystring":      "querystring.js",
	"url":              "url.js",
	"util":             "util.js",
	"internal/inspect": "inspect.js",
	"internal/text":    "text.js",
}

// unavailableModules load as stubs whose functions throw (js/unavailable.js).
var unavailableModules = []string{"http", "https", "http2", "net", "tls", "dns", "fs", "zlib", "child_process", "worker_threads", "cluster", "dgram"}

// programs are the embedded modules compiled once per process. They are immutable and shared
// by every runtime (a *goja.Program may run in many runtimes).
var programs = sync.OnceValues(func() (map[string]*goja.Program, error) {
	out := map[string]*goja.Program{}
	compile := func(name, file, params string) error {
		src, err := jsFS.ReadFile("js/" + file)
		if err != nil {
			return err
		}
		p, err := goja.Compile("verge:"+name, "(function("+params+"){"+string(src)+"\n})", true)
		if err != nil {
			return fmt.Errorf("jsruntime: compile built-in %s: %w", name, err)
		}
		out[name] = p
		return nil
	}
	for name, file := range builtinModules {
		if err := compile(name, file, "module,exports,require,natives"); err != nil {
			return nil, err
		}
	}
	if err := compile("unavailable", "unavailable.js", "module,exports,require,natives"); err != nil {
		return nil, err
	}
	if err := compile("globals", "globals.js", "global,natives,require,opts"); err != nil {
		return nil, err
	}
	return out, nil
})

// registerBuiltins makes the embedded modules loadable through reg. nativesOf finds the native
// helpers of the runtime a module is being loaded into.
func registerBuiltins(reg *require.Registry, nativesOf func(*goja.Runtime) *goja.Object) error {
	progs, err := programs()
	if err != nil {
		return err
	}
	for name := range builtinModules {
		prg := progs[name]
		loader := func(rt *goja.Runtime, module *goja.Object) {
			f, err := rt.RunProgram(prg)
			if err != nil {
				panic(err)
			}
			fn, _ := goja.AssertFunction(f)
			nat := nativesOf(rt)
			if _, err := fn(goja.Undefined(), module, module.Get("exports"), nat.Get("require"), nat); err != nil {
				panic(err)
			}
		}
		reg.RegisterNativeModule(name, loader)
		if !strings.HasPrefix(name, "internal/") {
			reg.RegisterNativeModule("node:"+name, loader)
		}
	}
	for _, name := range unavailableModules {
		prg := progs["unavailable"]
		loader := func(rt *goja.Runtime, module *goja.Object) {
			f, err := rt.RunProgram(prg)
			if err != nil {
				panic(err)
			}
			fn, _ := goja.AssertFunction(f)
			nat := rt.NewObject()
			_ = nat.Set("moduleName", func(goja.FunctionCall) goja.Value { return rt.ToValue(name) })
			if _, err := fn(goja.Undefined(), module, module.Get("exports"), rt.Get("require"), nat); err != nil {
				panic(err)
			}
		}
		reg.RegisterNativeModule(name, loader)
		reg.RegisterNativeModule("node:"+name, loader)
	}
	return nil
}
