package jsruntime

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vergecdn/verge/hooks"
)

// ServeWorker is the body of the hidden `verge worker` verb. Its channel to the node is the
// memory it inherited as descriptor 3, with stdin and stdout as doorbells (shmring.go). It
// reads the process settings first and applies its OS limits to this process (RLIMIT_AS,
// GOMEMLIMIT, a smaller Go stack) and its sandbox (see sandbox) before any code arrives, then
// compiles the programs it is sent and serves their calls concurrently until the node closes
// stdin (or dies). It returns the process exit code.
func ServeWorker() int {
	r, w, err := workerChannel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "jsruntime worker:", err)
		return 2
	}
	br := bufio.NewReaderSize(r, 64<<10)
	typ, body, err := readFrame(br)
	if err != nil || typ != frameInit {
		fmt.Fprintln(os.Stderr, "jsruntime worker: no init frame:", err)
		return 2
	}
	var in workerInit
	if err := json.Unmarshal(body, &in); err != nil {
		fmt.Fprintln(os.Stderr, "jsruntime worker: init:", err)
		return 2
	}
	applyLimits(in)
	sb := sandbox()
	// The built-in modules are compiled once per process; compiled now, before the worker says
	// it is ready, they cost a spare worker's first program nothing (see Workers).
	_, _ = programs()
	s := &workerServer{br: br, w: w, programs: map[uint64]*hostedProgram{}, procs: startProcScaler(in.MaxProcs, procScaleInterval, processCPU, workerRestAfter, restHeap())}
	defer s.procs.Close()
	if in.MemoryMB > 0 {
		// Stop runaway allocation at a quarter of the address-space headroom, before RLIMIT_AS
		// turns it into a fatal error that takes the whole worker down.
		s.guard = NewMemoryGuard(uint64(guardLimit(in)), 0)
		defer s.guard.Close()
	}
	s.send(frameInitReply, initReply{Sandbox: sb})
	s.wg.Go(s.loop)
	s.wg.Wait()
	for _, p := range s.programs {
		p.f.Close()
	}
	return 0
}

// workerChannel opens the worker's end of its channel: the calls ring, read with stdin as its
// doorbell, and the results ring, written with stdout as the node's.
func workerChannel() (io.Reader, io.Writer, error) {
	mem := os.NewFile(3, "worker-channel")
	if mem == nil {
		return nil, nil, errors.New("no channel memory at descriptor 3")
	}
	reg, err := openChannelMemory(mem)
	mem.Close() // the mapping stays
	if err != nil {
		return nil, nil, err
	}
	stdin, err := pollableFile(os.Stdin)
	if err != nil {
		return nil, nil, err
	}
	stdout, err := pollableFile(os.Stdout)
	if err != nil {
		return nil, nil, err
	}
	w, err := newRingWriter(ringAt(reg, ringResults), stdout)
	if err != nil {
		return nil, nil, err
	}
	rr := newRingReader(ringAt(reg, ringCalls), stdin, workerSpin)
	rr.yield = politeYield()
	return rr, w, nil
}

// workerServer serves calls on long-lived goroutines: one of them at a time reads the next
// frame (holding rmu), hands the reading role on and runs the call itself. Reusing goroutines
// keeps their grown stacks (goja's interpreter needs deep ones: a fresh goroutine per call
// spent a tenth of the worker's CPU growing its stack), and running the call on the goroutine
// that read it saves a hand-off per call. A goroutine is added only when none is waiting to
// read, and one ends only when more than maxSpareReaders wait: a goroutine that ended after
// each burst of calls was replaced at the next by a new one, whose stack grew again by
// copying (at 44,000 calls a second, 8,500 new goroutines and 17,000 stack copies a second).
// There are thus at most (the most calls in flight at once)+1 of them, plus one per load under
// way; the stacks of those that wait shrink at each collection.
type workerServer struct {
	br    *bufio.Reader
	w     io.Writer
	wmu   sync.Mutex
	wbuf  []byte // result frame buffer, reused under wmu
	guard *MemoryGuard
	procs *procScaler
	rmu   sync.Mutex   // held by the goroutine reading the next frame
	eof   bool         // the input ended (under rmu)
	spare atomic.Int32 // goroutines waiting for rmu
	wg    sync.WaitGroup

	pmu      sync.Mutex
	programs map[uint64]*hostedProgram // by loadFrame.Program, under pmu
}

// hostedProgram is one program (a function version) a worker hosts.
type hostedProgram struct {
	f   *Function // InProcess
	l   *local    // f's backend
	kvs *kvsHolder
	// calls counts the calls read and not yet answered: an unload waits for them, so that a
	// call the parent sent before the unload is served, not refused by a closed pool. Only the
	// reader (holding rmu) adds to it, and an unload is read by the reader too.
	calls sync.WaitGroup
}

// send writes one JSON frame.
func (s *workerServer) send(typ byte, v any) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := writeFrame(s.w, typ, v); err != nil {
		os.Exit(3) // the parent is gone
	}
}

func (s *workerServer) loop() {
	for {
		s.spare.Add(1)
		s.rmu.Lock()
		s.spare.Add(-1)
		c, p, ok := s.next()
		if !ok {
			s.eof = true
			s.rmu.Unlock()
			return
		}
		if s.spare.Load() == 0 {
			s.wg.Go(s.loop) // the next reader while this goroutine runs the call
		}
		s.rmu.Unlock()
		s.serve(&c, p)
		if s.spare.Load() > maxSpareReaders {
			return // enough goroutines wait to read
		}
	}
}

// next reads frames until a call, handling the others on the way; ok is false once the input
// has ended. p is nil when the call names no loaded program.
func (s *workerServer) next() (c wireCall, p *hostedProgram, ok bool) {
	for !s.eof {
		typ, body, err := readFrame(s.br)
		if err != nil {
			return c, nil, false
		}
		switch typ {
		case frameKVS:
			s.receiveKVS(body)
		case frameLoad:
			s.load(body)
		case frameUnload:
			s.unload(body)
		case frameCall:
			if c, err = decodeCall(body); err == nil && c.Event != nil {
				p := s.program(c.Program)
				if p != nil {
					p.calls.Add(1) // done by serve
				}
				return c, p, true
			}
		}
	}
	return c, nil, false
}

func (s *workerServer) program(id uint64) *hostedProgram {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	return s.programs[id]
}

// load compiles a program on its own goroutine, so that a slow module (its top-level code
// runs for up to InitTimeout) does not hold up the calls of the programs already loaded, and
// answers with a loadReply. A malformed frame is dropped (the parent never sends one).
func (s *workerServer) load(body []byte) {
	var lf loadFrame
	if json.Unmarshal(body, &lf) != nil {
		return
	}
	s.procs.begin()
	s.wg.Go(func() {
		defer s.procs.end()
		o := lf.Options.options()
		o.Isolation = InProcess
		o.MemoryGuard = s.guard
		kv := lf.CloudFront.apply(&o)
		f, err := New(o)
		if err != nil {
			rp := loadReply{ID: lf.ID, Error: err.Error()}
			if se := (*SyntaxError)(nil); errors.As(err, &se) {
				rp.Syntax = se
			}
			s.send(frameLoaded, rp)
			return
		}
		s.pmu.Lock()
		old := s.programs[lf.Program]
		s.programs[lf.Program] = &hostedProgram{f: f, l: f.backend.(*local), kvs: kv}
		s.pmu.Unlock()
		if old != nil {
			old.f.Close() // the parent reuses no id; be safe if it ever did
		}
		s.send(frameLoaded, loadReply{ID: lf.ID})
	})
}

// unload drops a program once the calls already read for it have been served.
func (s *workerServer) unload(body []byte) {
	var u unloadFrame
	if json.Unmarshal(body, &u) != nil {
		return
	}
	s.pmu.Lock()
	p := s.programs[u.Program]
	delete(s.programs, u.Program)
	s.pmu.Unlock()
	if p != nil {
		s.procs.begin()
		s.wg.Go(func() {
			defer s.procs.end()
			p.calls.Wait()
			p.f.Close()
		})
	}
}

// receiveKVS installs a frameKVS body in its program. A malformed one, or one for a program
// not loaded, is dropped (the parent never sends one).
func (s *workerServer) receiveKVS(body []byte) {
	var m wireKVS
	if json.Unmarshal(body, &m) != nil || m.Store == nil {
		return
	}
	if p := s.program(m.Program); p != nil {
		p.kvs.snap.Store(m.Store)
	}
}

// maxSpareReaders is how many serving goroutines may wait for the next call.
const maxSpareReaders = 64

// serve runs one call of program p and writes its result. The call's deadline is enforced by
// the invocation's own timer (and the parent's watchdog), so no context is needed.
func (s *workerServer) serve(c *wireCall, p *hostedProgram) {
	s.procs.begin()
	defer s.procs.end()
	var out outcome
	var cold bool
	var inUse, idle int
	if p == nil {
		out = outcome{err: hooks.Errorf(hooks.Execution, "%s: program %d is not loaded in this worker", c.Event.Stage, c.Program)}
	} else {
		lim := p.f.opts.Limits.WithDefaults(p.f.opts.dialect(), c.Event.Stage)
		cl := &call{ev: c.Event, lim: lim, deadline: time.Unix(0, c.Deadline), requestID: c.RequestID, wantJSON: c.WantJSON}
		var v *vm
		var err error
		if v, cold, err = p.l.pool.get(); err != nil {
			out = outcome{err: err}
		} else {
			out = v.invoke(context.Background(), cl)
			p.l.pool.put(v, out.discard)
		}
		inUse, idle = p.l.pool.stats()
		p.calls.Done()
	}
	res := wireResult{ID: c.ID, Result: out.result, Output: string(out.output), Logs: out.logs, Cold: cold, InUse: inUse, Idle: idle}
	if out.err != nil {
		res.HasErr, res.ErrKind, res.ErrMsg = true, hooks.KindOf(out.err), unwrapMsg(out.err)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	var err2 error
	if s.wbuf, err2 = appendBinaryFrame(s.wbuf[:0], frameResult, func(e *wenc) { e.result(&res) }); err2 == nil {
		_, err2 = s.w.Write(s.wbuf)
	}
	if err2 != nil {
		os.Exit(3) // the parent is gone
	}
	if cap(s.wbuf) > maxKeptFrameBuffer {
		s.wbuf = nil
	}
}

func unwrapMsg(err error) string {
	var he *hooks.Error
	if errors.As(err, &he) {
		return he.Err.Error()
	}
	return err.Error()
}

// restMinGarbage is the least a worker must have allocated since its last rest for the
// next to run: a function called about once a restAfter would otherwise pay a full collection
// before each call for a few kilobytes of garbage (bench/README.md, the workers' rest).
const restMinGarbage = 1 << 20

// restHeap returns the worker's rest (procScaler): a collection that gives the free heap back
// to the OS, when at least restMinGarbage was allocated since the last one.
func restHeap() func() {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	var last uint64
	return func() {
		metrics.Read(sample)
		if now := sample[0].Value.Uint64(); now-last >= restMinGarbage {
			debug.FreeOSMemory()
			last = now
		}
	}
}

// workerGCPercent is a worker's GOGC (see applyLimits).
const workerGCPercent = 400

// guardLimit is the heap size at which a worker's MemoryGuard trips: a quarter of its
// address-space headroom (WorkerOptions.MemoryMB).
func guardLimit(in workerInit) int64 { return int64(in.MemoryMB) << 18 }

// applyLimits bounds this process: the address space to its size at start-up plus MemoryMB
// (Go reserves address space up front, so an absolute RLIMIT_AS would be fragile), the Go
// heap target to GoMemLimit, and goroutine stacks to 256 MiB so runaway native recursion dies
// quickly instead of paging.
func applyLimits(in workerInit) {
	if in.GoMemLimit > 0 {
		debug.SetMemoryLimit(in.GoMemLimit)
		// A worker's live heap is a few warm runtimes, small enough that the default GOGC
		// collects every few hundred calls and costs a third of each (BenchmarkWarmInvokeProcess:
		// 23.7 µs at GOGC 100, 17 at 400). The memory limit bounds the garbage this lets pile
		// up, so the higher setting is taken only when that limit is under the memory guard's
		// (which counts garbage not yet swept) and the environment does not set GOGC.
		if os.Getenv("GOGC") == "" && in.GoMemLimit <= guardLimit(in) {
			debug.SetGCPercent(workerGCPercent)
		}
	}
	debug.SetMaxStack(256 << 20)
	if in.MemoryMB > 0 {
		if vsz := addressSpace(); vsz > 0 {
			lim := uint64(vsz) + uint64(in.MemoryMB)<<20
			_ = syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: lim, Max: lim})
		}
	}
}

// addressSpace returns this process's virtual size in bytes from /proc/self/statm (Linux).
func addressSpace() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var pages int64
	if _, err := fmt.Sscan(string(b), &pages); err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}
