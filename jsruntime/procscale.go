package jsruntime

import (
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// procScaler sizes a worker's GOMAXPROCS to the CPU its calls use. A worker runs on one
// processor until it needs more: with two, every call that arrived woke a second thread to
// run it (the Go scheduler hands a new goroutine to an idle P), and on the 2-core box of
// bench/README.md the worker spent a third more CPU per call and served fewer calls. A
// function that is busy enough to fill its processor gets more, up to the node's GOMAXPROCS
// (workerInit.MaxProcs), so a hot function still uses a big machine. Like the memory guard,
// it samples only while calls come: an idle worker is not woken, and goes back to one
// processor. The worker is started with GOMAXPROCS=1 (workerEnv), which also turns off the Go
// runtime's own updates of it (from the CPU quota).
//
// Since it knows when the worker falls idle, it also runs rest once the worker has had no
// work (a call, a load or an unload) in flight, begun nor ended, for restAfter: the worker
// gives its free heap back to the OS then (a worker runs at GOGC 400, so its heap holds several
// times its live runtimes in garbage, which the runtime's own scavenger keeps while it stays
// under the memory limit).
type procScaler struct {
	max       int
	interval  time.Duration
	cpu       func() time.Duration // the CPU time used so far (processCPU)
	restAfter time.Duration
	rest      func()
	events    atomic.Int64  // work begun or ended since the last sample
	inFlight  atomic.Int64  // work begun and not ended
	wake      chan struct{} // capacity 1: work began or ended after a sample that saw none
	stop      chan struct{}
	done      chan struct{}
}

// procScaleInterval is how often a busy worker measures its CPU.
const procScaleInterval = 100 * time.Millisecond

// workerRestAfter is how long a worker waits without calls or loads before it gives its
// free heap back to the OS (procScaler.rest): long enough that a worker with steady traffic
// does not pay for the collection it forces, short enough that a burst's garbage does not stay.
const workerRestAfter = time.Second

// startProcScaler sets this process to one processor and starts adapting it to the CPU time
// cpu reports, up to maxProcs, and calling rest once the process has been idle for
// restAfter (at start too: it has just loaded the built-in modules). Close stops it.
func startProcScaler(maxProcs int, interval time.Duration, cpu func() time.Duration, restAfter time.Duration, rest func()) *procScaler {
	runtime.GOMAXPROCS(1)
	s := &procScaler{max: max(maxProcs, 1), interval: interval, cpu: cpu, restAfter: restAfter, rest: rest,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go s.run()
	return s
}

// begin counts the start of a call, a load or an unload; end counts its end. Each is
// activity, and the first after an idle sample wakes the scaler.
func (s *procScaler) begin() {
	s.inFlight.Add(1)
	s.note()
}

func (s *procScaler) end() {
	s.inFlight.Add(-1)
	s.note()
}

func (s *procScaler) note() {
	if s.events.Add(1) == 1 {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

func (s *procScaler) Close() {
	close(s.stop)
	<-s.done
}

func (s *procScaler) run() {
	defer close(s.done)
	procs := 1
	t := time.NewTimer(s.restAfter)
	for {
		select { // idle: wait for work, resting once if none begins nor ends for restAfter
		case <-s.stop:
			return
		case <-t.C:
			if s.inFlight.Load() == 0 { // else its end wakes the scaler, and the rest is later
				s.rest()
			}
			select {
			case <-s.stop:
				return
			case <-s.wake:
			}
		case <-s.wake:
		}
		start, cpu0 := time.Now(), s.cpu()
		for busy := true; busy; {
			t.Reset(s.interval)
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
			select { // a wake-up sent during this interval is covered by its sample
			case <-s.wake:
			default:
			}
			now, cpu1 := time.Now(), s.cpu()
			load := float64(cpu1-cpu0) / float64(now.Sub(start))
			start, cpu0 = now, cpu1
			if n := scaleProcs(procs, s.max, load); n != procs {
				procs = n
				runtime.GOMAXPROCS(n)
			}
			busy = s.events.Swap(0) > 0
		}
		if procs > 1 { // idle: back to one, as at the start
			procs = 1
			runtime.GOMAXPROCS(1)
		}
		t.Reset(max(s.restAfter-s.interval, 0)) // one idle interval has passed already
	}
}

// scaleProcs is the processor count for a worker that used load CPUs on procs processors:
// one more when it used nearly all of them, one fewer when the rest would still leave room.
func scaleProcs(procs, limit int, load float64) int {
	switch {
	case load > 0.85*float64(procs) && procs < limit:
		return procs + 1
	case procs > 1 && load < 0.7*float64(procs-1):
		return procs - 1
	}
	return procs
}

// processCPU returns the CPU time this process has used, user and system.
func processCPU() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
