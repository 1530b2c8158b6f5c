// Package jsruntime runs JavaScript edge functions on goja: Lambda@Edge functions (runtime
// "lambda-edge", a Node.js-style CommonJS module) and CloudFront Functions (runtimes
// "cloudfront-js-1.0" and "cloudfront-js-2.0", a script defining handler(event); 2.0 adds ES
// module imports, async handlers and the cloudfront module with KeyValueStores). It implements
// hooks.Function.
//
// # Using it
//
//	m, _ := jsruntime.NewMetrics(registry)          // once per prometheus.Registry
//	f, err := jsruntime.New(jsruntime.Options{
//		Name: "auth", Version: "7", Code: jsruntime.SingleFile(src),
//		Isolation: jsruntime.Process,                 // or InProcess for trusted code
//		Metrics: m,
//	})
//	defer f.Close()
//	res, err := f.Invoke(ctx, ev)                   // then hooks.Validate(d, ev, res, lim)
//
// A Function is one immutable version: compiled once, with a pool of warm runtimes (goja
// "execution environments" that keep their globals between invocations, as Lambda's do). A new
// version is a new Function; the old one is closed once swapped out.
//
// # Limits and isolation
//
// Every invocation runs under a deadline (Limits.Timeout, or ctx's if sooner) enforced with
// goja's Interrupt, a JS call-depth limit, and a regular-expression match timeout. goja cannot
// bound memory and Interrupt does not stop native built-ins, so the runtime adds guards as
// defence in depth: String repeat/padStart/padEnd refuse results over Node's limit (lowered to
// MemoryMB/8 characters), JSON.parse pre-scans nesting depth, sources are capped in size and
// bracket nesting at upload, eval and new Function are off in CloudFront Functions and under
// Options.RefuseEval (Lambda@Edge otherwise has them, as Node does), pending timers are capped.
//
// Memory is guarded at two levels. A MemoryGuard (Options.MemoryGuard) samples the Go heap
// every few milliseconds and interrupts the invocations it covers when the heap passes its
// limit; their runtimes and everything they allocated are dropped (503). It is a best effort:
// one native allocation larger than the memory left still kills the process before the next
// sample. So InProcess isolation is for trusted code only, and Process isolation runs the pool
// in a worker process (the hidden `verge worker` verb, jsruntime.ServeWorker): its own guard
// trips at a quarter of WorkerOptions.MemoryMB, RLIMIT_AS caps its address space at its
// start-up size plus WorkerOptions.MemoryMB (Go reserves address space early, so an absolute
// limit would be fragile), GOMEMLIMIT is the function's MemoryMB, and goroutine stacks are
// capped at 256 MiB. An allocation past RLIMIT_AS is a Go fatal error that ends only the
// worker: its in-flight invocations fail with 503 (hooks.Execution) and the next invocation
// starts a new worker. A parent-side watchdog kills a worker whose invocation overruns its
// timeout by WorkerOptions.Grace (native code Interrupt cannot stop). Workers that keep dying
// within a second of starting are restarted with a growing back-off (50 ms to 5 s), during
// which invocations fail fast with 503.
//
// A worker process hosts programs: it is started with the process-level settings only (its
// limits and sandbox are in place before any code arrives), and each Function's program is
// loaded into it by id, compiled there (a syntax error comes back typed), and loaded again
// after a restart. By default every Function has a worker of its own. Functions given the
// same WorkerOptions.Group (Workers.Group) and equal process-level settings share one: a new
// version is then a compile in the running worker (about a millisecond) instead of a process
// start. Programs in one worker keep their own pools, concurrency caps, limits, logs and
// KeyValueStore, but share its memory, its guard and its fate: a crash fails the calls in
// flight of all of them. So a group must hold only code that may see each other's memory;
// deploy groups the versions of one function and never two functions.
//
// Measured in jsruntime/hostile (512 MiB headroom): a string-doubling loop is stopped by the
// worker's guard in 0.8-1 s without losing the worker; a single 2 GiB Uint8Array kills its
// worker in 10-40 ms; a 100k-deep JSON.stringify stops at its deadline (guardStringify), and
// with a property-list replacer, which is not guarded, is killed by the watchdog at timeout+grace;
// a healthy function invoked every 20 ms beside them all never fails. In process, the guard
// stops a string-tripling loop at a 400 MiB limit in about 1 s (memguard_test.go).
//
// # Speed
//
// A warm invocation builds no more of the event than the function reads: the Lambda@Edge event
// and context are lazy objects (lazyProps, lazyHeaders) whose fields become JS values on first
// access, as are a CloudFront function's headers (lazyHeaders in its shape), and the decoder
// copies whatever the function left untouched straight from Go. Frames
// to and from a worker go through rings in shared memory (shmring.go), polled for a few tens
// of microseconds before a reader parks, since on a virtual machine a cross-process wake-up
// costs more than the invocation; a worker runs at GOGC 400 under its memory limit, on one
// processor until its calls need more (procScaler). BenchmarkWarmInvoke, BenchmarkWarmInvokeProcess,
// BenchmarkCFFWarmInvoke, BenchmarkColdStart and BenchmarkPhases measure these paths.
//
// # Fidelity
//
// Node.js is the reference: testdata/corpus holds realistic functions whose expected output,
// console lines and errors were produced by Node (testdata/golden.js), and the tests compare
// against them.
package jsruntime
