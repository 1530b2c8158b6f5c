package hostile

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/jsruntime"
)

// nestedTemplate is the 900 KB upload that killed a node: brackets nested inside template
// literal substitutions, deep enough to overflow a goroutine stack in goja's parser.
func nestedTemplate() string {
	const n = 900_000 / 8
	return "exports.handler = async () => " + strings.Repeat("`${[(", n) + strings.Repeat(")]}`", n)
}

// TestHostileUploadCompilesInWorker: with Process isolation nothing of an upload is parsed in
// the node. The upload that overflowed the parser's stack costs only the worker compiling it:
// the worker dies of it (built with -race, whose frames are larger) or is killed at
// InitTimeout (without: the parse runs on, for minutes), and New answers with a clear error
// while this process (the node) lives on; a syntax error still arrives with its position.
func TestHostileUploadCompilesInWorker(t *testing.T) {
	opts := func(src string) jsruntime.Options {
		return jsruntime.Options{
			Name: "upload", Code: jsruntime.SingleFile(src), Isolation: jsruntime.Process,
			Limits: hooks.Limits{MemoryMB: 128}, MaxSourceBytes: 1 << 20, InitTimeout: 3 * time.Second,
			Worker: jsruntime.WorkerOptions{Command: []string{os.Args[0]}, Env: []string{jsruntime.WorkerEnv + "=1"}},
		}
	}
	o := opts(nestedTemplate())
	o.MaxNesting = 1 << 30 // the in-process guard is not what protects the node
	_, err := jsruntime.New(o)
	if err == nil || !strings.Contains(err.Error(), "nests too deeply or exhausts the worker's limits while compiling") &&
		!strings.Contains(err.Error(), "compiling and loading the code took longer than 3s") {
		t.Fatalf("hostile upload: %v", err)
	}

	_, err = jsruntime.New(opts("exports.handler = async (e) => {\n  return e.;\n};"))
	var se *jsruntime.SyntaxError
	if !errors.As(err, &se) || se.File != "index.js" || se.Line != 2 || se.Column != 12 {
		t.Fatalf("syntax error from a worker: %#v (%v)", se, err)
	}
}
