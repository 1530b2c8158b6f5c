package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/jsruntime"
	"github.com/vergecdn/verge/registry"
)

// Check compiles src as function name would run it, and loads it once (running its
// top-level code, in a worker process unless InProcess), then discards it. A failure the
// code causes is a *CompileError (a syntax error) or a *LoadError (anything else: a throw
// or a loop at load, no handler, a construct the runtime refuses, a worker the code kills);
// a failure of the node (a worker process that does not start) is any other error. store
// is the KeyValueStore the function is associated with ("" for none).
func (a *Activator) Check(name, runtime, store string, src registry.Source) error {
	if runtime == "" {
		runtime = registry.RuntimeLambdaEdge
	}
	o := a.options(name, "check", runtime, store, src, 1)
	o.LogSink, o.Metrics, o.MaxConcurrency = nil, nil, 1
	// An upload is checked in a worker of its own: it is not a version yet, and code that
	// crashes the worker compiling it must not fail the calls of the function's live versions.
	o.Worker.Group = jsruntime.WorkerGroup{}
	f, err := jsruntime.New(o)
	if err != nil {
		if ce := compileError(err); ce != nil {
			return ce
		}
		if errors.Is(err, jsruntime.ErrWorkerStart) {
			return fmt.Errorf("deploy: checking function %s: %w", name, err)
		}
		return &LoadError{Function: name, Err: err}
	}
	return f.Close()
}

// Report is the outcome of a test invocation: `verge fn test`'s JSON plus the version that
// ran.
type Report struct {
	Function   string          `json:"function"`
	Version    string          `json:"version"`
	Output     json.RawMessage `json:"output"`
	Logs       []string        `json:"logs"`
	DurationMs float64         `json:"durationMs"`
	Error      *string         `json:"error"`
}

// Invoke runs name:qualifier once on event (Lambda@Edge or CloudFront Functions event JSON,
// whose eventType chooses the stage) and validates the result as the edge would. A weighted
// alias picks its version as for live traffic. The version's attached Function is used if
// there is one; otherwise one is built for this call and closed after it. The error is
// non-nil only when nothing could run (unknown function: registry.ErrNotFound; a bad event:
// registry.ErrInvalid); a function failure is reported in Report.Error.
func (a *Activator) Invoke(ctx context.Context, name, qualifier string, event []byte) (Report, error) {
	st, err := a.reg.Snapshot()
	if err != nil {
		return Report{}, err
	}
	r, err := st.Resolve(name, qualifier)
	if err != nil {
		return Report{}, err
	}
	ev, err := jsruntime.ParseEvent(event, "")
	if err != nil {
		return Report{}, fmt.Errorf("deploy: %w: %w", err, registry.ErrInvalid)
	}
	t := r.Primary
	if r.Additional != nil && a.o.Rand() < r.Weight {
		t = *r.Additional
	}
	a.mu.Lock()
	f, ok := a.cache[keyOf(t)]
	a.mu.Unlock()
	if !ok {
		// A version that is not running here (a test of $LATEST, say) gets a worker of its own:
		// code under test must not fail the calls of the function's live versions.
		if f, err = a.newFunction(t, 1, false); err != nil {
			return Report{}, err
		}
		defer f.Close()
	}
	inv := f.InvokeDetailed(ctx, ev)
	rep := Report{Function: name, Version: t.Version, Output: inv.Output, Logs: make([]string, 0, len(inv.Logs)),
		DurationMs: float64(inv.Duration.Microseconds()) / 1000}
	for _, l := range inv.Logs {
		rep.Logs = append(rep.Logs, l.Message)
	}
	if len(rep.Output) == 0 {
		rep.Output = json.RawMessage("null")
	}
	err = inv.Err
	if err == nil {
		err = hooks.Validate(dialect(t.Runtime), ev, inv.Result, hooks.Limits{}.WithDefaults(dialect(t.Runtime), ev.Stage))
	}
	if err != nil {
		s := err.Error()
		rep.Error = &s
	}
	return rep, nil
}

// Logs returns the newest console lines of function name (at most Options.LogLines),
// oldest first.
func (a *Activator) Logs(name string) []LogEntry { return a.logs.tail(name) }

// Follow delivers function name's new console lines until cancel is called. Lines are
// dropped for a reader that does not keep up.
func (a *Activator) Follow(name string) (lines <-chan LogEntry, cancel func()) {
	return a.logs.follow(name)
}

// StopFollowers ends every Follow stream (their channels close) and makes later Follow
// calls return closed channels. Call it before shutting the admin server down, so that
// `fn logs --follow` clients do not hold the shutdown up; Close calls it too.
func (a *Activator) StopFollowers() { a.logs.stopFollowers() }
