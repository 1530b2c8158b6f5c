package jsruntime

import (
	"os"
	"strconv"
)

// workerEnv is a worker process's whole environment: what a Lambda@Edge function's process
// sees (the names Lambda defines, with Verge's values), its Go settings, and
// WorkerOptions.Env. The node's own environment (admin
// tokens, gossip keys, cloud credentials) is not passed on. It names no function: a worker
// may be started before it has one (a spare, see Workers) and hosts several versions, and
// process.env, built in vm.go, shows each program its own name and version.
func workerEnv(o Options) []string {
	mem := o.Limits.MemoryMB
	if mem <= 0 {
		mem = 128
	}
	env := []string{
		"AWS_REGION=us-east-1",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(mem),
		"AWS_EXECUTION_ENV=AWS_Lambda_nodejs20.x",
		"LAMBDA_TASK_ROOT=" + taskRoot,
		"TZ=:UTC",
		"LANG=en_US.UTF-8",
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"GOTRACEBACK=single",
		// One processor from the start: a worker that initialises, compiles the built-in
		// modules and loads its code on several keeps more memory once idle (bench/README.md).
		// It takes more, up to the node's GOMAXPROCS, when its calls need them (procScaler).
		"GOMAXPROCS=1",
	}
	// GORACE keeps race runs of the tests working. (No GOCOVERDIR: the sandbox lets a worker
	// write no file, coverage data included.)
	if v, ok := os.LookupEnv("GORACE"); ok {
		env = append(env, "GORACE="+v)
	}
	return append(env, o.Worker.Env...)
}
