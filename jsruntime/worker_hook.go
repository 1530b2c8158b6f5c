package jsruntime

import "os"

// WorkerEnv is the environment switch that makes a test binary act as a worker process.
const WorkerEnv = "VERGE_JSRUNTIME_WORKER"

// IsWorkerProcess reports whether this process was started as a test worker (WorkerEnv=1).
func IsWorkerProcess() bool { return os.Getenv(WorkerEnv) == "1" }

// WorkerMainForTest runs the worker loop (ServeWorker); test binaries call it from TestMain
// when IsWorkerProcess is true, and exit with its result.
func WorkerMainForTest() int { return ServeWorker() }
