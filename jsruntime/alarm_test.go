package jsruntime

import (
	"testing"
	"time"

	"github.com/dop251/goja"

	"github.com/vergecdn/verge/internal/poll"
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

	// What the alarm does, it does on its timer's goroutine, which a loaded machine may run
	// late: the test waits for what the alarm did (rang, re-armed, disarmed), not for a time.
	rang := func() bool { a.mu.Lock(); defer a.mu.Unlock(); return a.rang }
	armedFor := func() time.Time { a.mu.Lock(); defer a.mu.Unlock(); return a.armedFor }

	now := time.Now()
	a.begin(now.Add(20*time.Millisecond), now)
	poll.Until(t, 10*time.Second, "the alarm to ring past the deadline", rang)
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
	later := now.Add(500 * time.Millisecond)
	a.begin(later, now)
	// The alarm goes off for the first deadline and re-arms for the later one (or, were it
	// run past the later one, rings for it).
	poll.Until(t, 10*time.Second, "the alarm to go off for the first deadline", func() bool { return armedFor().Equal(later) || rang() })
	if time.Now().Before(later) && pendingInterrupt(rt) {
		t.Fatal("the alarm for an earlier deadline interrupted a later invocation")
	}
	poll.Until(t, 10*time.Second, "the alarm to ring at the later deadline", rang)
	if !a.end() || !pendingInterrupt(rt) {
		t.Fatal("the later invocation was not interrupted at its own deadline")
	}

	// Goes off while nothing runs.
	now = time.Now()
	a.begin(now.Add(10*time.Millisecond), now)
	a.end()
	poll.Until(t, 10*time.Second, "the alarm to go off", func() bool { return armedFor().IsZero() })
	if pendingInterrupt(rt) {
		t.Fatal("an alarm between invocations interrupted the runtime")
	}
	now = time.Now()
	a.begin(now.Add(time.Second), now)
	if a.end() || pendingInterrupt(rt) {
		t.Fatal("an invocation after a quiet alarm was interrupted")
	}
}
