package admin_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/vergecdn/verge/deploy"
	"github.com/vergecdn/verge/internal/syncbuf"
	"github.com/vergecdn/verge/jsruntime"
)

// zipOf returns a zip archive of files (name -> content).
func zipOf(t *testing.T, files map[string]string) string {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, src := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(src))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// workerOptions runs uploaded code in worker processes of this test binary (see TestMain).
func workerOptions() deploy.Options {
	exe, _ := os.Executable()
	return deploy.Options{Worker: jsruntime.WorkerOptions{Command: []string{exe}, Env: []string{jsruntime.WorkerEnv + "=1"}}}
}

// TestUploadCodeErrors: every upload that fails because of its code is a 400 that says what
// is wrong, in worker processes (the default) and in process, and the node logs it as no
// internal error; nothing is stored ($LATEST keeps its code and keeps serving).
func TestUploadCodeErrors(t *testing.T) {
	type upload struct {
		name, query, body string
		has               []string // in the error message
		workerOnly        bool     // in process it would take the test's memory or time
	}
	uploads := []upload{
		{name: "syntax", body: "exports.handler = async (e) => {\n  return e.;\n};", has: []string{"line 2, column 12"}},
		{name: "top-level throw", body: "throw new Error(\"boom at load\");\n", has: []string{"boom at load"}},
		{name: "no handler", body: "exports.other = 1;\n", has: []string{"handler"}},
		{name: "handler not a function", body: "exports.handler = 42;\n", has: []string{"handler"}},
		{name: "exports replaced by a number", body: "module.exports = 7;\n", has: []string{"handler"}},
		{name: "zip without a handler", body: zipOf(t, map[string]string{"lib/only.js": "exports.x = 1;\n"}), has: []string{"handler"}},
		{name: "zip requiring a missing file", body: zipOf(t, map[string]string{"index.js": "require('./nope.js');\n"}), has: []string{"Cannot find module './nope.js'"}},
		{name: "const in cloudfront-js-1.0", query: "?runtime=cloudfront-js-1.0",
			body: "function handler(event) {\n  const x = 1;\n  return event.request;\n}\n", has: []string{"const", "2:3"}},
		{name: "import in cloudfront-js-1.0", query: "?runtime=cloudfront-js-1.0",
			body: "import cf from 'cloudfront';\nfunction handler(event) { return event.request; }\n", has: []string{"import"}},
		{name: "loop at load", body: "while (true) {}\n", has: []string{"longer than"}, workerOnly: true},
		{name: "memory at load", body: "var a = []; for (;;) a.push('x'.repeat(1 << 23) + a.length);\n", workerOnly: true},
	}
	modes := map[string]deploy.Options{"worker": workerOptions(), "in-process": {InProcess: true}}
	for mode, opts := range modes {
		t.Run(mode, func(t *testing.T) {
			var logs syncbuf.Buffer
			n := startNodeWith(t, t.TempDir(), origin(t).URL, nil, opts, &logs)
			n.must(t, "PUT", "/v1/functions/f/code", versionFn("good"), 200)
			n.must(t, "PUT", "/v1/functions/c/code?runtime=cloudfront-js-1.0", "function handler(event) { return event.request; }", 200)
			latest := map[string]any{"f": n.must(t, "GET", "/v1/functions/f", "", 200)["latest"],
				"c": n.must(t, "GET", "/v1/functions/c", "", 200)["latest"]}
			for _, u := range uploads {
				if u.workerOnly && mode != "worker" {
					continue
				}
				t.Run(u.name, func(t *testing.T) {
					fn := "f"
					if strings.Contains(u.query, "cloudfront") {
						fn = "c"
					}
					status, m := n.call(t, "PUT", "/v1/functions/"+fn+"/code"+u.query, []byte(u.body))
					msg, _ := m["error"].(string)
					if status != 400 {
						t.Fatalf("status %d (%q), want 400", status, msg)
					}
					for _, h := range u.has {
						if !strings.Contains(msg, h) {
							t.Errorf("error %q does not say %q", msg, h)
						}
					}
					if got := n.must(t, "GET", "/v1/functions/"+fn, "", 200)["latest"]; !equalJSON(got, latest[fn]) {
						t.Errorf("$LATEST changed: %v, was %v", got, latest[fn])
					}
					t.Log(msg)
				})
			}
			m := n.must(t, "POST", "/v1/functions/f/invoke", viewerResponseEvent, 200)
			if m["error"] != nil || !strings.Contains(string(mustJSON(m["output"])), "good") {
				t.Fatalf("$LATEST after the refused uploads: %v", m)
			}
			if l := logs.String(); strings.Contains(l, "level=ERROR") || strings.Contains(l, "internal error") {
				t.Errorf("a refused upload was logged as the node's error:\n%s", l)
			}
			if l := logs.String(); !strings.Contains(l, "function=f") {
				t.Errorf("the refused uploads were not logged with the function's name:\n%s", l)
			}
		})
	}
}

// TestUploadNodeFailure: a node that cannot start a worker process to check an upload
// answers 5xx (its own failure, logged as an error), not 400, and stores nothing.
func TestUploadNodeFailure(t *testing.T) {
	var logs syncbuf.Buffer
	o := deploy.Options{Worker: jsruntime.WorkerOptions{Command: []string{"/nonexistent/verge-worker"}}}
	n := startNodeWith(t, t.TempDir(), origin(t).URL, nil, o, &logs)
	status, m := n.call(t, "PUT", "/v1/functions/f/code", []byte(versionFn("good")))
	if status < 500 {
		t.Fatalf("status %d %v, want 5xx", status, m)
	}
	n.must(t, "GET", "/v1/functions/f", "", 404)
	if !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("the node's failure was not logged as an error:\n%s", logs.String())
	}
}

// viewerResponseEvent is a test-invoke event for a viewer-response function.
const viewerResponseEvent = `{"Records":[{"cf":{"config":{"eventType":"viewer-response"},
  "request":{"method":"GET","uri":"/","querystring":"","headers":{},"clientIp":"1.2.3.4"},
  "response":{"status":"200","statusDescription":"OK","headers":{}}}}]}`

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func equalJSON(a, b any) bool { return bytes.Equal(mustJSON(a), mustJSON(b)) }
