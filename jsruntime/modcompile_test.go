package jsruntime

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"
)

// FuzzCompileModule: compileModule takes any source without panicking, and a syntax error's
// position is in the file itself, never in the wrapper around it: its line is one of the
// file's (or the one after its end) and its column within that line (or just past it).
func FuzzCompileModule(f *testing.F) {
	for _, s := range []string{
		"exports.handler = async (e) => e;",
		"throw new Error('x');",
		"exports.handler = async () => { return 1 +; };",
		"return;\nexports.x = 1",
		"let a; let a;",
		"exports.h=()=>1;\n//# sourceMappingURL=data:application/json;base64,e30=",
		"exports.h=()=>1;\n//# sourceMappingURL=index.js.map\n",
	} {
		f.Add(s)
	}
	load := func(string) ([]byte, error) { return []byte(`{"version":3,"sources":["a.ts"],"mappings":"AAAA"}`), nil }
	f.Fuzz(func(t *testing.T, src string) {
		_, err := compileModule(taskRoot+"/index.js", src, load)
		var se *SyntaxError
		if !errors.As(err, &se) {
			return
		}
		// JavaScript's line terminators, as the parser counts lines.
		eol := strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u2028", "\n", "\u2029", "\n")
		lines := strings.Split(eol.Replace(src+"\n})"), "\n")
		if se.Line < 1 || se.Line > len(lines) || se.Column < 1 || se.Column > len(lines[se.Line-1])+1 {
			t.Fatalf("syntax error at %d:%d, outside the file's %d lines: %v", se.Line, se.Column, len(lines), se)
		}
	})
}

// scriptLike are sources whose errors have the same stacks compiled as a module or as a script.
var scriptLike = []string{
	`throw new Error("top")`,
	`var f = function (a = (() => { throw new Error("d") })()) {}; f();`,
	`class A { x = (() => { throw new Error("c") })() }; new A();`,
	"function t() { throw new Error('t') } t`x`;",
	`const o = { get g() { throw new Error("g") } }; o.g;`,
	"const s = `a${\n(() => { throw new Error('m') })()}`;",
	"let x = 1; x.y.z;",
	"switch (1) { case 1: throw new Error('s') }",
	"for (const k of [1]) { if (k) throw new Error('f') }",
	"const { b = (() => { throw new Error('b') })() } = {};",
	"function g(a,\n b) { return a.c.d }\ng(1, 2);",
	"var z = [1, 2].map((v) => v.w.q);",
	"function h(n) { if (n) return h(n - 1); throw new Error('deep') } h(3)",
	"try { null.x } catch (e) { throw new Error('again ' + e.name) }",
	"label: for (;;) { (function () { undefinedName })() }",
	"var r = /a/; r.lastIndex = 0; JSON.parse('{')",
	"\r\nthrow new Error('crlf')",
	"var u = 'é'; throw new Error('u')",
	"var v = 1; undefinedTag\n`x`",
	"function tag() { throw new Error('tag') } var w = 1; tag\n`x${1}`",
	"function tag() { throw new Error('tag') } var w = 1, o = { t: tag }; o.\nt\n`x` + 1",
	"var q = 1; (() => { throw new Error('call') })\n``",
}

// TestCompileModuleAsScript: a module compiled by compileModule reports the positions the same
// code has when goja compiles it as a script, with no wrapper, in every frame of its stack:
// line 1's positions are all moved back, whatever node holds them, and later lines' kept.
func TestCompileModuleAsScript(t *testing.T) {
	for _, src := range scriptLike {
		module, script, ok := moduleAndScript(src)
		if !ok || module != script || script == "" {
			t.Errorf("%q: module %q, script %q (%v)", src, module, script, ok)
		}
	}
}

// FuzzCompileModuleAsScript: TestCompileModuleAsScript's property for any source that
// compiles both ways and fails the same way in both.
func FuzzCompileModuleAsScript(f *testing.F) {
	for _, s := range scriptLike {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if module, script, ok := moduleAndScript(src); ok && module != script {
			t.Fatalf("module %q, script %q", module, script)
		}
	})
}

var positionsIn = regexp.MustCompile(`index\.js:\d+:\d+`)

// moduleAndScript runs src compiled by compileModule and by goja as a script, each in a new
// runtime for at most 100 ms, and returns the positions in index.js of both errors' stacks;
// ok says both threw an error with the same message.
func moduleAndScript(src string) (module, script string, ok bool) {
	run := func(compile func() (*goja.Program, error), call bool) (string, string) {
		prg, err := compile()
		if err != nil {
			return "", ""
		}
		rt := goja.New()
		rt.SetMaxCallStackSize(50)
		timer := time.AfterFunc(100*time.Millisecond, func() { rt.Interrupt("timeout") })
		defer timer.Stop()
		v, err := rt.RunProgram(prg)
		if fn, isFn := goja.AssertFunction(v); err == nil && call && isFn {
			_, err = fn(goja.Undefined(), rt.NewObject(), goja.Undefined(), rt.NewObject())
		}
		var ex *goja.Exception
		if !errors.As(err, &ex) {
			return "", ""
		}
		return ex.Error(), strings.Join(positionsIn.FindAllString(ex.String(), -1), " ")
	}
	mMsg, module := run(func() (*goja.Program, error) { return compileModule(taskRoot+"/index.js", src, noFiles) }, true)
	sMsg, script := run(func() (*goja.Program, error) { return goja.Compile(taskRoot+"/index.js", src, false) }, false)
	first := func(s string) string { l, _, _ := strings.Cut(s, " at "); return l }
	return module, script, mMsg != "" && first(mMsg) == first(sMsg)
}
