package jsruntime_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	rep, err := jsruntime.RunTest(context.Background(), jsruntime.TestOptions{File: file, Event: ev, Runtime: jsruntime.RuntimeCloudFrontFunctions})
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
