package jsruntime

import (
	"testing"
	"time"

	"github.com/dop251/goja"
)

// pendingInterrupt reports whether rt holds an interrupt (and clears it).
func pendingInterrupt(rt *goja.Runtime) bool {
	_, err := rt.RunString("1")
	rt.ClearInterrupt()
	return err != nil
}

// TestAlarm: an invocation past its deadline is interrupted and told so; one still within its
// deadline when the alarm goes off for an earlier one is left alone and interrupted at its
// own; an alarm that goes off between invocations interrupts nothing.
func TestAlarm(t *testing.T) {
	rt := goja.New()
	a := &alarm{rt: rt}
	defer a.stop()

	now := time.Now()
	a.begin(now.Add(20*time.Millisecond), now)
	time.Sleep(60 * time.Millisecond)
	if !a.end() || !pendingInterrupt(rt) {
		t.Fatal("an invocation past its deadline was not interrupted")
	}

	// Armed for 30 ms by the first invocation, which ends at once; the second is due later.
	now = time.Now()
	a.begin(now.Add(30*time.Millisecond), now)
	if a.end() {
		t.Fatal("a quick invocation was interrupted")
	}
	now = time.Now()
	a.begin(now.Add(500*time.Millisecond), now)
	time.Sleep(60 * time.Millisecond) // the alarm went off for the first deadline
	if pendingInterrupt(rt) {
		t.Fatal("the alarm for an earlier deadline interrupted a later invocation")
	}
	time.Sleep(600 * time.Millisecond)
	if !a.end() || !pendingInterrupt(rt) {
		t.Fatal("the later invocation was not interrupted at its own deadline")
	}

	// Goes off while nothing runs.
	now = time.Now()
	a.begin(now.Add(10*time.Millisecond), now)
	a.end()
	time.Sleep(40 * time.Millisecond)
	if pendingInterrupt(rt) {
		t.Fatal("an alarm between invocations interrupted the runtime")
	}
	now = time.Now()
	a.begin(now.Add(time.Second), now)
	if a.end() || pendingInterrupt(rt) {
		t.Fatal("an invocation after a quiet alarm was interrupted")
	}
}
