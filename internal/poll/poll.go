// Package poll waits, in tests, for a condition that real servers, processes and fleets reach
// in their own time.
package poll

import (
	"testing"
	"time"
)

// Until checks cond every 5 ms until it holds, failing the test after d with what it waited
// for.
func Until(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
