package jsruntime

import (
	"context"
	"testing"
	"time"

	"github.com/vergecdn/verge/hooks"
)

// TestGuardAfterInvocation: a guard that fires after an invocation has finished (the
// interrupt lands on an idle runtime) does not fail the next invocation on that runtime.
func TestGuardAfterInvocation(t *testing.T) {
	f, err := New(Options{Code: SingleFile(`exports.handler = async () => ({ status: '200' })`)})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l := f.backend.(*local)
	ev := seedEvent(t, hooks.ViewerRequest)
	v, _, err := l.pool.get()
	if err != nil {
		t.Fatal(err)
	}
	if out := v.invoke(context.Background(), &call{ev: ev, lim: hooks.Limits{}.WithDefaults(hooks.LambdaEdge, ev.Stage), deadline: time.Now().Add(time.Second)}); out.err != nil {
		t.Fatal(out.err)
	}
	v.rt.Interrupt(errMemory) // what MemoryGuard.watch does to a vm still in its set
	if out := v.invoke(context.Background(), &call{ev: ev, lim: hooks.Limits{}.WithDefaults(hooks.LambdaEdge, ev.Stage), deadline: time.Now().Add(time.Second)}); out.err != nil {
		t.Fatalf("the next invocation failed: %v", out.err)
	}
	l.pool.put(v, false)
}
