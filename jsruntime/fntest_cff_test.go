package jsruntime_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vergecdn/verge/jsruntime"
)

// TestRunTestCloudFrontFidelity checks verge fn test for CloudFront Functions against the
// TestFunction console: the event as the file gives it (its key order, no invented fields),
// a stage inferred when the event names none (with a note), ComputeUtilization, and the
// output wrapped with cookies filled in, in the function's key order.
func TestRunTestCloudFrontFidelity(t *testing.T) {
	dir := t.TempDir()
	fn := filepath.Join(dir, "index.js")
	src := `function handler(event) { console.log(JSON.stringify(event)); var r = event.response || event.request;
  if (event.response) { return {statusCode: 200, headers: {'x-a': {value: '1'}}} }
  r.headers['x-raw'] = {value: r.rawQueryString()}; return r }`
	if err := os.WriteFile(fn, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, tt := range map[string]struct {
		event, stage, log, output, note string
	}{
		"file order, no requestId": {
			event:  `{"viewer":{"ip":"1.2.3.4"},"request":{"uri":"/a","method":"GET","querystring":{"b":{"value":"2"},"a":{"value":"1"}}},"context":{"eventType":"viewer-request"},"version":"1.0"}`,
			log:    `{"viewer":{"ip":"1.2.3.4"},"request":{"uri":"/a","method":"GET","querystring":{"b":{"value":"2"},"a":{"value":"1"}},"headers":{},"cookies":{}},"context":{"eventType":"viewer-request"},"version":"1.0"}`,
			output: `{"request":{"uri":"/a","method":"GET","querystring":{"b":{"value":"2"},"a":{"value":"1"}},"headers":{"x-raw":{"value":"b=2&a=1"}},"cookies":{}}}`,
		},
		"inferred viewer-request": {
			event:  `{"request":{"method":"GET","uri":"/"}}`,
			log:    `{"request":{"method":"GET","uri":"/","querystring":{},"headers":{},"cookies":{}}}`,
			output: `{"request":{"method":"GET","uri":"/","querystring":{},"headers":{"x-raw":{"value":""}},"cookies":{}}}`,
			note:   "ran it as viewer-request",
		},
		"inferred viewer-response": {
			event:  `{"request":{"method":"GET","uri":"/"},"response":{"statusCode":200}}`,
			log:    `{"request":{"method":"GET","uri":"/","querystring":{},"headers":{},"cookies":{}},"response":{"statusCode":200,"headers":{},"cookies":{}}}`,
			output: `{"response":{"statusCode":200,"headers":{"x-a":{"value":"1"}},"cookies":{}}}`,
			note:   "ran it as viewer-response",
		},
	} {
		t.Run(name, func(t *testing.T) {
			rep, err := jsruntime.RunTest(context.Background(), jsruntime.TestOptions{File: fn, Event: []byte(tt.event), Stage: tt.stage,
				Runtime: jsruntime.RuntimeCloudFrontJS1})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Error != nil {
				t.Fatalf("error: %s", *rep.Error)
			}
			if len(rep.Logs) != 1 || rep.Logs[0] != tt.log {
				t.Errorf("event seen by the function:\n got  %q\n want %q", rep.Logs, tt.log)
			}
			if string(rep.Output) != tt.output {
				t.Errorf("output:\n got  %s\n want %s", rep.Output, tt.output)
			}
			if got := strings.Join(rep.Notes, "\n"); (tt.note == "") != (got == "") || !strings.Contains(got, tt.note) {
				t.Errorf("notes %q, want %q", got, tt.note)
			}
			if rep.ComputeUtilization == "" {
				t.Error("no ComputeUtilization")
			}
		})
	}
}

// TestRunTestLambdaEdgeFidelity checks verge fn test for Lambda@Edge: the event in the file's
// key order with no config field the file lacks, and a stage inferred from the shape.
func TestRunTestLambdaEdgeFidelity(t *testing.T) {
	dir := t.TempDir()
	fn := filepath.Join(dir, "index.js")
	src := `exports.handler = async (event) => { console.log(JSON.stringify(event)); const cf = event.Records[0].cf; return cf.response || cf.request; };`
	if err := os.WriteFile(fn, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, tt := range map[string]struct{ event, log, note string }{
		"file order": {
			event: `{"Records":[{"cf":{"request":{"uri":"/x","method":"GET","headers":{"host":[{"key":"Host","value":"a"}]},"querystring":"","clientIp":"1.1.1.1"},"config":{"eventType":"viewer-request","distributionId":"D"}}}]}`,
			log:   `{"Records":[{"cf":{"request":{"uri":"/x","method":"GET","headers":{"host":[{"key":"Host","value":"a"}]},"querystring":"","clientIp":"1.1.1.1"},"config":{"eventType":"viewer-request","distributionId":"D"}}}]}`,
		},
		"inferred origin-response": {
			event: `{"Records":[{"cf":{"config":{},"request":{"clientIp":"1.1.1.1","headers":{},"method":"GET","querystring":"","uri":"/"},"response":{"headers":{},"status":"200","statusDescription":"OK"}}}]}`,
			log:   `{"Records":[{"cf":{"config":{},"request":{"clientIp":"1.1.1.1","headers":{},"method":"GET","querystring":"","uri":"/"},"response":{"headers":{},"status":"200","statusDescription":"OK"}}}]}`,
			note:  "ran it as origin-response",
		},
	} {
		t.Run(name, func(t *testing.T) {
			rep, err := jsruntime.RunTest(context.Background(), jsruntime.TestOptions{File: fn, Event: []byte(tt.event)})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Error != nil {
				t.Fatalf("error: %s", *rep.Error)
			}
			if len(rep.Logs) != 1 || rep.Logs[0] != tt.log {
				t.Errorf("event seen by the function:\n got  %q\n want %q", rep.Logs, tt.log)
			}
			if got := strings.Join(rep.Notes, "\n"); (tt.note == "") != (got == "") || !strings.Contains(got, tt.note) {
				t.Errorf("notes %q, want %q", got, tt.note)
			}
		})
	}
}

// TestRunTestKVSErrors: a store file for a runtime without stores, and a malformed store
// file, are refused with a clear error before anything runs.
func TestRunTestKVSErrors(t *testing.T) {
	dir := t.TempDir()
	fn, store := filepath.Join(dir, "index.js"), filepath.Join(dir, "kvs.json")
	if err := os.WriteFile(fn, []byte("function handler(e) { return e.request }"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(store, []byte(`{"data":[{"key":"k"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	ev := []byte(`{"request":{"method":"GET","uri":"/"}}`)
	for runtime, want := range map[string]string{
		jsruntime.RuntimeCloudFrontJS1: "needs runtime cloudfront-js-2.0, not cloudfront-js-1.0",
		jsruntime.RuntimeCloudFrontJS2: "data[0] needs a string key and value",
	} {
		_, err := jsruntime.RunTest(context.Background(), jsruntime.TestOptions{File: fn, Event: ev, Runtime: runtime, KVS: store})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", runtime, err, want)
		}
	}
}
