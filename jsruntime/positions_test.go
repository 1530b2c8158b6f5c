package jsruntime_test

import (
	"context"
	"os"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/jsruntime"
)

// framePos finds a position of user code in a stack or an error: "app.js:1:75",
// "src/app.ts:10:5".
var framePos = regexp.MustCompile(`(?:/var/task/|/)?(\w[\w/]*\.(?:js|mjs|ts)):(\d+):(\d+)`)

// framePosition returns the first position in stack: where the error was made. (Only the
// first: the frames of calls differ between engines, as goja marks a call at its "(" and V8
// at its callee.)
func framePosition(stack string) string {
	m := framePos.FindStringSubmatch(stack)
	if m == nil {
		return ""
	}
	return m[1] + ":" + m[2] + ":" + m[3]
}

// positionCase is a case of testdata/positions.json.
type positionCase struct {
	Name    string `json:"name"`
	Runtime string `json:"runtime"`
	File    string `json:"file"`
	Load    bool   `json:"load"` // the error is the load error (jsruntime.New's)
	Src     string `json:"src"`
	Want    string `json:"want"` // where Node says the error was made (testdata/positions.js)
}

// TestPositionsAsNode checks that the positions of user code in errors are Node's, on line 1
// too (minified code is one line), where the module wrapper once added 55 columns: in
// err.stack as the function reads it (logged with console.log), in load errors and syntax
// errors, for Lambda@Edge modules (CommonJS, ES, source-mapped) and CloudFront Functions, in
// process and in a worker. The cases and Node's positions are in testdata/positions.json
// (testdata/positions.js runs them under Node).
func TestPositionsAsNode(t *testing.T) {
	var cases []positionCase
	readJSON(t, "testdata/positions.json", &cases)
	if len(cases) < 10 {
		t.Fatalf("%d cases", len(cases))
	}
	for _, c := range cases {
		for _, iso := range []jsruntime.Isolation{jsruntime.InProcess, jsruntime.Process} {
			t.Run(c.Name+"/"+iso.String(), func(t *testing.T) {
				if c.Want == "" {
					t.Fatal("no position from Node (node testdata/positions.js)")
				}
				o := jsruntime.Options{Name: "t", Runtime: c.Runtime, Isolation: iso, Limits: hooks.Limits{Timeout: 5 * time.Second},
					Code:   jsruntime.Code{Files: map[string]string{c.File: c.Src}, Entry: c.File},
					Worker: jsruntime.WorkerOptions{Command: []string{os.Args[0]}, Env: []string{jsruntime.WorkerEnv + "=1"}}}
				ev := loadEvent(t, "lambda-edge-viewer-request.json")
				switch {
				case c.Load:
				case c.Runtime != "":
					ev = loadEvent(t, "cff-test-function-minimal-viewer-request.json")
				default:
					// app's handler runs under a caller that logs the stack it catches.
					o.Code.Files["index.js"] = `const app = require('./` + c.File + `');
exports.handler = async (e) => {
  try { await app.handler(e); } catch (err) { console.log(err.stack); }
  return e.Records[0].cf.request;
};`
					o.Code.Entry = "index.js"
				}
				f, err := jsruntime.New(o)
				if c.Load {
					if err == nil {
						f.Close()
						t.Fatal("no load error")
					}
					if got := framePosition(err.Error()); got != c.Want {
						t.Fatalf("load error at %q, want %q (Node's): %v", got, c.Want, err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				inv := f.InvokeDetailed(context.Background(), ev)
				var stack string
				if c.Runtime != "" {
					if inv.Err != nil || inv.Result.Request == nil {
						t.Fatalf("err %v, result %+v", inv.Err, inv.Result)
					}
					stack = inv.Result.Request.Headers.Get("x-s")
				} else {
					if inv.Err != nil || len(inv.Logs) == 0 {
						t.Fatalf("err %v, logs %v", inv.Err, inv.Logs)
					}
					stack = inv.Logs[0].Message
				}
				if got := framePosition(stack); got != c.Want {
					t.Fatalf("stack at %q, want %q (Node's):\n%s", got, c.Want, stack)
				}
			})
		}
	}
}

// TestTopLevelReturn: a CommonJS module may return at its top level, as in Node.
func TestTopLevelReturn(t *testing.T) {
	f := newFn(t, "exports.handler = async (e) => e.Records[0].cf.request;\nif (true) return;\nexports.handler = null;\n", nil)
	if _, err := f.Invoke(context.Background(), loadEvent(t, "lambda-edge-viewer-request.json")); err != nil {
		t.Fatal(err)
	}
}

// TestSourceMapReadsNoHostFile: a `//# sourceMappingURL=` names a map in the package or a
// data: URL, never a file of the host: a FIFO with no writer there (which blocks the reader)
// changes nothing, at deploy or on a load, in either dialect.
func TestSourceMapReadsNoHostFile(t *testing.T) {
	fifo := t.TempDir() + "/map"
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	for _, c := range []struct{ runtime, src string }{
		{"", "exports.handler = async (e) => e.Records[0].cf.request;\n//# sourceMappingURL=" + fifo + "\n"},
		{jsruntime.RuntimeCloudFrontJS2, "function handler(e) { return e.request }\n//# sourceMappingURL=" + fifo + "\n"},
		{jsruntime.RuntimeCloudFrontJS1, "function handler(e) { return e.request }\n//# sourceMappingURL=file://" + fifo + "\n"},
	} {
		done := make(chan error, 1)
		go func() {
			f, err := jsruntime.New(jsruntime.Options{Name: "t", Runtime: c.runtime, Code: jsruntime.SingleFile(c.src), MinWarm: 1})
			if err == nil {
				f.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%q: %v", c.runtime, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%q: New blocked reading the FIFO the map URL names", c.runtime)
		}
	}
}
