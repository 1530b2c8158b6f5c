package jsruntime

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/hotmetrics"
)

// Function is one version of a JavaScript edge function: compiled once, run in a pool of warm
// runtimes (in this process or in a worker process, see Isolation). It implements
// hooks.Function and is safe for concurrent use. Close releases it; a Function is immutable,
// so a new version is a new Function (a reload builds the new one, swaps it in, then closes
// the old one).
type Function struct {
	opts    Options
	backend backend
	stop    chan struct{}
	wg      sync.WaitGroup
	closeMu sync.Once
	// durations caches the duration series by stage (see Metrics.observe).
	durations [len(hooks.Stages)]atomic.Pointer[hotmetrics.Histogram]
}

var _ hooks.SelfTimed = (*Function)(nil)

// StopsAtDeadline marks Function as hooks.SelfTimed: an invocation is interrupted at the
// earlier of its own time limit and ctx's deadline, whether or not ctx is ever done (in a
// worker process by the worker, and the caller gets its answer at the deadline even if the
// worker cannot stop).
func (f *Function) StopsAtDeadline() {}

// backend runs invocations: a local pool or a worker process.
type backend interface {
	run(ctx context.Context, c *call) outcome
	stats() (inUse, idle int)
	close()
}

// New compiles a function and warms Options.MinWarm runtimes (running the module's top-level
// code), so syntax and load errors are reported here. The caller must Close the Function.
func New(opts Options) (*Function, error) {
	o := opts.withDefaults()
	if _, err := hooks.CanonicalRuntime(o.Runtime); err != nil {
		return nil, fmt.Errorf("jsruntime: %w", err)
	}
	f := &Function{opts: o, stop: make(chan struct{})}
	var err error
	if o.Isolation == Process {
		f.backend, err = newRemote(o, f.coldStart)
	} else {
		f.backend, err = newLocal(o, f.coldStart)
	}
	if err != nil {
		return nil, &loadError{name: o.Name, version: o.Version, err: err}
	}
	if o.Metrics != nil {
		o.Metrics.track(f)
	}
	if l, ok := f.backend.(*local); ok {
		f.wg.Go(func() { f.reaper(l.pool) })
	}
	return f, nil
}

// Name and Version identify the function.
func (f *Function) Name() string    { return f.opts.Name }
func (f *Function) Version() string { return f.opts.Version }

// Invoke runs the function on ev (hooks.Function). The returned Result shares nothing with ev
// or with the runtime. The caller runs hooks.Validate on it, and strips disallowed headers
// (hooks.IsDisallowed) from ev before calling, as CloudFront hides them from functions.
func (f *Function) Invoke(ctx context.Context, ev *hooks.Event) (hooks.Result, error) {
	out := f.run(ctx, ev, false)
	return out.result, out.err
}

// Invocation is the detailed outcome of one run, for tools (verge fn test, the admin API's
// test-invoke).
type Invocation struct {
	Result   hooks.Result
	Output   []byte // JSON of the value the function returned (null when it returned nothing)
	Logs     []LogLine
	Duration time.Duration
	Err      error // as from Invoke
}

// InvokeDetailed is Invoke that also returns the function's raw output and console lines.
func (f *Function) InvokeDetailed(ctx context.Context, ev *hooks.Event) Invocation {
	start := time.Now()
	out := f.run(ctx, ev, true)
	return Invocation{Result: out.result, Output: out.output, Logs: out.logs, Duration: time.Since(start), Err: out.err}
}

func (f *Function) run(ctx context.Context, ev *hooks.Event, wantJSON bool) outcome {
	start := time.Now()
	if f.opts.cff() && !ev.Stage.IsViewer() {
		return outcome{err: hooks.Errorf(hooks.Execution, "%s: CloudFront Functions run at viewer stages only", ev.Stage)}
	}
	lim := f.opts.Limits.WithDefaults(f.opts.dialect(), ev.Stage)
	deadline := start.Add(lim.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		if deadline.Sub(d) > time.Millisecond {
			lim.Timeout = d.Sub(start).Round(time.Millisecond) // what the timeout error reports
		}
		deadline = d
	}
	c := &call{ev: ev, lim: lim, deadline: deadline, start: start, wantJSON: wantJSON}
	out := f.backend.run(ctx, c)
	elapsed := time.Since(start)
	if m := f.opts.Metrics; m != nil {
		m.observe(f, ev.Stage, elapsed)
	}
	if f.opts.LogSink != nil && len(out.logs) > 0 {
		f.opts.LogSink(f.opts.Name, f.opts.Version, c.logID(), out.logs)
	}
	// A failure is the caller's to log and report (the edge does, once, with validation
	// failures too): it is in out.err.
	return out
}

func (f *Function) coldStart() {
	if m := f.opts.Metrics; m != nil {
		m.coldStart(f)
	}
}

// Stats returns how many runtimes are running an invocation and how many are idle.
func (f *Function) Stats() (inUse, idle int) { return f.backend.stats() }

// Close stops the function: idle runtimes are dropped at once, running invocations finish.
// It is safe to call more than once.
func (f *Function) Close() error {
	f.closeMu.Do(func() {
		close(f.stop)
		f.wg.Wait()
		f.backend.close()
		if f.opts.Metrics != nil {
			f.opts.Metrics.untrack(f)
		}
	})
	return nil
}

func (f *Function) reaper(pl *pool) {
	every := f.opts.IdleTimeout / 2
	if every < time.Second {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-t.C:
			pl.reap()
		}
	}
}

// local runs invocations in this process.
type local struct{ pool *pool }

func newLocal(o Options, onCold func()) (*local, error) {
	p, err := compile(o)
	if err != nil {
		return nil, err
	}
	p, v := elideAsync(p)
	pl := newPool(p, onCold)
	if v != nil {
		pl.adopt(v)
	}
	if err := pl.warm(); err != nil {
		pl.close()
		return nil, err
	}
	return &local{pool: pl}, nil
}

func (l *local) run(ctx context.Context, c *call) outcome {
	v, _, err := l.pool.get()
	if err != nil {
		return outcome{err: err}
	}
	out := v.invoke(ctx, c)
	l.pool.put(v, out.discard)
	return out
}

func (l *local) stats() (int, int) { return l.pool.stats() }
func (l *local) close()            { l.pool.close() }

// newRequestID returns a random (v4-shaped) UUID for context.awsRequestId. It identifies an
// invocation in logs; it is not a secret, so a fast PRNG serves.
func newRequestID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}

// loadError is a function version's failure to load. Its message names the package and the
// version once: "jsruntime: NAME:VERSION: cause", without the cause's own "jsruntime: ".
type loadError struct {
	name, version string
	err           error
}

func (e *loadError) Error() string {
	return "jsruntime: " + e.name + ":" + e.version + ": " + strings.TrimPrefix(e.err.Error(), "jsruntime: ")
}

func (e *loadError) Unwrap() error { return e.err }
