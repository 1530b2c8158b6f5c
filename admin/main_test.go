package admin_test

import (
	"os"
	"testing"

	"github.com/vergecdn/verge/jsruntime"
)

// TestMain lets the test binary serve as the worker process of the nodes that run uploaded
// code in workers, as `verge worker` does.
func TestMain(m *testing.M) {
	if jsruntime.IsWorkerProcess() {
		os.Exit(jsruntime.WorkerMainForTest())
	}
	os.Exit(m.Run())
}
