package jsruntime_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/jsruntime"
)

// TestMemoryGuardInProcess: a string-doubling loop in process is stopped by the guard with a
// 503 before it exhausts memory, and the function serves again.
func TestMemoryGuardInProcess(t *testing.T) {
	g := jsruntime.NewMemoryGuard(400<<20, 5*time.Millisecond)
	defer g.Close()
	f := newFn(t, `exports.handler = async (e) => {
  if (e.Records[0].cf.request.uri === '/') { let s = 'x'; for (;;) s += s + s.slice(1); }
  return e.Records[0].cf.request;
}`, func(o *jsruntime.Options) {
		o.MemoryGuard = g
		o.Limits.Timeout = 20 * time.Second
		o.Limits.MemoryMB = 4096
	})
	ev := loadEvent(t, "lambda-edge-viewer-request.json")
	start := time.Now()
	_, err := f.Invoke(context.Background(), ev)
	if hooks.KindOf(err) != hooks.Execution || !strings.Contains(err.Error(), "memory limit") {
		t.Fatalf("got %v", err)
	}
	t.Logf("stopped after %v: %v (trips %d)", time.Since(start), err, g.Trips())
	ok := *ev
	ok.Request = ev.Request.Clone()
	ok.Request.URI = "/fine"
	if _, err := f.Invoke(context.Background(), &ok); err != nil {
		t.Fatal(err)
	}
}
