package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vergecdn/verge/edge"
)

// TestErrorsNameTheUsersFile: the errors of a single file deployed with `fn deploy --file`
// (a syntax error, a throw at load, a stack trace logged at invocation) and of a configuration
// function's file name that file, as `fn test --file` does, not "index.js".
func TestErrorsNameTheUsersFile(t *testing.T) {
	n := startFnNode(t, nil)
	t.Setenv("VERGE_ADMIN", "http://"+n.srv.AdminAddr())
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	syntax := write("syntax.js", "exports.handler = async (e) => {\n  const r = e;\n  return r.;\n};\n")
	throws := write("throws.js", "\nthrow new Error('thrown at load');\n")
	boom := write("boom.cjs", "exports.handler = async () => {\n  console.log(new Error('where').stack);\n  throw new Error('boom at the edge');\n};\n")
	event := write("event.json", `{"Records":[{"cf":{"config":{"eventType":"viewer-request"},
	  "request":{"method":"GET","uri":"/","querystring":"","headers":{},"clientIp":"1.2.3.4"}}}]}`)
	if _, err := fn("deploy", "boom", "--file", boom); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string // in the output, or the error
	}{
		{"syntax error at deploy", []string{"deploy", "bad", "--file", syntax}, "syntax error in syntax.js at line 3"},
		{"throw at load", []string{"deploy", "bad", "--file", throws}, "throws.js:2"},
		{"stack trace logged at invocation", []string{"invoke", "boom", "--event", event}, "boom.cjs:2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := fn(tt.args...)
			if err != nil {
				out += err.Error()
			}
			if !strings.Contains(out, tt.want) || strings.Contains(out, "index.js") {
				t.Fatalf("fn %v: %q, want it to name %q and not index.js", tt.args, out, tt.want)
			}
		})
	}
	t.Run("configuration function", func(t *testing.T) {
		l, err := newFunctionLoader(prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		_, err = l.Load(edge.FunctionConfig{Name: "cfg", Runtime: "lambda-edge", Isolation: "in-process"}, syntax)
		if err == nil || !strings.Contains(err.Error(), "syntax.js:3:") || strings.Contains(err.Error(), "index.js") {
			t.Fatalf("load: %v, want it to name syntax.js:3", err)
		}
	})
}
