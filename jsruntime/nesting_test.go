package jsruntime

import (
	"errors"
	"strings"
	"testing"
)

// TestSourceNesting: brackets inside template substitutions count (the upload that overflowed
// the node's stack hid there), and brackets in strings, comments, template text and regular
// expression literals do not.
func TestSourceNesting(t *testing.T) {
	tests := []struct {
		src  string
		want int
	}{
		{"f(a[b{c}])", 3},
		{"`${[(1)]}`", 3},
		{strings.Repeat("`${[(", 100) + strings.Repeat(")]}`", 100), 300},
		{"`a${`b${(1)}`}c${[2]}`", 3},
		{"`((( ${1} [[[`", 1},
		{"'((('; \"[[[\"; // {{{\n/* ((( */ (1)", 1},
		{"x = /'/; ((((1))))", 4},
		{"return /[/(]/.test(s) && ((1))", 2},
		{"a = b / c / (d)", 1},
		{"s.replace(/\\(/g, '(')", 1},
	}
	for _, tc := range tests {
		if got := sourceNesting(tc.src); got != tc.want {
			t.Errorf("sourceNesting(%.40q) = %d, want %d", tc.src, got, tc.want)
		}
	}
}

// FuzzCompile: the guard and the compile path take any source without panicking, and a
// source the guard counts over the limit is refused before it reaches the parser.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"exports.handler = async (e) => e;",
		"exports.handler = async () => `${[(`${1}`)]}`;",
		"exports.handler = async () => /'/.test(\"(\") ? ((1)) : [[2]];",
		"export default async function handler() { return { status: '200' } }",
		"exports.handler = (",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, src string, cff bool) {
		o := Options{Code: SingleFile(src), MaxNesting: 40}
		if cff {
			o.Runtime = RuntimeCloudFrontFunctions
		}
		o = o.withDefaults()
		_, err := compile(o)
		if sourceNesting(prepareSource(o.Runtime, "index.js", src)) > o.MaxNesting && (err == nil || !strings.Contains(err.Error(), "over the limit")) {
			t.Fatalf("over the nesting limit, compile answered %v", err)
		}
		var se *SyntaxError
		if errors.As(err, &se) && (se.Line < 1 || se.Column < 0) {
			t.Fatalf("syntax error without a position: %#v", se)
		}
	})
}
