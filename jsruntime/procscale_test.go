package jsruntime

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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

// TestProcScaler runs the scaler on this process: it starts at one processor, takes a second
// when calls keep one busy, and gives it back once they stop using it.
func TestProcScaler(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("needs two CPUs")
	}
	prev := runtime.GOMAXPROCS(2)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	s := startProcScaler(5 * time.Millisecond)
	defer s.Close()
	if n := runtime.GOMAXPROCS(0); n != 1 {
		t.Fatalf("GOMAXPROCS = %d after start, want 1", n)
	}
	waitProcs := func(want int, busy bool) {
		t.Helper()
		var stop atomic.Bool
		var wg sync.WaitGroup
		if busy {
			for range 2 {
				wg.Go(func() {
					for x := 0; !stop.Load(); x++ {
						if x%1024 == 0 {
							s.called()
						}
					}
				})
			}
		}
		defer func() { stop.Store(true); wg.Wait() }()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			if !busy {
				s.called()
			}
			time.Sleep(time.Millisecond)
			if runtime.GOMAXPROCS(0) == want {
				return
			}
		}
		t.Fatalf("GOMAXPROCS = %d, want %d (busy %v)", runtime.GOMAXPROCS(0), want, busy)
	}
	waitProcs(2, true)
	waitProcs(1, false)
}
