package jsruntime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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
	// Runtime is a runtime name (hooks.CanonicalRuntime); default RuntimeLambdaEdge.
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
	// ComputeUtilization is, for CloudFront Functions, TestFunction's figure: the run time as
	// a percentage of a 1 ms budget, capped at 100, as a string (CloudFront does not publish
	// its formula).
	ComputeUtilization string `json:"computeUtilization,omitempty"`
	// Notes are remarks for the person running the test (an inferred stage), not part of the
	// report: verge fn test prints them on stderr.
	Notes []string `json:"-"`
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
	ev, pe, err := parseEvent(o.Event, o.Stage)
	if err != nil {
		return TestReport{}, err
	}
	var notes []string
	if o.Runtime == "" {
		// No runtime given: the event's dialect chooses, as the console's Test button has the
		// function's own runtime at hand.
		o.Runtime = RuntimeLambdaEdge
		if pe.cff {
			o.Runtime = RuntimeCloudFrontFunctions
			notes = append(notes, "the event is a CloudFront Functions event (no Records): ran it as "+o.Runtime+" (--runtime chooses)")
		}
	}
	opts := Options{Name: strings.TrimSuffix(filepath.Base(o.File), filepath.Ext(o.File)), Runtime: o.Runtime,
		Code: code, Limits: hooks.Limits{Timeout: o.Timeout}, MinWarm: 1, MaxConcurrency: 1}
	if o.KVS != "" {
		if rt, _ := hooks.CanonicalRuntime(o.Runtime); rt != RuntimeCloudFrontJS2 {
			return TestReport{}, fmt.Errorf("jsruntime: --kvs: a KeyValueStore needs runtime %s, not %s", RuntimeCloudFrontJS2, rt)
		}
		if opts.KVS, err = LoadKeyValueStore(o.KVS); err != nil {
			return TestReport{}, err
		}
	}
	f, err := New(opts)
	if err != nil {
		if o.Runtime == RuntimeLambdaEdge && readsLikeCloudFrontFunction(code) {
			err = fmt.Errorf("%w (the file defines function handler(event), as CloudFront Functions do: try --runtime %s)", err, RuntimeCloudFrontFunctions)
		}
		return TestReport{}, err
	}
	defer f.Close()
	inv := f.invokeSource(ctx, ev, o.Event)
	rep := TestReport{Logs: make([]string, 0, len(inv.Logs)), DurationMs: float64(inv.Duration.Microseconds()) / 1000, Notes: notes}
	if pe.inferredStage {
		rep.Notes = append(rep.Notes, fmt.Sprintf("the event has no eventType: ran it as %s (--stage chooses)", ev.Stage))
	}
	if f.opts.cff() {
		rep.ComputeUtilization = computeUtilization(inv.Duration)
	}
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
		err = hooks.Validate(f.opts.dialect(), ev, inv.Result, f.opts.Limits.WithDefaults(f.opts.dialect(), ev.Stage))
	}
	if err != nil {
		s := err.Error()
		rep.Error = &s
	}
	return rep, nil
}

// invokeSource is InvokeDetailed with the event built after the event file's own JSON
// (cffEventFromSource, leShapesFromSource). In process only, as RunTest is.
func (f *Function) invokeSource(ctx context.Context, ev *hooks.Event, src []byte) Invocation {
	start := time.Now()
	if f.opts.cff() && !ev.Stage.IsViewer() {
		return Invocation{Err: hooks.Errorf(hooks.Execution, "%s: CloudFront Functions run at viewer stages only", ev.Stage)}
	}
	lim := f.opts.Limits.WithDefaults(f.opts.dialect(), ev.Stage)
	out := f.backend.run(ctx, &call{ev: ev, lim: lim, deadline: start.Add(lim.Timeout), start: start, wantJSON: true, source: src})
	return Invocation{Result: out.result, Output: out.output, Logs: out.logs, Duration: time.Since(start), Err: out.err}
}

// computeUtilization is TestFunction's ComputeUtilization for a run of d (see TestReport).
func computeUtilization(d time.Duration) string {
	return strconv.Itoa(min(100, int(d.Microseconds()/10)))
}

// wrapCFFOutput normalises a CloudFront function's output as TestFunction does: wrapped by kind,
// with cookies always present. The function's key order is kept.
func wrapCFFOutput(out json.RawMessage, res hooks.Result) json.RawMessage {
	var m ordered
	if json.Unmarshal(out, &m) != nil || m == nil {
		return out
	}
	if !slices.ContainsFunc(m, func(x member) bool { return x.Key == "cookies" }) {
		m = append(m, member{Key: "cookies", Val: json.RawMessage("{}")})
	}
	kind := "request"
	if res.Response != nil {
		kind = "response"
	}
	var b bytes.Buffer
	b.WriteString(`{"` + kind + `":{`)
	for i, x := range m {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(x.Key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(x.Val)
	}
	b.WriteString("}}")
	return b.Bytes()
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
// CloudFront Functions compare directly (docs/hooks.md).
type AWSTestResult struct {
	FunctionOutput        string   `json:"FunctionOutput"`
	FunctionExecutionLogs []string `json:"FunctionExecutionLogs"`
	FunctionErrorMessage  string   `json:"FunctionErrorMessage"`
	ComputeUtilization    string   `json:"ComputeUtilization"`
}

// AWS converts the report to TestFunction's shape. ComputeUtilization is the run time as a
// percentage of a 1 ms budget, capped at 100 (CloudFront does not publish its formula).
func (r TestReport) AWS() AWSTestResult {
	out := AWSTestResult{FunctionExecutionLogs: r.Logs, ComputeUtilization: r.ComputeUtilization}
	if out.ComputeUtilization == "" {
		out.ComputeUtilization = computeUtilization(time.Duration(r.DurationMs * float64(time.Millisecond)))
	}
	if r.Error != nil {
		out.FunctionErrorMessage = "The CloudFront function associated with the CloudFront distribution is invalid or could not run. " + *r.Error
	} else {
		out.FunctionOutput = string(r.Output)
	}
	return out
}

// cfHandlerRE finds CloudFront Functions' top-level `function handler(` (async in 2.0).
var cfHandlerRE = regexp.MustCompile(`(?m)^\s*(?:async\s+)?function\s+handler\s*\(`)

// readsLikeCloudFrontFunction reports whether code defines CloudFront Functions' handler and
// no Lambda@Edge one: the usual reason such code fails to load as Lambda@Edge.
func readsLikeCloudFrontFunction(c Code) bool {
	found := false
	for _, src := range c.Files {
		if strings.Contains(src, "exports.handler") {
			return false
		}
		found = found || cfHandlerRE.MatchString(src)
	}
	return found
}
