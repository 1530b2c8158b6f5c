package main

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vergecdn/verge/edge"
	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/jsruntime"
	"github.com/vergecdn/verge/kvs"
	"github.com/vergecdn/verge/registry"
)

// functionLoader loads the configuration's `functions:` entries with jsruntime. A reload
// gets back the function it runs for code that did not change (same key), so that a SIGHUP
// costs no new runtimes or worker processes; a function no pipeline uses any more (replaced,
// removed, or loaded by a build that failed) is closed retireAfter (retireDelay) after the
// reload.
type functionLoader struct {
	metrics     *jsruntime.Metrics
	retireAfter time.Duration
	log         *slog.Logger
	kvs         *kvs.Stores // the stores functions[].kvs names; nil: none
	mu          sync.Mutex
	loaded      map[string]*jsruntime.Function // by the key Load makes of name, runtime, isolation, store and code
	retired     map[string]*retiredFunction    // by the same key, until closed
	guard       *jsruntime.MemoryGuard         // for in-process functions; made with the first one
}

// retiredFunction is a function no pipeline uses, left to the calls in flight on the pipeline
// that did until its timer closes it.
type retiredFunction struct {
	f     *jsruntime.Function
	timer *time.Timer
}

// retireDelay is how long a replaced function stays open: a request that began on the
// pipeline before the reload may still reach it after its origin answers (origin read timeouts
// are 30 s by default, function timeouts at most 30 s).
const retireDelay = 2 * time.Minute

var _ edge.FunctionLoader = (*functionLoader)(nil)

func newFunctionLoader(reg prometheus.Registerer, log *slog.Logger) (*functionLoader, error) {
	m, err := jsruntime.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	return &functionLoader{metrics: m, log: log, retireAfter: retireDelay,
		loaded: map[string]*jsruntime.Function{}, retired: map[string]*retiredFunction{}}, nil
}

// Load compiles a function file. Its version label is a prefix of the code's sha256, so a
// reload of changed code shows as a new version.
func (l *functionLoader) Load(fc edge.FunctionConfig, path string) (edge.Loaded, error) {
	src := []byte(fc.Source)
	if path != "" {
		var err error
		if src, err = os.ReadFile(path); err != nil {
			return edge.Loaded{}, err
		}
	}
	iso, err := jsruntime.ParseIsolation(fc.Isolation)
	if err != nil {
		return edge.Loaded{}, err
	}
	sum := sha256.Sum256(src)
	version := hex.EncodeToString(sum[:6])
	code := jsruntime.SingleFile(string(src))
	if base := filepath.Base(path); path != "" && registry.SingleFileName(base) {
		// The file keeps its name, as an upload does: errors and stack traces name it.
		code = jsruntime.Code{Files: map[string]string{base: string(src)}, Entry: base}
	}
	key := strings.Join([]string{fc.Name, fc.Runtime, iso.String(), fc.KVS, code.Entry, hex.EncodeToString(sum[:])}, "\x00")
	if f := l.reuse(key); f != nil {
		return edge.Loaded{Function: f, Dialect: hooks.DialectOf(fc.Runtime), Version: version}, nil
	}
	o := jsruntime.Options{
		Name: fc.Name, Version: version, Runtime: fc.Runtime, Code: code,
		Isolation: iso, Metrics: l.metrics, Logger: l.log,
	}
	if iso == jsruntime.InProcess {
		o.MemoryGuard = l.memoryGuard()
		o.RefuseEval = true // see jsruntime.Options.RefuseEval
	}
	if fc.KVS != "" && l.kvs != nil {
		o.KVS = &jsruntime.KeyValueStore{Name: fc.KVS, Snapshot: l.kvs.Source(fc.KVS)}
	}
	f, err := jsruntime.New(o)
	if err != nil {
		return edge.Loaded{}, err
	}
	l.mu.Lock()
	l.loaded[key] = f
	l.mu.Unlock()
	return edge.Loaded{Function: f, Dialect: hooks.DialectOf(fc.Runtime), Version: version}, nil
}

// reuse returns the function loaded for key, taking it back from retirement if need be, or
// nil.
func (l *functionLoader) reuse(key string) *jsruntime.Function {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f := l.loaded[key]; f != nil {
		return f
	}
	if r := l.retired[key]; r != nil && r.timer.Stop() {
		delete(l.retired, key)
		l.loaded[key] = r.f
		return r.f
	}
	return nil
}

// Keep retires every loaded function not in inUse (edge.FunctionLoader).
func (l *functionLoader) Keep(inUse []edge.Loaded) {
	keep := make(map[hooks.Function]bool, len(inUse))
	for _, u := range inUse {
		keep[u.Function] = true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for key, f := range l.loaded {
		if keep[f] {
			continue
		}
		delete(l.loaded, key)
		r := &retiredFunction{f: f}
		r.timer = time.AfterFunc(l.retireAfter, func() {
			l.mu.Lock()
			if l.retired[key] == r {
				delete(l.retired, key)
			}
			l.mu.Unlock()
			_ = f.Close()
		})
		l.retired[key] = r
	}
}

// memoryGuard returns the guard shared by in-process functions, starting it on first use. It
// trips when the Go heap passes the node's memory limit (server.memory_limit, GOMEMLIMIT):
// the collector keeps a healthy heap below it, so a heap past it is a runaway allocation,
// which the guard stops by failing the in-process invocations running (503). Without a limit
// it trips at inProcessHeapLimit.
func (l *functionLoader) memoryGuard() *jsruntime.MemoryGuard {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.guard == nil {
		limit := debug.SetMemoryLimit(-1)
		if limit <= 0 || limit == math.MaxInt64 {
			limit = inProcessHeapLimit
		}
		l.guard = jsruntime.NewMemoryGuard(uint64(limit), 0)
	}
	return l.guard
}

// inProcessHeapLimit is the memory guard's limit when the node has no memory limit.
const inProcessHeapLimit = 4 << 30

// Close stops every loaded function's runtimes, retired ones included.
func (l *functionLoader) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range l.loaded {
		_ = f.Close()
	}
	for _, r := range l.retired {
		if r.timer.Stop() {
			_ = r.f.Close()
		}
	}
	if l.guard != nil {
		l.guard.Close()
	}
}
