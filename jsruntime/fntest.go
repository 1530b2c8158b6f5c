package jsruntime

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vergecdn/verge/hooks"
)

// TestOptions configure RunTest (`verge fn test`).
type TestOptions struct {
	// File is the handler's source file. The .js, .cjs and .json files beside it (and below it)
	// are bundled too, so relative requires work.
	File string
	// Event is the event JSON (either dialect).
	Event []byte
	// Runtime is RuntimeLambdaEdge (default) or RuntimeCloudFrontFunctions.
	Runtime string
	// Stage overrides the event's eventType ("viewer-request", ...).
	Stage string
	// Timeout overrides the stage's default limit.
	Timeout time.Duration
	// KVS, if set, is the KeyValueStore a CloudFront function reads with cf.kvs(): a file in
	// CloudFront's import format, read once (verge fn test --kvs).
	KVS string
}

// TestReport is the JSON `verge fn test` prints: {"output", "logs", "durationMs", "error"}.
// Output is what the function returned (for CloudFront Functions wrapped as {"request":...} or
// {"response":...}, as the TestFunction API does), or null.
type TestReport struct {
	Output     json.RawMessage `json:"output"`
	Logs       []string        `json:"logs"`
	DurationMs float64         `json:"durationMs"`
	Error      *string         `json:"error"`
}

// RunTest runs one function on one event in this process, without a server, and validates its
// result with CloudFront's rules. The error is non-nil only when the function could not be run
// at all (unreadable file, bad event, compile error); a function failure is reported in
// TestReport.Error. Either way the caller exits non-zero when Error is set.
func RunTest(ctx context.Context, o TestOptions) (TestReport, error) {
	code, err := loadPackage(o.File)
	if err != nil {
		return TestReport{}, err
	}
	ev, err := ParseEvent(o.Event, o.Stage)
	if err != nil {
		return TestReport{}, err
	}
	opts := Options{Name: strings.TrimSuffix(filepath.Base(o.File), filepath.Ext(o.File)), Runtime: o.Runtime,
		Code: code, Limits: hooks.Limits{Timeout: o.Timeout}, MinWarm: 1, MaxConcurrency: 1}
	if o.KVS != "" {
		if opts.KVS, err = readKVSFile(o.KVS); err != nil {
			return TestReport{}, err
		}
	}
	f, err := New(opts)
	if err != nil {
		return TestReport{}, err
	}
	defer f.Close()
	inv := f.InvokeDetailed(ctx, ev)
	rep := TestReport{Logs: make([]string, 0, len(inv.Logs)), DurationMs: float64(inv.Duration.Microseconds()) / 1000}
	for _, l := range inv.Logs {
		rep.Logs = append(rep.Logs, l.Message)
	}
	rep.Output = inv.Output
	if len(rep.Output) == 0 {
		rep.Output = json.RawMessage("null")
	}
	if f.opts.cff() && inv.Err == nil {
		rep.Output = wrapCFFOutput(rep.Output, inv.Result)
	}
	err = inv.Err
	if err == nil {
		err = hooks.Validate(f.opts.dialect(), ev, inv.Result, f.opts.Limits.WithDefaults(ev.Stage))
	}
	if err != nil {
		s := err.Error()
		rep.Error = &s
	}
	return rep, nil
}

// wrapCFFOutput normalises a CloudFront function's output as TestFunction does: wrapped by kind,
// with cookies always present.
func wrapCFFOutput(out json.RawMessage, res hooks.Result) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(out, &m) != nil {
		return out
	}
	if _, ok := m["cookies"]; !ok {
		m["cookies"] = json.RawMessage("{}")
	}
	kind := "request"
	if res.Response != nil {
		kind = "response"
	}
	b, err := json.Marshal(map[string]any{kind: m})
	if err != nil {
		return out
	}
	return b
}

// loadPackage reads file as the entry of a package whose other modules are read from its
// directory when required.
func loadPackage(file string) (Code, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return Code{}, fmt.Errorf("jsruntime: %w", err)
	}
	entry := filepath.Base(file)
	return Code{Files: map[string]string{entry: string(src)}, Entry: entry, Dir: filepath.Dir(file)}, nil
}

// AWSTestResult is CloudFront's TestFunction result shape, so expected outputs published for
// CloudFront Functions compare directly (edge-events.md, section f).
type AWSTestResult struct {
	FunctionOutput        string   `json:"FunctionOutput"`
	FunctionExecutionLogs []string `json:"FunctionExecutionLogs"`
	FunctionErrorMessage  string   `json:"FunctionErrorMessage"`
	ComputeUtilization    string   `json:"ComputeUtilization"`
}

// AWS converts the report to TestFunction's shape. ComputeUtilization is the run time as a
// percentage of a 1 ms budget, capped at 100 (CloudFront does not publish its formula).
func (r TestReport) AWS() AWSTestResult {
	out := AWSTestResult{FunctionExecutionLogs: r.Logs, ComputeUtilization: strconv.Itoa(min(100, int(r.DurationMs*100)))}
	if r.Error != nil {
		out.FunctionErrorMessage = "The CloudFront function associated with the CloudFront distribution is invalid or could not run. " + *r.Error
	} else {
		out.FunctionOutput = string(r.Output)
	}
	return out
}
