package origin

import (
	"testing"

	"go.uber.org/goleak"
)

// fasthttp keeps three kinds of goroutine that outlive a test on purpose:
// the server's Date refresher (one per process, never stops), the test
// servers' worker-pool cleaner (exits after its 10s sleep) and a
// HostClient's idle-connection cleaner, which exits only after its next
// sleep (up to KeepaliveTimeout) once the pool is empty. Everything else,
// including the goroutines an abandoned Fetch leaves behind, must be gone.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*HostClient).connsCleaner"),
	)
}
