package jsruntime

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/vergecdn/verge/hooks"
)

// Runtime names, as configuration and `verge fn test --runtime` spell them (hooks.CanonicalRuntime).
const (
	RuntimeLambdaEdge          = hooks.RuntimeLambdaEdge
	RuntimeCloudFrontJS1       = hooks.RuntimeCloudFrontJS1
	RuntimeCloudFrontJS2       = hooks.RuntimeCloudFrontJS2
	RuntimeCloudFrontFunctions = hooks.RuntimeCloudFrontFunctions // alias of RuntimeCloudFrontJS2
)

// Isolation says where a function's runtimes live.
type Isolation uint8

const (
	// InProcess keeps the runtimes in the calling process: the fastest mode, for trusted code
	// the operator attaches. A script that exhausts memory or the Go stack can take the whole
	// process down (see the package documentation).
	InProcess Isolation = iota
	// Process keeps the runtimes in a sandboxed worker process (the hidden `verge worker` verb)
	// under OS memory limits and a wall-clock watchdog. A worker that dies fails only its
	// in-flight invocations (503) and is restarted. The default for uploaded code.
	Process
)

// String returns "in-process" or "process".
func (i Isolation) String() string {
	if i == Process {
		return "process"
	}
	return "in-process"
}

// ParseIsolation parses "in-process" or "process".
func ParseIsolation(s string) (Isolation, error) {
	switch s {
	case "in-process", "inprocess":
		return InProcess, nil
	case "process", "":
		return Process, nil
	}
	return 0, fmt.Errorf("jsruntime: unknown isolation %q (want in-process or process)", s)
}

// Code is a function's package: source files by slash-separated relative path ("index.js",
// "lib/util.js", "data.json") and the entry file. A single-file function is
// Code{Files: {"index.js": src}}.
type Code struct {
	Files map[string]string
	// Entry is the file whose exports hold the handler. Default: "index.js" if present, else
	// the only file.
	Entry string
	// Dir, for local tools only (verge fn test), is a directory from which files that are not
	// in Files are read on first require, as Node would. Uploaded code never sets it.
	Dir string
}

// SingleFile returns the Code of one source file.
func SingleFile(src string) Code {
	return Code{Files: map[string]string{"index.js": src}, Entry: "index.js"}
}

// Options configure one function version. The zero value of every field but Code is usable.
type Options struct {
	// Name and Version identify the function in its context object, logs and metrics.
	// Defaults: "function" and "$LATEST".
	Name, Version string
	// Runtime is RuntimeLambdaEdge (default), RuntimeCloudFrontJS1 or RuntimeCloudFrontJS2
	// (RuntimeCloudFrontFunctions is an alias of 2.0).
	Runtime string
	// Code is the function's source.
	Code Code
	// Isolation chooses where runtimes live. Default InProcess (the zero value); the edge
	// should default uploaded code to Process.
	Isolation Isolation
	// Limits bound each invocation; zero fields take the stage's defaults (hooks.DefaultLimits).
	Limits hooks.Limits
	// MinWarm runtimes are created by New and kept through idle recycling. Default 1.
	MinWarm int
	// MaxConcurrency caps simultaneous invocations; one more is refused at once with a
	// hooks.Throttled error (503), as Lambda throttles. Default 64.
	MaxConcurrency int
	// IdleTimeout is how long an unused runtime above MinWarm is kept. Default 5 minutes.
	IdleTimeout time.Duration
	// InitTimeout bounds running the module's top-level code in a new runtime. Default 5s.
	InitTimeout time.Duration
	// MaxCallDepth is the JS call-stack limit. Default 4000 frames.
	MaxCallDepth int
	// MaxSourceBytes caps the package size, all files together. Default 1 MiB (Lambda@Edge's
	// viewer package limit); CloudFront Functions default to 10 KiB.
	MaxSourceBytes int
	// MaxNesting caps bracket nesting in source files (the goja parser recurses). Default 500.
	MaxNesting int
	// MaxLogBytes caps captured console output per invocation. Default 64 KiB.
	MaxLogBytes int
	// RegexpTimeout bounds one regular expression operation (exec, test, match, replace,
	// search, split; a replace callback's own time excluded). Default 100ms. One that runs
	// longer ends the invocation with an error (503) instead of answering "no match". With
	// Process isolation each worker's engine stops a match at its function's timeout; in
	// process the engine's cut-off is process-wide, set by the first function created, and a
	// function whose RegexpTimeout is longer is stopped at that cut-off (still an error).
	RegexpTimeout time.Duration
	// RefuseEval makes eval and new Function throw EvalError in a Lambda@Edge function, which
	// otherwise has them as in Node (CloudFront Functions always refuse them). Set it for code
	// run in the node's own process: code compiled at run time escapes the nesting cap applied
	// to sources, and goja's parser, which ignores the deadline, recurses once per level, so one
	// string could stall the process or exhaust its stack. In a worker that only ends the worker.
	RefuseEval bool
	// Env is process.env inside the function. Lambda's reserved variables are added.
	Env map[string]string
	// Logger receives one record per failed invocation. Default: discard.
	Logger *slog.Logger
	// LogSink, if set, receives each invocation's console output, under the event's
	// CloudFront request id (else context.awsRequestId). It must not block and must not retain
	// lines after returning.
	LogSink func(fn, version, requestID string, lines []LogLine)
	// Metrics, if set, records invocations (see NewMetrics). Share one per registry.
	Metrics *Metrics
	// MemoryGuard, if set, stops this function's invocations when the process heap passes the
	// guard's limit (see MemoryGuard). InProcess only; workers run their own guard.
	MemoryGuard *MemoryGuard
	// Worker configures Process isolation.
	Worker WorkerOptions
	// KVS is the KeyValueStore a CloudFront function (runtime 2.0) reads with cf.kvs(); nil:
	// none is associated (cf.kvs() throws).
	KVS *KeyValueStore
	// EdgeLocation is cf.edgeLocation for CloudFront functions (runtime 2.0).
	EdgeLocation EdgeLocation
}

// WorkerOptions configure the worker processes of Process isolation.
type WorkerOptions struct {
	// Command starts a worker: the binary and its arguments. Default: this executable with
	// the argument "worker" (the hidden `verge worker` verb).
	Command []string
	// Env is added to the worker's environment (tests use it to re-exec a test binary).
	Env []string
	// MemoryMB is the worker's address-space limit (RLIMIT_AS) in MiB. Default 1024: goja
	// needs headroom beyond the function's Limits.MemoryMB, which sets GOMEMLIMIT.
	MemoryMB int
	// Grace is added to an invocation's timeout before the watchdog kills a worker whose
	// runtime did not stop. Default 1s.
	Grace time.Duration
	// Group, if set (Workers.Group), lets this Function share a worker process with the other
	// Functions of its group whose process-level settings are equal (Command, Env, MemoryMB,
	// Limits.MemoryMB, RegexpTimeout): each is a program of its own in that process, with its
	// own pool, MaxConcurrency, limits and store, but they share its memory and its fate (a
	// crash fails the calls in flight of all of them). The zero value runs the Function in a
	// process of its own.
	Group WorkerGroup
}

// LogLine is one console call: Level is INFO, WARN, ERROR, DEBUG or TRACE.
type LogLine struct {
	Level   string `json:"level"`
	Message string `json:"message"`
}

func (o *Options) withDefaults() Options {
	c := *o
	if c.Name == "" {
		c.Name = "function"
	}
	if c.Version == "" {
		c.Version = "$LATEST"
	}
	if rt, err := hooks.CanonicalRuntime(c.Runtime); err == nil {
		c.Runtime = rt
	}
	if c.MinWarm <= 0 {
		c.MinWarm = 1
	}
	if c.MaxConcurrency <= 0 {
		c.MaxConcurrency = 64
	}
	if c.MinWarm > c.MaxConcurrency {
		c.MinWarm = c.MaxConcurrency
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 5 * time.Minute
	}
	if c.InitTimeout <= 0 {
		c.InitTimeout = 5 * time.Second
	}
	if c.MaxCallDepth <= 0 {
		c.MaxCallDepth = 4000
	}
	if c.MaxSourceBytes <= 0 {
		c.MaxSourceBytes = 1 << 20
		if c.cff() {
			c.MaxSourceBytes = 10 << 10
		}
	}
	if c.MaxNesting <= 0 {
		c.MaxNesting = 500
	}
	if c.MaxLogBytes <= 0 {
		c.MaxLogBytes = 64 << 10
	}
	if c.RegexpTimeout <= 0 {
		c.RegexpTimeout = 100 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Worker.MemoryMB <= 0 {
		c.Worker.MemoryMB = 1024
	}
	if c.Worker.Grace <= 0 {
		c.Worker.Grace = time.Second
	}
	return c
}

func (o *Options) dialect() hooks.Dialect {
	return hooks.DialectOf(o.Runtime)
}
