package jsruntime_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vergecdn/verge/jsruntime"
)

// TestRunTestContract checks the exact top-level shape of `verge fn test` output.
func TestRunTestContract(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "h.js")
	if err := os.WriteFile(file, []byte(`exports.handler = async (e) => { console.log('hi', {a: 1}); return e.Records[0].cf.request }`), 0o600); err != nil {
		t.Fatal(err)
	}
	ev, _ := os.ReadFile("testdata/events/lambda-edge-viewer-request.json")
	rep, err := jsruntime.RunTest(context.Background(), jsruntime.TestOptions{File: file, Event: ev})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(rep)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m) != 4 || string(m["error"]) != "null" || string(m["logs"]) != `["hi { a: 1 }"]` || !strings.HasPrefix(string(m["output"]), `{"clientIp"`) {
		t.Fatalf("report %s", b)
	}
	if _, err := jsruntime.RunTest(context.Background(), jsruntime.TestOptions{File: filepath.Join(dir, "missing.js"), Event: ev}); err == nil {
		t.Fatal("missing file accepted")
	}
}

func TestCFFFrozenClockAndAWSShape(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f.js")
	src := `function handler(event) { var a = Date.now(); for (var i = 0; i < 1e5; i++) {} ; event.request.headers['x-same'] = {value: String(a === Date.now())}; return event.request }`
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	ev, _ := os.ReadFile("testdata/events/cff-test-function-minimal-viewer-request.json")
	// The loop lets the clock move (it takes a few ms, ten times that under the race detector:
	// past CloudFront Functions' default limit, hence the timeout).
	rep, err := jsruntime.RunTest(context.Background(), jsruntime.TestOptions{File: file, Event: ev,
		Runtime: jsruntime.RuntimeCloudFrontFunctions, Timeout: 5 * time.Second})
	if err != nil || rep.Error != nil {
		t.Fatal(err, rep.Error)
	}
	if !strings.Contains(string(rep.Output), `"x-same":{"value":"true"}`) {
		t.Fatalf("output %s", rep.Output)
	}
	aws := rep.AWS()
	if !strings.HasPrefix(aws.FunctionOutput, `{"request":`) || aws.ComputeUtilization == "" {
		t.Fatalf("%+v", aws)
	}
}

// TestRunTestReadsSiblingsOnDemand: only required files are read, so unrelated broken files
// beside the handler do not matter; a shebang line is ignored as in Node.
func TestRunTestReadsSiblingsOnDemand(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("h.js", "#!/usr/bin/env node\nconst lib = require('./lib/x');\nexports.handler = async (e) => { console.log(lib.v); return e.Records[0].cf.request }")
	write("lib/x.js", "exports.v = require('../data.json').v")
	write("data.json", `{"v": 42}`)
	write("broken.js", "this is not javascript (")
	write("other/deep.js", "nor is this {")
	ev, _ := os.ReadFile("testdata/events/lambda-edge-viewer-request.json")
	rep, err := jsruntime.RunTest(context.Background(), jsruntime.TestOptions{File: filepath.Join(dir, "h.js"), Event: ev})
	if err != nil || rep.Error != nil || len(rep.Logs) != 1 || rep.Logs[0] != "42" {
		t.Fatalf("%v %v %q", err, rep.Error, rep.Logs)
	}
	if _, err := jsruntime.New(jsruntime.Options{Code: jsruntime.Code{Files: map[string]string{"index.js": "require('../../etc/passwd')"}, Dir: dir}}); err == nil {
		t.Fatal("a require escaped the package directory")
	}
}
