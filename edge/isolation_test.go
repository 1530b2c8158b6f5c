package edge

import "testing"

// TestFunctionIsolationDefault: a configuration function runs in a worker process unless it
// says in-process; in-process is kept when asked for.
func TestFunctionIsolationDefault(t *testing.T) {
	for _, tc := range []struct{ field, want string }{{"", "process"}, {"isolation: in-process, ", "in-process"}, {"isolation: process, ", "process"}} {
		cfg, err := ParseConfig("iso.yaml", []byte("origins: [{id: a, url: http://127.0.0.1:9}]\nbehaviors: [{path: \"*\"}]\n"+
			"functions: [{name: f, "+tc.field+"source: 'exports.handler = async (e) => e'}]\n"))
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Functions[0].Isolation; got != tc.want {
			t.Errorf("%q: isolation %q, want %q", tc.field, got, tc.want)
		}
	}
}
