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
	"sync"
	"syscall"
	"time"

	"github.com/vergecdn/verge/hooks"
)

// ServeWorker is the body of the hidden `verge worker` verb: it reads the function to host
// from r, applies its OS limits to this process (RLIMIT_AS, GOMEMLIMIT, a smaller Go stack),
// then serves calls concurrently until r closes. It returns the process exit code. Nothing
// but protocol frames may be written to w.
func ServeWorker(r io.Reader, w io.Writer) int {
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
	var wmu sync.Mutex
	send := func(typ byte, v any) {
		wmu.Lock()
		defer wmu.Unlock()
		if err := writeFrame(w, typ, v); err != nil {
			os.Exit(3) // the parent is gone
		}
	}
	sendResult := func(r *wireResult) {
		wmu.Lock()
		defer wmu.Unlock()
		if err := writeBinaryFrame(w, frameResult, func(e *wenc) { e.result(r) }); err != nil {
			os.Exit(3)
		}
	}
	o := in.Options.options()
	o.Isolation = InProcess
	if in.MemoryMB > 0 {
		// Stop runaway allocation at a quarter of the address-space headroom, before RLIMIT_AS
		// turns it into a fatal error that takes the whole worker down.
		g := NewMemoryGuard(uint64(in.MemoryMB)<<18, 0)
		defer g.Close()
		o.MemoryGuard = g
	}
	f, err := New(o)
	if err != nil {
		send(frameInitReply, initReply{Error: err.Error()})
		return 1
	}
	defer f.Close()
	send(frameInitReply, initReply{})
	l := f.backend.(*local)
	var wg sync.WaitGroup
	for {
		typ, body, err := readFrame(br)
		if err != nil {
			break
		}
		if typ != frameCall {
			continue
		}
		c, err := decodeCall(body)
		if err != nil || c.Event == nil {
			continue
		}
		wg.Go(func() {
			ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, c.Deadline))
			defer cancel()
			lim := o.Limits.WithDefaults(c.Event.Stage)
			cl := &call{ev: c.Event, lim: lim, deadline: time.Unix(0, c.Deadline), requestID: c.RequestID, wantJSON: c.WantJSON}
			v, cold, err := l.pool.get()
			var out outcome
			if err != nil {
				out = outcome{err: err}
			} else {
				out = v.invoke(ctx, cl)
				l.pool.put(v, out.discard)
			}
			res := wireResult{ID: c.ID, Result: out.result, Output: string(out.output), Logs: out.logs, Cold: cold}
			if out.err != nil {
				res.HasErr, res.ErrKind, res.ErrMsg = true, hooks.KindOf(out.err), unwrapMsg(out.err)
			}
			res.InUse, res.Idle = l.pool.stats()
			sendResult(&res)
		})
	}
	wg.Wait()
	return 0
}

func unwrapMsg(err error) string {
	var he *hooks.Error
	if errors.As(err, &he) {
		return he.Err.Error()
	}
	return err.Error()
}

// applyLimits bounds this process: the address space to its size at start-up plus MemoryMB
// (Go reserves address space up front, so an absolute RLIMIT_AS would be fragile), the Go
// heap target to GoMemLimit, and goroutine stacks to 256 MiB so runaway native recursion dies
// quickly instead of paging.
func applyLimits(in workerInit) {
	if in.GoMemLimit > 0 {
		debug.SetMemoryLimit(in.GoMemLimit)
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
