package main

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// TestFnTestRuntime: with no --runtime, a CloudFront Functions event runs as one (and says so
// on stderr); a CloudFront Function run as Lambda@Edge fails with a hint to pass --runtime.
func TestFnTestRuntime(t *testing.T) {
	const cff = "examples/cloudfront-functions/index-rewrite/"
	tests := []struct {
		name              string
		args              []string
		ok                bool
		stdout, stderr    string
		notStdout, notErr string
	}{
		{"inferred from the event", []string{"--file", cff + "index.js", "--event", cff + "event.json"}, true,
			`"uri":"/docs/index.html"`, "is a CloudFront Functions event", "", ""},
		{"chosen by the flag", []string{"--file", cff + "index.js", "--event", cff + "event.json", "--runtime", "cloudfront-functions"}, true,
			`"uri":"/docs/index.html"`, "", "", "CloudFront Functions event"},
		{"a CloudFront Function on a Lambda@Edge event", []string{"--file", cff + "index.js", "--event", "examples/lambda-edge/basic-auth/event.json"}, false,
			"try --runtime cloudfront-functions", "", "", ""},
		{"no eventType: the stage is inferred", []string{"--file", cff + "index.js", "--event", "cmd/verge/testdata/cff-no-event-type.json", "--runtime", "cloudfront-js-1.0"}, true,
			`"computeUtilization":"`, "has no eventType: ran it as viewer-request", "", ""},
		{"no hint for a Lambda@Edge module", []string{"--file", "examples/lambda-edge/basic-auth/index.js", "--event", "examples/lambda-edge/basic-auth/event.json"}, true,
			`"status":"401"`, "", "try --runtime", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(verge, append([]string{"fn", "test"}, tt.args...)...)
			cmd.Dir = "../.."
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			err := cmd.Run()
			if (err == nil) != tt.ok {
				t.Fatalf("exit %v, want ok=%v\nstdout %s\nstderr %s", err, tt.ok, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), tt.stdout) || !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("stdout %q\nstderr %q\nwant %q and %q", out.String(), errb.String(), tt.stdout, tt.stderr)
			}
			if (tt.notStdout != "" && strings.Contains(out.String(), tt.notStdout)) || (tt.notErr != "" && strings.Contains(errb.String(), tt.notErr)) {
				t.Errorf("stdout %q\nstderr %q\nmust not hold %q / %q", out.String(), errb.String(), tt.notStdout, tt.notErr)
			}
		})
	}
}
