package jsruntime

import (
	"errors"
	"strings"
	"testing"
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
