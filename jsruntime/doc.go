// Package jsruntime runs JavaScript edge functions on goja: Lambda@Edge functions (runtime
// "lambda-edge", a Node.js-style CommonJS module) and CloudFront Functions (runtime
// "cloudfront-functions", a script defining handler(event)). It implements hooks.Function.
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
// bracket nesting at upload, eval and new Function are off, pending timers are capped.
//
// Those guards cannot cover everything (a loop that doubles a string, a 100k-deep
// JSON.stringify), so InProcess isolation is for trusted code only. Process isolation runs the
// pool in a worker process (the hidden `verge worker` verb, jsruntime.ServeWorker) whose
// address space is limited with RLIMIT_AS (its start-up size plus WorkerOptions.MemoryMB;
// Go reserves address space early, so an absolute limit would be fragile), whose Go heap
// target is the function's MemoryMB (GOMEMLIMIT via debug.SetMemoryLimit), and whose
// goroutine stacks are capped at 256 MiB. Allocation past the limit is a Go fatal error that
// ends only the worker: its in-flight invocations fail with 503 (hooks.Execution) and the next
// invocation starts a new worker. A parent-side watchdog kills a worker whose invocation
// overruns its timeout by WorkerOptions.Grace (native code Interrupt cannot stop). Measured
// in jsruntime/hostile: a string-doubling loop kills its worker in about 1 s with a 512 MiB
// headroom, and the healthy function beside it never fails.
//
// # Fidelity
//
// Node.js is the reference: testdata/corpus holds realistic functions whose expected output,
// console lines and errors were produced by Node (testdata/golden.js), and the tests compare
// against them.
package jsruntime
