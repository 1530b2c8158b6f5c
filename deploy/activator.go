// Package deploy is the activator: it keeps an edge node's run-time attachments equal to the
// registry's associations. It builds one jsruntime.Function per version in use (cached by
// function, version and code hash), resolves aliases (a weighted alias picks between two
// versions per request), swaps the whole attachment table in at once, and closes a
// version's Function only after it is no longer attached and a drain delay has passed, so
// requests in flight finish on the version they started with. It captures function logs in
// a bounded ring per function (Logs, Follow) and runs test invocations (Invoke).
package deploy

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/vergecdn/verge/edge"
	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/jsruntime"
	"github.com/vergecdn/verge/kvs"
	"github.com/vergecdn/verge/registry"
)

// Target receives attachment tables; *edge.Server is one.
type Target interface {
	SetAttachments(edge.Attachments)
}

var _ Target = (*edge.Server)(nil)

// Options configure an Activator. Registry is required.
type Options struct {
	Registry *registry.Store
	// InProcess runs uploaded code in this process. Default false: each version runs in a
	// sandboxed worker process (jsruntime.Process), as uploaded code should.
	InProcess bool
	// Worker configures worker processes (tests point Command at the test binary).
	Worker jsruntime.WorkerOptions
	// MaxConcurrency caps each version's simultaneous invocations. Default: jsruntime's (64).
	MaxConcurrency int
	// Metrics records invocations; share the node's. nil: none.
	Metrics *jsruntime.Metrics
	// Logger receives operational logs. Default: discard.
	Logger *slog.Logger
	// LogLines is how many console lines are kept per function for Logs. Default 1000.
	LogLines int
	// DrainDelay is how long a version's Function stays open after it was detached, so that
	// requests that started on it finish all their stages. Default 1 minute (above the 30 s
	// origin-event timeout).
	DrainDelay time.Duration
	// Rand returns a uniform number in [0,1) for weighted aliases; it must be safe for
	// concurrent use. Default math/rand/v2.Float64.
	Rand func() float64
	// Now is the clock for log entries. Default time.Now.
	Now func() time.Time
	// KVS holds the KeyValueStores CloudFront functions read (cf.kvs()). nil: none, and a
	// function associated with a store finds none (cf.kvs() throws).
	KVS *kvs.Stores
}

// Activator applies the registry to a Target. Its methods are safe for concurrent use.
type Activator struct {
	o    Options
	reg  *registry.Store
	log  *slog.Logger
	logs *logBook

	mu       sync.Mutex // serializes sync; guards everything below
	target   Target
	cache    map[key]*jsruntime.Function
	applied  uint64 // registry revision of the table last set
	table    edge.Attachments
	keys     map[slot][]key // the built versions each slot of table uses
	failed   map[string]error
	draining map[*jsruntime.Function]*time.Timer
	closed   bool

	stop chan struct{}
	wg   sync.WaitGroup
}

// slot is one behavior's event.
type slot struct {
	behavior string
	stage    hooks.Stage
}

// key identifies a built version. $LATEST's key changes with its code.
type key struct{ fn, version, sha, runtime, entry, kvs string }

func keyOf(t registry.Target) key {
	return key{t.Function, t.Version, t.Code.SHA256, t.Runtime, t.Code.Entry, t.KVS}
}

// New returns an Activator that has not started: Start attaches it to its target.
func New(o Options) (*Activator, error) {
	if o.Registry == nil {
		return nil, fmt.Errorf("deploy: no registry")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.LogLines <= 0 {
		o.LogLines = 1000
	}
	if o.DrainDelay <= 0 {
		o.DrainDelay = time.Minute
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Activator{
		o: o, reg: o.Registry, log: o.Logger, logs: newLogBook(o.LogLines, o.Now),
		cache: map[key]*jsruntime.Function{}, failed: map[string]error{},
		draining: map[*jsruntime.Function]*time.Timer{}, stop: make(chan struct{}),
	}, nil
}

// Start applies the registry to t now, then follows its change feed until Close. An
// association whose code fails to build is logged and left out (see Failures); the others
// are applied.
func (a *Activator) Start(t Target) error {
	a.mu.Lock()
	if a.target != nil || a.closed {
		a.mu.Unlock()
		return fmt.Errorf("deploy: already started or closed")
	}
	a.target = t
	a.mu.Unlock()
	changes, cancel := a.reg.Subscribe()
	if err := a.Sync(); err != nil {
		cancel()
		return err
	}
	a.wg.Go(func() {
		defer cancel()
		for {
			select {
			case <-a.stop:
				return
			case _, ok := <-changes:
				if !ok {
					return
				}
				if err := a.Sync(); err != nil {
					a.log.Error("deploy: applying the registry", "error", err.Error())
				}
			}
		}
	})
	return nil
}

// Sync applies the registry's current state to the target now, if it changed since the last
// Sync; it returns when the new table is in place. The admin API calls it after every
// change so that a change is live when the call returns. Without a target it does nothing.
func (a *Activator) Sync() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.target == nil || a.closed {
		return nil
	}
	st, err := a.reg.Snapshot()
	if err != nil {
		return err
	}
	if st.Revision == a.applied && a.applied != 0 {
		return nil
	}
	table := edge.Attachments{}
	used := map[key]bool{}
	keys := map[slot][]key{}
	failed := map[string]error{}
	for _, as := range st.Associations {
		stage, err := hooks.ParseStage(as.Event)
		if err != nil {
			continue
		}
		sl := slot{as.Behavior, stage}
		at, ks, err := a.attachment(st, as, used)
		if errors.Is(err, registry.ErrNotReady) && a.table[as.Behavior][stage] != nil {
			// The new target's code has not arrived (or is not signed): keep running the
			// previous one meanwhile.
			at, ks = a.table[as.Behavior][stage], a.keys[sl]
			for _, k := range ks {
				used[k] = true
			}
			a.log.Info("deploy: keeping the previous target until the new one is ready", "behavior", as.Behavior,
				"event", as.Event, "function", as.Function+":"+as.Qualifier, "reason", err.Error())
			err = nil
		}
		keys[sl] = ks
		if err != nil {
			failed[as.Behavior+" "+as.Event] = err
			a.log.Error("deploy: association left out", "behavior", as.Behavior, "event", as.Event,
				"function", as.Function+":"+as.Qualifier, "error", err.Error())
			continue
		}
		row := table[as.Behavior]
		row[stage] = at
		table[as.Behavior] = row
	}
	a.target.SetAttachments(table)
	a.applied, a.failed, a.table, a.keys = st.Revision, failed, table, keys
	for k, f := range a.cache {
		if !used[k] {
			delete(a.cache, k)
			a.drain(f)
		}
	}
	for name := range a.logsKnown() {
		if _, ok := st.Functions[name]; !ok {
			a.logs.forget(name)
		}
	}
	return nil
}

// attachment builds the attachment of one association and returns the built versions it
// uses. A target that may not run here (registry.Store.Runnable: its code has not arrived
// from a peer, or is not signed) is an error wrapping registry.ErrNotReady. The caller
// holds a.mu.
func (a *Activator) attachment(st *registry.State, as registry.Association, used map[key]bool) (*edge.Attachment, []key, error) {
	r, err := st.ResolveAssociation(as)
	if err != nil {
		return nil, nil, err
	}
	for _, t := range r.Targets() {
		if err := a.reg.Runnable(t); err != nil {
			return nil, nil, err
		}
	}
	fns := make([]hooks.Function, 0, 2)
	var ks []key
	for _, t := range r.Targets() {
		f, err := a.build(t)
		if err != nil {
			return nil, nil, err
		}
		used[keyOf(t)] = true
		ks = append(ks, keyOf(t))
		fns = append(fns, f)
	}
	at := &edge.Attachment{Name: as.Function, Version: as.Qualifier, Dialect: dialect(r.Primary.Runtime),
		Function: fns[0], IncludeBody: as.IncludeBody}
	if len(fns) == 2 {
		at.Function = &weighted{primary: fns[0], additional: fns[1], weight: r.Weight, rand: a.o.Rand}
	}
	return at, ks, nil
}

// build returns the cached Function of t, building it if needed. The caller holds a.mu.
func (a *Activator) build(t registry.Target) (*jsruntime.Function, error) {
	if f, ok := a.cache[keyOf(t)]; ok {
		return f, nil
	}
	f, err := a.newFunction(t, 1)
	if err != nil {
		return nil, err
	}
	a.cache[keyOf(t)] = f
	return f, nil
}

func (a *Activator) newFunction(t registry.Target, minWarm int) (*jsruntime.Function, error) {
	src, err := a.reg.Source(t.Code)
	if err != nil {
		return nil, fmt.Errorf("deploy: %s:%s: %w", t.Function, t.Version, err)
	}
	f, err := jsruntime.New(a.options(t.Function, t.Version, t.Runtime, t.KVS, src, minWarm))
	if err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	return f, nil
}

// options are the jsruntime options of a function version; store names its KeyValueStore.
func (a *Activator) options(name, version, runtime, store string, src registry.Source, minWarm int) jsruntime.Options {
	o := jsruntime.Options{
		Name: name, Version: version, Runtime: runtime,
		Code:      jsruntime.Code{Files: src.Files, Entry: src.Entry},
		Isolation: jsruntime.Process, Worker: a.o.Worker, MinWarm: minWarm, MaxConcurrency: a.o.MaxConcurrency,
		Metrics: a.o.Metrics, Logger: a.log, LogSink: a.logs.sink,
	}
	if a.o.InProcess {
		o.Isolation = jsruntime.InProcess
	}
	if store != "" && a.o.KVS != nil {
		o.KVS = &jsruntime.KeyValueStore{Name: store, Snapshot: a.o.KVS.Source(store)}
	}
	if !hooks.IsCloudFrontFunctions(runtime) {
		o.MaxSourceBytes = int(a.reg.Limits().Unpacked)
	}
	return o
}

// drain closes f after the drain delay. The caller holds a.mu.
func (a *Activator) drain(f *jsruntime.Function) {
	a.draining[f] = time.AfterFunc(a.o.DrainDelay, func() {
		a.mu.Lock()
		delete(a.draining, f)
		a.mu.Unlock()
		f.Close()
	})
}

func (a *Activator) logsKnown() map[string]bool {
	a.logs.mu.Lock()
	defer a.logs.mu.Unlock()
	m := make(map[string]bool, len(a.logs.rings))
	for n := range a.logs.rings {
		m[n] = true
	}
	return m
}

// Failures lists the associations left out of the last Sync, by "behavior event".
func (a *Activator) Failures() map[string]error {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := make(map[string]error, len(a.failed))
	for k, v := range a.failed {
		m[k] = v
	}
	return m
}

// Close stops following the registry and closes every Function, draining or not. Call it
// after the edge server has shut down. It does not close the registry.
func (a *Activator) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	close(a.stop)
	a.logs.stopFollowers()
	fns := make([]*jsruntime.Function, 0, len(a.cache)+len(a.draining))
	for _, f := range a.cache {
		fns = append(fns, f)
	}
	for f, t := range a.draining {
		t.Stop()
		fns = append(fns, f)
	}
	a.cache, a.draining = map[key]*jsruntime.Function{}, map[*jsruntime.Function]*time.Timer{}
	a.mu.Unlock()
	a.wg.Wait()
	for _, f := range fns {
		f.Close()
	}
	return nil
}

func dialect(runtime string) hooks.Dialect {
	return hooks.DialectOf(runtime)
}
