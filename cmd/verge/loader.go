package main

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vergecdn/verge/edge"
	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/jsruntime"
	"github.com/vergecdn/verge/kvs"
	"github.com/vergecdn/verge/registry"
)

// functionLoader loads the configuration's `functions:` entries with jsruntime. It keeps what
// it loaded so that they can be closed at exit.
type functionLoader struct {
	metrics *jsruntime.Metrics
	log     *slog.Logger
	kvs     *kvs.Stores // the stores functions[].kvs names; nil: none
	mu      sync.Mutex
	loaded  []*jsruntime.Function
	guard   *jsruntime.MemoryGuard // for in-process functions; made with the first one
}

var _ edge.FunctionLoader = (*functionLoader)(nil)

func newFunctionLoader(reg prometheus.Registerer, log *slog.Logger) (*functionLoader, error) {
	m, err := jsruntime.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	return &functionLoader{metrics: m, log: log}, nil
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
	l.loaded = append(l.loaded, f)
	l.mu.Unlock()
	return edge.Loaded{Function: f, Dialect: hooks.DialectOf(fc.Runtime), Version: version}, nil
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

// Close stops every loaded function's runtimes.
func (l *functionLoader) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range l.loaded {
		_ = f.Close()
	}
	if l.guard != nil {
		l.guard.Close()
	}
}
