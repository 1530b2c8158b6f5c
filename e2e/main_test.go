package e2e

import (
	"os"
	"testing"

	"github.com/vergecdn/verge/jsruntime"
)

// TestMain lets this test binary double as a jsruntime worker process (Process isolation).
func TestMain(m *testing.M) {
	if jsruntime.IsWorkerProcess() {
		os.Exit(jsruntime.WorkerMainForTest())
	}
	os.Exit(m.Run())
}

// workerOptions start workers from this test binary.
func workerOptions(testing.TB) jsruntime.WorkerOptions {
	return jsruntime.WorkerOptions{Command: []string{os.Args[0]}, Env: []string{jsruntime.WorkerEnv + "=1"}}
}
