package jsruntime

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vergecdn/verge/internal/poll"
)

func TestScaleProcs(t *testing.T) {
	cases := []struct {
		procs, limit int
		load         float64
		want         int
	}{
		{1, 8, 0, 1},      // idle stays at one
		{1, 8, 0.5, 1},    // half a CPU fits in one
		{1, 8, 0.9, 2},    // a full processor gets another
		{1, 1, 1.0, 1},    // never past the limit
		{2, 8, 1.9, 3},    // still full
		{2, 8, 1.2, 2},    // between the marks: no change
		{2, 8, 0.6, 1},    // one would do
		{4, 4, 3.9, 4},    // at the limit
		{4, 8, 2.0, 3},    // two of four in use: one fewer, not straight to two
		{3, 8, 0.05, 2},   // one step at a time down, too
		{1, 8, 0.849, 1},  // the upper mark is 85%
		{2, 8, 0.701, 2},  // the lower mark is 70% of one fewer
		{2, 8, 0.699, 1},  //
		{8, 8, 7.0, 8},    // busy at the limit
		{5, 16, 4.26, 6},  // 85% of 5 is 4.25
		{5, 16, 2.79, 4},  // 70% of 4 is 2.8
		{5, 16, 2.81, 5},  //
		{6, 16, 3.49, 5},  //
		{6, 16, 5.11, 7},  //
		{6, 16, 4.0, 6},   //
		{16, 16, 0.1, 15}, //
	}
	for _, c := range cases {
		if got := scaleProcs(c.procs, c.limit, c.load); got != c.want {
			t.Errorf("scaleProcs(%d, %d, %v) = %d, want %d", c.procs, c.limit, c.load, got, c.want)
		}
	}
}

// TestProcScaler runs the scaler on this process, with the CPU it reports set by the test (a
// box shared with other tests cannot promise a busy core): it starts at one processor, takes
// one more at each sample while the processors it has are nearly full, gives them back one
// at a time as the load falls, and returns to one when calls stop.
func TestProcScaler(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	var load atomic.Int64 // in thousandths of a CPU
	var mu sync.Mutex
	var used time.Duration
	last := time.Now()
	cpu := func() time.Duration { // load CPUs' worth of time since the last sample
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		used += time.Duration(float64(now.Sub(last)) * float64(load.Load()) / 1000)
		last = now
		return used
	}
	s := startProcScaler(4, 5*time.Millisecond, cpu, time.Hour, func() {})
	defer s.Close()
	if n := runtime.GOMAXPROCS(0); n != 1 {
		t.Fatalf("GOMAXPROCS = %d after start, want 1", n)
	}
	stopCalls := make(chan struct{})
	callsDone := make(chan struct{})
	go func() { // calls keep coming until stopCalls
		defer close(callsDone)
		for {
			select {
			case <-stopCalls:
				return
			case <-time.After(time.Millisecond):
				s.begin()
				s.end()
			}
		}
	}()
	want := func(n int, what string) {
		t.Helper()
		poll.Until(t, 10*time.Second, fmt.Sprintf("GOMAXPROCS %d (%s)", n, what), func() bool { return runtime.GOMAXPROCS(0) == n })
	}
	load.Store(3950) // always nearly full: up to the limit, one at a time
	want(4, "busy")
	load.Store(2500) // 2.5 of 4: between the marks (70% of 3 is 2.1)
	time.Sleep(50 * time.Millisecond)
	if n := runtime.GOMAXPROCS(0); n != 4 {
		t.Fatalf("GOMAXPROCS = %d at 2.5 CPUs of 4, want 4", n)
	}
	load.Store(1000) // one CPU: down to 2 (70% of 1 is 0.7, not above 1)
	want(2, "one CPU used")
	load.Store(2000)
	want(3, "two CPUs used on two")
	close(stopCalls)
	<-callsDone
	want(1, "idle")
}

// TestProcScalerRests: the scaler runs rest once the process has had no work begun or ended
// for restAfter, at start and after each run of work, never sooner, never while work is in
// flight, and once per idle spell. It checks those rules over every rest, so that a test
// goroutine held up for longer than restAfter (a legitimate idle spell) does not fail it.
func TestProcScalerRests(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	const restAfter = 300 * time.Millisecond
	var mu sync.Mutex
	var rests []time.Time
	works := []time.Time{time.Now()} // the start, then each begin and end, read before it happens
	s := startProcScaler(1, 5*time.Millisecond, func() time.Duration { return 0 }, restAfter, func() {
		mu.Lock()
		defer mu.Unlock()
		rests = append(rests, time.Now())
	})
	defer s.Close()
	note := func() {
		mu.Lock()
		defer mu.Unlock()
		works = append(works, time.Now())
	}
	work := func() { // one short call
		note()
		s.begin()
		s.end()
	}
	// rested waits for a rest after the last work, then checks every rest so far: each came
	// restAfter or more after the work before it, with work between any two.
	rested := func(what string) {
		t.Helper()
		mu.Lock()
		lastWork := works[len(works)-1]
		mu.Unlock()
		poll.Until(t, 10*time.Second, "a rest "+what, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(rests) > 0 && rests[len(rests)-1].After(lastWork)
		})
		mu.Lock()
		defer mu.Unlock()
		for i, r := range rests {
			before, between := works[0], false
			for _, w := range works {
				if w.Before(r) {
					before = w
					between = between || i > 0 && w.After(rests[i-1])
				}
			}
			if gap := r.Sub(before); gap < restAfter {
				t.Fatalf("rest %d came %v after the work before it, want at least %v", i+1, gap, restAfter)
			}
			if i > 0 && !between {
				t.Fatalf("rests %d and %d with no work between them", i, i+1)
			}
		}
	}
	rested("idle since the start")
	time.Sleep(2 * restAfter) // a second rest now would have no work before it
	for end := time.Now().Add(2 * restAfter); time.Now().Before(end); {
		work() // calls for longer than restAfter, 2 ms apart
		time.Sleep(2 * time.Millisecond)
	}
	rested("after the calls")
	work()
	rested("after one call")
	began := time.Now()
	note()
	s.begin() // a call longer than restAfter: no rest during it, one restAfter after its end
	time.Sleep(3 * restAfter)
	note()
	ended := time.Now()
	s.end()
	rested("after a long call")
	mu.Lock()
	defer mu.Unlock()
	for _, r := range rests {
		if r.After(began) && r.Before(ended) {
			t.Fatalf("a rest %v into a call of %v", r.Sub(began), ended.Sub(began))
		}
	}
}
