package jsruntime_test

import (
	"context"
	"encoding/base64"
	"os"
	"regexp"
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

// positionMap is a source map (a bundler's) of positionMapped: its column 32 (the `new` of
// its throw, counted from 0 as maps count) comes from line 10, column 4 of src/app.ts, and
// column 33 from line 20.
var positionMap = base64.StdEncoding.EncodeToString([]byte(`{"version":3,"sources":["src/app.ts"],"names":[],"mappings":"AAAA,gCASI,CAUA"}`))

const positionMapped = "exports.handler=async()=>{throw new Error(\"m\")};\n//# sourceMappingURL=data:application/json;base64,"

// TestPositionsAsNode checks that the positions of user code in stacks are Node's, on line 1
// too (minified code is one line), where the module wrapper once added 55 columns: in
// err.stack as the function reads it (logged with console.log), in load errors and syntax
// errors, for Lambda@Edge modules (CommonJS, ES, source-mapped), in process and in a worker,
// and for CloudFront Functions. The wanted positions are what Node 20 printed for the same
// files (`node --enable-source-maps`, the first two frames in the file; app.js was
// required from another module, as here).
func TestPositionsAsNode(t *testing.T) {
	cases := []struct {
		name, runtime, file, src string
		want                     string // where Node says the error was made
		load                     bool   // the error is the load error (jsruntime.New's)
	}{
		{name: "minified one line", file: "app.js", want: "app.js:1:75",
			src: `exports.handler=async(e)=>{const r=e.Records[0].cf.request;if(r.uri)throw new Error("min");return r};`},
		{name: "nested on line 1", file: "app.js", want: "app.js:1:24",
			src: `function inner(){throw new Error("n1")}exports.handler=async()=>{inner()};`},
		{name: "nested on line 3", file: "app.js", want: "app.js:3:28",
			src: "// line 1\nexports.handler = async () => {\n  function inner() { throw new Error(\"n3\") }\n  return inner();\n};\n"},
		{name: "ES module", file: "app.mjs", want: "app.mjs:3:9",
			src: "import qs from 'querystring';\nexport const handler = async () => {\n  throw new Error(\"esm\"); };\n"},
		{name: "ES module, line 1", file: "app.mjs", want: "app.mjs:1:28",
			src: "const fail = () => { throw new Error(\"esm1\") };\nexport const handler = async () => fail();\n"},
		{name: "source map", file: "app.js", want: "src/app.ts:10:5", src: positionMapped + positionMap + "\n"},
		// A map naming a source it does not list is ignored (go-sourcemap panicked on it).
		{name: "bad source map", file: "app.js", want: "app.js:1:33", src: positionMapped +
			base64.StdEncoding.EncodeToString([]byte(`{"version":3,"sources":["src/app.ts"],"names":[],"mappings":"gCCAA"}`)) + "\n"},
		{name: "top level throw", file: "index.js", load: true, want: "index.js:1:20",
			src: `const a = 1; throw new Error("top");`},
		{name: "syntax error on line 1", file: "index.js", load: true, want: "index.js:1:43",
			src: "exports.handler = async () => { return 1 +; };\n"},
		{name: "cloudfront-js-1.0 syntax error", runtime: jsruntime.RuntimeCloudFrontJS1, file: "index.js", load: true,
			want: "index.js:1:36", src: "function handler(event){ return 1 +; }\n"},
		{name: "cloudfront-js-2.0 top level throw", runtime: jsruntime.RuntimeCloudFrontJS2, file: "index.js", load: true,
			want: "index.js:1:18", src: "var a = 1; throw new Error(\"t\");\nfunction handler(event){ return event.request }\n"},
		{name: "cloudfront-js-1.0", runtime: jsruntime.RuntimeCloudFrontJS1, file: "index.js", want: "index.js:1:55",
			src: `function handler(event){var r=event.request;try{throw new Error("c")}catch(e){r.headers["x-s"]={value:e.stack}}return r}`},
		{name: "cloudfront-js-2.0", runtime: jsruntime.RuntimeCloudFrontJS2, file: "index.js", want: "index.js:1:55",
			src: `function handler(event){var r=event.request;try{throw new Error("c")}catch(e){r.headers["x-s"]={value:e.stack}}return r}`},
	}
	for _, c := range cases {
		for _, iso := range []jsruntime.Isolation{jsruntime.InProcess, jsruntime.Process} {
			t.Run(c.name+"/"+iso.String(), func(t *testing.T) {
				o := jsruntime.Options{Name: "t", Runtime: c.runtime, Isolation: iso, Limits: hooks.Limits{Timeout: 5 * time.Second},
					Code:   jsruntime.Code{Files: map[string]string{c.file: c.src}, Entry: c.file},
					Worker: jsruntime.WorkerOptions{Command: []string{os.Args[0]}, Env: []string{jsruntime.WorkerEnv + "=1"}}}
				ev := loadEvent(t, "lambda-edge-viewer-request.json")
				switch {
				case c.load:
				case c.runtime != "":
					ev = loadEvent(t, "cff-test-function-minimal-viewer-request.json")
				default:
					// app's handler runs under a caller that logs the stack it catches.
					o.Code.Files["index.js"] = `const app = require('./` + c.file + `');
exports.handler = async (e) => {
  try { await app.handler(e); } catch (err) { console.log(err.stack); }
  return e.Records[0].cf.request;
};`
					o.Code.Entry = "index.js"
				}
				f, err := jsruntime.New(o)
				if c.load {
					if err == nil {
						f.Close()
						t.Fatal("no load error")
					}
					if got := framePosition(err.Error()); got != c.want {
						t.Fatalf("load error at %q, want %q (Node's): %v", got, c.want, err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				inv := f.InvokeDetailed(context.Background(), ev)
				var stack string
				if c.runtime != "" {
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
				if got := framePosition(stack); got != c.want {
					t.Fatalf("stack at %q, want %q (Node's):\n%s", got, c.want, stack)
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
