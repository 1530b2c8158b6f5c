package jsruntime_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/vergecdn/verge/jsruntime"
)

// A function that fails to load says so once: "jsruntime: NAME:VERSION: cause", with no
// second package prefix, and its typed cause stays reachable.
func TestLoadErrorNamesThePackageOnce(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"no handler", "exports.other = 1;", "jsruntime: f:3: the function defines no handler"},
		{"syntax", "exports.handler = async () => {\n  var = 1;\n};\n", "jsruntime: f:3: compile: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := jsruntime.New(jsruntime.Options{Name: "f", Version: "3", Code: jsruntime.SingleFile(tt.src)})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) || strings.Count(err.Error(), "jsruntime:") != 1 {
				t.Fatalf("error %v, want it to start %q with one package prefix", err, tt.want)
			}
			var se *jsruntime.SyntaxError
			if tt.name == "syntax" && !errors.As(err, &se) {
				t.Errorf("the syntax error is not a *jsruntime.SyntaxError: %T", errors.Unwrap(err))
			}
		})
	}
}
