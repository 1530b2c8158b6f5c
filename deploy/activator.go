// Package deploy is the activator: it keeps an edge node's run-time attachments equal to the
// registry's associations. It builds one jsruntime.Function per version in use (cached by
// function, version and code hash; the versions of one function share a worker process, so a
// deploy is a compile in a running worker rather than a process start), resolves aliases (a
// weighted alias picks between two versions per request), and swaps the whole attachment
// table in at once. It never fails
// open: an association whose new target cannot run yet keeps its previous target, and one
// with nothing to run answers CloudFront's 503. A replaced version is closed as soon as its
// calls in flight end (see running). It captures function logs in a bounded ring per
// function (Logs, Follow) and runs test invocations (Invoke).
package deploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
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
	// InProcess runs uploaded code in this process. Default false: uploaded code runs in
	// sandboxed worker processes (jsruntime.Process), as it should, one per function: its
	// versions share it (they are the same developer's code), other functions never do.
	InProcess bool
	// Worker configures worker processes (tests point Command at the test binary).
	Worker jsruntime.WorkerOptions
	// MaxConcurrency caps each version's simultaneous invocations. Default: jsruntime's (64).
	MaxConcurrency int
	// MaxVersions caps the versions built on this node at once, attached or still finishing
	// calls after they were replaced: each is a program (its pool of runtimes) in its
	// function's worker process unless InProcess. Building one more first closes the
	// replaced versions (their calls in flight finish); if the attached ones alone reach the
	// cap, the association that needs another keeps its previous target (or answers 503) and
	// is listed by Failures. Default 64.
	MaxVersions int
	// MaxWorkers caps the worker processes kept once idle (see jsruntime.NewWorkers): past it,
	// the functions not called for a while lose their processes until their next calls. 0: no
	// cap.
	MaxWorkers int
	// MaxWorkerIdle is how long a function's worker process may go without a call before it
	// is ended, under the cap too (see jsruntime.NewWorkers); the next call starts it again.
	// 0: never.
	MaxWorkerIdle time.Duration
	// Metrics records invocations; share the node's. nil: none.
	Metrics *jsruntime.Metrics
	// Logger receives operational logs. Default: discard.
	Logger *slog.Logger
	// LogLines is how many console lines are kept per function for Logs. Default 1000.
	LogLines int
	// DrainDelay is the longest a replaced version stays open for its calls in flight; it
	// closes as soon as they end, and at DrainDelay whatever runs (jsruntime lets running
	// calls finish). Default 1 minute (above the 30 s origin-event timeout).
	DrainDelay time.Duration
	// RetryBackoff is the first wait before building again a target that failed to build
	// (a worker that did not start, code that throws at load); it doubles up to a minute.
	// Default 1 s. A target waiting for the registry (a record or blob not replicated yet)
	// is retried when the registry changes instead.
	RetryBackoff time.Duration
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

	// syncMu serializes Syncs; it is held while versions build (starting a worker takes
	// tens of milliseconds, seconds on a loaded machine), mu only for short sections, so
	// that Invoke, Failures and Stats never wait for a build.
	syncMu  sync.Mutex
	applied uint64 // registry revision of the table last set; written under syncMu and mu
	// unsettled are the functions of that table's associations that do not run their own
	// target (kept on a previous one, or 503); guarded like applied.
	unsettled map[string]bool
	table     edge.Attachments
	keys      map[slot][]key                   // the built versions each slot of table uses; nil for a slot that answers 503
	report    map[slot]string                  // the failure last logged per slot, so each is logged once
	retry     bool                             // the last Sync left build failures: a timer retries them
	live      atomic.Pointer[edge.Attachments] // table, read by slotFunc without a lock

	mu     sync.Mutex // guards everything below
	target Target
	cache  map[key]*jsruntime.Function
	runs   map[*jsruntime.Function]*running
	failed map[string]error
	// alone are the versions whose build failed: they are built again in a worker of their
	// own, so that a load that kills or stalls a worker does not fail the calls of their
	// function's live versions at every retry. Forgotten with their function.
	alone    map[key]bool
	retiring map[*running]struct{} // replaced versions not closed yet
	closed   bool

	workers *jsruntime.Workers // the worker processes, one per function (see options)

	stop    chan struct{}
	wg      sync.WaitGroup // the change-feed loop
	closers sync.WaitGroup // Function.Close calls of retired versions
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
	if o.MaxVersions <= 0 {
		o.MaxVersions = 64
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = time.Second
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	ws := jsruntime.NewWorkers(o.MaxWorkers, o.MaxWorkerIdle)
	if o.Metrics != nil {
		o.Metrics.CountWorkers(ws)
	}
	return &Activator{
		o: o, reg: o.Registry, log: o.Logger, logs: newLogBook(o.LogLines, o.Now),
		report: map[slot]string{}, cache: map[key]*jsruntime.Function{}, runs: map[*jsruntime.Function]*running{},
		failed: map[string]error{}, retiring: map[*running]struct{}{}, stop: make(chan struct{}), alone: map[key]bool{},
		workers: ws,
	}, nil
}

// Start applies the registry to t now, then follows its change feed until Close, retrying
// targets that failed to build with backoff (see Options.RetryBackoff).
func (a *Activator) Start(t Target) error {
	a.mu.Lock()
	if a.target != nil || a.closed {
		a.mu.Unlock()
		return fmt.Errorf("deploy: already started or closed")
	}
	a.target = t
	a.mu.Unlock()
	if !a.o.InProcess {
		// A spare worker from the start: the node's first uploaded function is a compile, not
		// a process start.
		a.workers.Prepare(a.options("", "", "", "", registry.Source{}, 0))
	}
	changes, cancel := a.reg.Subscribe()
	failing, err := a.sync(false)
	if err != nil {
		cancel()
		return err
	}
	a.wg.Go(func() {
		defer cancel()
		a.follow(changes, failing)
	})
	return nil
}

// follow applies the registry at every change until Close. While targets fail to build, it
// also retries them, waiting RetryBackoff, then twice as long each time, up to a minute.
func (a *Activator) follow(changes <-chan struct{}, failing bool) {
	backoff := time.Duration(0)
	var retry <-chan time.Time
	for {
		switch {
		case !failing:
			backoff, retry = 0, nil
		case retry == nil:
			backoff = min(max(2*backoff, a.o.RetryBackoff), time.Minute)
			retry = time.After(backoff)
		}
		force := false
		select {
		case <-a.stop:
			return
		case _, ok := <-changes:
			if !ok {
				return
			}
		case <-retry:
			force, retry = true, nil
		}
		var err error
		if failing, err = a.sync(force); err != nil {
			a.log.Error("deploy: applying the registry", "error", err.Error())
		}
	}
}

// Sync applies the registry's current state to the target now, if it changed since the last
// Sync; it returns when the new table is in place (its versions built and warm). The admin
// API calls it after every change so that a change is live when the call returns. Without a
// target it does nothing.
//
// Each association gets its target's function; one whose target cannot run here keeps the
// function it had (its target's record or code has not replicated yet, or it failed to
// build), and one with no function to keep answers 503 (edge.Unrunnable) until its target
// can run. Failures lists the latter two kinds; each failure is logged once.
func (a *Activator) Sync() error {
	_, err := a.sync(false)
	return err
}

// sync is Sync; with force it rebuilds failed targets even if the registry did not change.
// It reports whether a target failed to build (rather than waiting for the registry).
func (a *Activator) sync(force bool) (failing bool, err error) {
	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	a.mu.Lock()
	target, closed := a.target, a.closed
	a.mu.Unlock()
	if target == nil || closed {
		return false, nil
	}
	st, err := a.reg.Snapshot()
	if err != nil {
		return a.retry, err
	}
	if st.Revision == a.applied && a.applied != 0 && !(force && a.retry) {
		return a.retry, nil
	}
	table := edge.Attachments{}
	used := map[key]bool{}
	keys := map[slot][]key{}
	failed := map[string]error{}
	seen := map[slot]bool{}
	unsettled := map[string]bool{}
	for _, as := range st.Associations {
		stage, err := hooks.ParseStage(as.Event)
		if err != nil {
			continue
		}
		sl := slot{as.Behavior, stage}
		seen[sl] = true
		at, ks, err := a.attachment(st, as, sl)
		if err != nil {
			unsettled[as.Function] = true
			var builds bool
			at, ks, builds = a.fallback(st, as, sl, err)
			failing = failing || builds
			if builds || ks == nil { // not merely waiting on its previous target
				failed[as.Behavior+" "+as.Event] = err
			}
		} else if as.Qualifier == registry.Latest {
			a.reportOnce(st, sl, as, errLatestAssociation, slog.LevelWarn, "deploy: the association runs $LATEST, unpublished")
		} else {
			delete(a.report, sl)
		}
		for _, k := range ks {
			used[k] = true
		}
		keys[sl] = ks
		row := table[as.Behavior]
		row[stage] = at
		table[as.Behavior] = row
	}
	for sl := range a.report {
		if !seen[sl] {
			delete(a.report, sl)
		}
	}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return false, nil
	}
	a.live.Store(&table)
	a.target.SetAttachments(table)
	a.applied, a.unsettled, a.table, a.keys, a.failed, a.retry = st.Revision, unsettled, table, keys, failed, failing
	retired := a.retireUnused(used)
	a.mu.Unlock()
	for _, r := range retired {
		r.retire()
	}
	for name := range a.logsKnown() {
		if _, ok := st.Functions[name]; !ok {
			a.logs.forget(name)
		}
	}
	a.mu.Lock()
	for k := range a.alone {
		if _, ok := st.Functions[k.fn]; !ok {
			delete(a.alone, k)
		}
	}
	a.mu.Unlock()
	return failing, nil
}

// errLatestAssociation is why an association to $LATEST is worth a warning: the registry
// refuses new ones (registry.Store.Associate), but those stored before, or replicated from a
// node that still takes them, keep running as they did.
var errLatestAssociation = errors.New("every deploy of the function goes live here at once; " +
	"publish a version and associate it (NAME:3) or an alias (NAME:live): new associations to $LATEST are refused")

// fallback is what slot sl runs while its association's target cannot run (err): the
// previous function if there is one, otherwise edge.Unrunnable (503). builds reports that
// err is a failure to build, which a retry may fix, rather than a record or code not
// replicated yet, which a registry change brings. The caller holds syncMu.
func (a *Activator) fallback(st *registry.State, as registry.Association, sl slot, err error) (at *edge.Attachment, ks []key, builds bool) {
	builds = !errors.Is(err, registry.ErrNotReady) && !errors.Is(err, registry.ErrNotFound)
	if prev, pks := a.table[sl.behavior][sl.stage], a.keys[sl]; prev != nil && pks != nil {
		level := slog.LevelInfo // routine while a version replicates
		if builds {
			level = slog.LevelError
		}
		a.reportOnce(st, sl, as, err, level, "deploy: keeping the previous target until the new one can run")
		return prev, pks, builds
	}
	level := slog.LevelWarn
	if builds {
		level = slog.LevelError
	}
	a.reportOnce(st, sl, as, err, level, "deploy: the behavior answers 503 until its function can run here")
	return &edge.Attachment{Name: as.Function, Version: as.Qualifier, Dialect: dialectOf(st, as.Function),
		Function: edge.Unrunnable(err), IncludeBody: as.IncludeBody}, nil, builds
}

// retireUnused moves the built versions that used does not name out of the cache, arming
// each one's drain backstop, and returns them for the caller to retire once it has released
// mu (retiring an idle version closes it, which takes mu). The caller holds mu.
func (a *Activator) retireUnused(used map[key]bool) []*running {
	var retired []*running
	for k, f := range a.cache {
		if used[k] {
			continue
		}
		delete(a.cache, k)
		r := a.runs[f]
		delete(a.runs, f)
		a.retiring[r] = struct{}{}
		r.timer = time.AfterFunc(a.o.DrainDelay, func() {
			if r.markClosed(true) {
				r.onClose()
			}
		})
		retired = append(retired, r)
	}
	return retired
}

// reportOnce logs why sl does not run its association's target, once per target and kind
// of failure: the registry changes several times while a version replicates (its record,
// then its code), and a failing build is retried. The caller holds syncMu.
func (a *Activator) reportOnce(st *registry.State, sl slot, as registry.Association, err error, level slog.Level, msg string) {
	target := as.Function + ":" + as.Qualifier
	if al, ok := st.Aliases[as.Function][as.Qualifier]; ok {
		target += fmt.Sprintf(" (version %d", al.Version)
		if al.AdditionalVersion != 0 {
			target += fmt.Sprintf(", %d at %g", al.AdditionalVersion, al.Weight)
		}
		target += ")"
	}
	if why := target + " " + msg + " " + level.String(); a.report[sl] != why {
		a.report[sl] = why
		a.log.Log(context.Background(), level, msg, "behavior", as.Behavior, "event", as.Event,
			"function", target, "reason", err.Error())
	}
}

// attachment builds the attachment of one association and returns the built versions it
// uses. A target that may not run here (registry.Store.Runnable: its code has not arrived
// from a peer, or is not signed) is an error wrapping registry.ErrNotReady; one whose record
// has not arrived, registry.ErrNotFound. The caller holds syncMu.
func (a *Activator) attachment(st *registry.State, as registry.Association, sl slot) (*edge.Attachment, []key, error) {
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
		ks = append(ks, keyOf(t))
		fns = append(fns, f)
	}
	fn := fns[0]
	if len(fns) == 2 {
		fn = &weighted{primary: fns[0], additional: fns[1], weight: r.Weight, rand: a.o.Rand}
	}
	return &edge.Attachment{Name: as.Function, Version: as.Qualifier, Dialect: dialect(r.Primary.Runtime),
		Function: &slotFunc{fn: fn, a: a, key: sl}, IncludeBody: as.IncludeBody}, ks, nil
}

// build returns the running version of t, building it if needed; a new one enters the cache
// (it is retired by the Sync that no longer uses it). The caller holds syncMu, not mu.
func (a *Activator) build(t registry.Target) (*running, error) {
	k := keyOf(t)
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil, fmt.Errorf("deploy: closed")
	}
	if f, ok := a.cache[k]; ok {
		r := a.runs[f]
		a.mu.Unlock()
		return r, nil
	}
	if len(a.cache)+len(a.retiring) >= a.o.MaxVersions {
		for r := range a.retiring {
			if r.markClosed(true) {
				a.closeLocked(r)
			}
		}
	}
	n, share := len(a.cache), !a.alone[k]
	a.mu.Unlock()
	if n >= a.o.MaxVersions {
		return nil, fmt.Errorf("deploy: %s:%s: this node already runs %d versions, its limit (MaxVersions)", t.Function, t.Version, n)
	}
	f, err := a.newFunction(t, 1, share)
	if err != nil {
		a.mu.Lock()
		a.alone[k] = true
		a.mu.Unlock()
		return nil, err
	}
	r := &running{fn: f}
	r.onClose = func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.closeLocked(r)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		f.Close()
		return nil, fmt.Errorf("deploy: closed")
	}
	a.cache[k], a.runs[f] = f, r
	return r, nil
}

// closeLocked closes a retired version whose closedBit is set, in the background (a worker
// process takes a moment to exit). After Close, Close itself closes what is left. The
// caller holds mu.
func (a *Activator) closeLocked(r *running) {
	if _, ok := a.retiring[r]; !ok {
		return
	}
	delete(a.retiring, r)
	r.timer.Stop()
	if a.closed {
		return
	}
	a.closers.Go(func() { r.fn.Close() })
}

// current returns the function the live table runs at sl, or nil.
func (a *Activator) current(sl slot) hooks.Function {
	t := a.live.Load()
	if t == nil {
		return nil
	}
	if at := (*t)[sl.behavior][sl.stage]; at != nil {
		return at.Function
	}
	return nil
}

// newFunction builds version t; share puts it in its function's worker process, otherwise it
// gets one of its own, in a group of its own among the node's workers (so under their cap).
func (a *Activator) newFunction(t registry.Target, minWarm int, share bool) (*jsruntime.Function, error) {
	src, err := a.reg.Source(t.Code)
	if err != nil {
		return nil, fmt.Errorf("deploy: %s:%s: %w", t.Function, t.Version, err)
	}
	o := a.options(t.Function, t.Version, t.Runtime, t.KVS, src, minWarm)
	if !share {
		o.Worker.Group = a.workers.Group(t.Function + "\x00" + t.Version) // no function's name has a NUL
	}
	f, err := jsruntime.New(o)
	if err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	return f, nil
}

// options are the jsruntime options of a function version; store names its KeyValueStore.
// The versions of a function share its worker process, named by the function.
func (a *Activator) options(name, version, runtime, store string, src registry.Source, minWarm int) jsruntime.Options {
	o := jsruntime.Options{
		Name: name, Version: version, Runtime: runtime,
		Code:      jsruntime.Code{Files: src.Files, Entry: src.Entry},
		Isolation: jsruntime.Process, Worker: a.o.Worker, MinWarm: minWarm, MaxConcurrency: a.o.MaxConcurrency,
		Metrics: a.o.Metrics, Logger: a.log, LogSink: a.logs.sink,
	}
	o.Worker.Group = a.workers.Group(name)
	if a.o.InProcess {
		o.Isolation = jsruntime.InProcess
		o.RefuseEval = true // see jsruntime.Options.RefuseEval
	}
	if store != "" && a.o.KVS != nil {
		o.KVS = &jsruntime.KeyValueStore{Name: store, Snapshot: a.o.KVS.Source(store)}
	}
	if !hooks.IsCloudFrontFunctions(runtime) {
		o.MaxSourceBytes = int(a.reg.Limits().Unpacked)
	}
	return o
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

// Failures lists, by "behavior event", the associations of the last Sync that do not run
// their target: those that answer 503, and those kept on their previous target because the
// new one failed to build. One kept on its previous target while the new one replicates
// is not a failure.
func (a *Activator) Failures() map[string]error {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := make(map[string]error, len(a.failed))
	for k, v := range a.failed {
		m[k] = v
	}
	return m
}

// Status says how far this node runs its registry.
type Status struct {
	// Revision is the registry's revision when asked, Applied that of the attachments in use
	// (a Sync that ends meanwhile may make it the later one).
	Revision, Applied uint64
	// Settled: every association in question (of one function, or all) of the attachments in
	// use runs its own target, none is kept on its previous one or answers 503 while its
	// version replicates or builds.
	Settled bool
}

// Current reports whether the node runs what its registry says: the attachments in use are
// of its revision, and settled.
func (s Status) Current() bool { return s.Applied >= s.Revision && s.Settled }

// Status returns the node's Status for the associations of function fn, or of every function
// if fn is "": a deploy of one function is not held up by another that cannot run.
func (a *Activator) Status(fn string) Status {
	rev := a.reg.Revision()
	a.mu.Lock()
	defer a.mu.Unlock()
	settled := len(a.unsettled) == 0
	if fn != "" {
		settled = !a.unsettled[fn]
	}
	return Status{Revision: rev, Applied: a.applied, Settled: settled}
}

// Stats counts the versions built on this node: attached, and replaced but still finishing
// calls in flight.
func (a *Activator) Stats() (attached, draining int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.cache), len(a.retiring)
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
	a.mu.Unlock()
	a.logs.stopFollowers()
	a.wg.Wait()
	a.syncMu.Lock() // a Sync in progress finishes (it builds nothing more once closed)
	a.mu.Lock()
	fns := make([]*jsruntime.Function, 0, len(a.cache)+len(a.retiring))
	for _, f := range a.cache {
		fns = append(fns, f)
	}
	for r := range a.retiring {
		r.markClosed(true)
		r.timer.Stop()
		fns = append(fns, r.fn)
	}
	a.cache, a.runs, a.retiring = map[key]*jsruntime.Function{}, map[*jsruntime.Function]*running{}, map[*running]struct{}{}
	a.mu.Unlock()
	a.syncMu.Unlock()
	a.closers.Wait()
	for _, f := range fns {
		f.Close()
	}
	a.workers.Close()
	return nil
}

// dialectOf is the dialect of function name in st, Lambda@Edge's if it is unknown.
func dialectOf(st *registry.State, name string) hooks.Dialect {
	if f, ok := st.Functions[name]; ok {
		return dialect(f.Runtime)
	}
	return hooks.LambdaEdge
}

func dialect(runtime string) hooks.Dialect {
	return hooks.DialectOf(runtime)
}
