package deploy_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/vergecdn/verge/deploy"
	"github.com/vergecdn/verge/jsruntime"
	"github.com/vergecdn/verge/registry"
)

// TestCheckInWorker: with uploaded code in worker processes (the default), Check compiles in
// a worker: a syntax error keeps its file, line and column, and the 900 KB upload that
// overflowed the node's parser stack fails the check while this process (the node) lives on.
func TestCheckInWorker(t *testing.T) {
	exe, _ := os.Executable()
	e := start(t, deploy.Options{Worker: jsruntime.WorkerOptions{Command: []string{exe}, Env: []string{jsruntime.WorkerEnv + "=1"}}})
	err := e.act.Check("f", "", "", registry.Source{Files: map[string]string{"index.js": "require('./lib/a.js')", "lib/a.js": "\n\nvar = 1;"}, Entry: "index.js"})
	var ce *deploy.CompileError
	if !errors.As(err, &ce) || ce.File != "lib/a.js" || ce.Line != 3 || ce.Column != 5 {
		t.Fatalf("syntax error: %#v (%v)", ce, err)
	}
	const n = 900_000 / 8
	src := "exports.handler = async () => " + strings.Repeat("`${[(", n) + strings.Repeat(")]}`", n)
	err = e.act.Check("f", "", "", registry.Source{Files: map[string]string{"index.js": src}, Entry: "index.js"})
	if err == nil || errors.As(err, &ce) {
		t.Fatalf("hostile upload: %v", err)
	}
	t.Log(err)
}
