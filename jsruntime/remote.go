package jsruntime

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vergecdn/verge/hooks"
)

// remote runs invocations in a worker process (Process isolation). One worker hosts one
// function version. A worker that dies, or that the watchdog kills because an invocation
// overran its timeout plus Grace, fails only its in-flight invocations (hooks.Execution or
// hooks.Timeout, so 503); the next invocation starts a new worker.
type remote struct {
	o      Options
	onCold func()

	mu     sync.Mutex
	w      *workerProc
	closed bool
	nextID atomic.Uint64
	idle   atomic.Int64 // the worker's idle runtimes, as last reported
}

func newRemote(o Options, onCold func()) (*remote, error) {
	if _, err := compile(o); err != nil { // fail fast on syntax errors, without a process
		return nil, err
	}
	r := &remote{o: o, onCold: onCold}
	if _, err := r.worker(); err != nil {
		return nil, err
	}
	return r, nil
}

// worker returns the live worker, starting one if needed.
func (r *remote) worker() (*workerProc, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, hooks.Errorf(hooks.Execution, "jsruntime: function %s:%s is closed", r.o.Name, r.o.Version)
	}
	if r.w != nil && !r.w.isDead() {
		return r.w, nil
	}
	w, err := startWorker(r.o)
	if err != nil {
		return nil, err
	}
	r.w = w
	return w, nil
}

func (r *remote) run(ctx context.Context, c *call) outcome {
	w, err := r.worker()
	if err != nil {
		return outcome{err: hooks.Errorf(hooks.Execution, "jsruntime: starting a worker: %v", err)}
	}
	id := r.nextID.Add(1)
	ch := w.register(id)
	if ch == nil {
		return outcome{err: hooks.Errorf(hooks.Execution, "%s: the worker process exited: %s", c.ev.Stage, w.reason())}
	}
	defer w.unregister(id)
	if err := w.send(frameCall, wireCall{ID: id, Event: c.ev, Deadline: c.deadline.UnixNano(), RequestID: c.requestID, WantJSON: c.wantJSON}); err != nil {
		w.kill("write failed: " + err.Error())
		return outcome{err: hooks.Errorf(hooks.Execution, "%s: the worker process is gone: %v", c.ev.Stage, err)}
	}
	watchdog := time.NewTimer(time.Until(c.deadline) + r.o.Worker.Grace)
	defer watchdog.Stop()
	select {
	case res, ok := <-ch:
		if !ok {
			return outcome{err: hooks.Errorf(hooks.Execution, "%s: the worker process exited: %s", c.ev.Stage, w.reason())}
		}
		if res.Cold && r.onCold != nil {
			r.onCold()
		}
		r.idle.Store(int64(res.Idle))
		return res.outcome()
	case <-watchdog.C:
		w.kill("watchdog: an invocation overran its timeout")
		return outcome{err: timeoutError(c)}
	case <-ctx.Done():
		return outcome{err: cancelError(ctx, c)}
	}
}

func (r *remote) stats() (int, int) {
	r.mu.Lock()
	w := r.w
	r.mu.Unlock()
	if w == nil {
		return 0, 0
	}
	return w.inFlight(), int(r.idle.Load())
}

func (r *remote) close() {
	r.mu.Lock()
	r.closed = true
	w := r.w
	r.mu.Unlock()
	if w != nil {
		w.stop()
	}
}

// workerProc is one worker process and its reader.
type workerProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	wmu   sync.Mutex
	done  chan struct{} // closed when the reader has seen the process end

	mu      sync.Mutex
	pending map[uint64]chan wireResult
	dead    bool
	why     string
	stderr  tailBuffer
}

func startWorker(o Options) (*workerProc, error) {
	argv := o.Worker.Command
	if len(argv) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("jsruntime: worker: %w", err)
		}
		argv = []string{exe, "worker"}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), o.Worker.Env...)
	w := &workerProc{cmd: cmd, pending: map[uint64]chan wireResult{}, done: make(chan struct{})}
	w.stderr.max = 4 << 10
	cmd.Stderr = &w.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("jsruntime: worker: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("jsruntime: worker: %w", err)
	}
	w.stdin = stdin
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("jsruntime: worker: %w", err)
	}
	mem := o.Limits.MemoryMB
	if mem <= 0 {
		mem = 128
	}
	init := workerInit{Options: toWire(o), MemoryMB: o.Worker.MemoryMB, GoMemLimit: int64(mem) << 20}
	br := bufio.NewReaderSize(stdout, 64<<10)
	fail := func(err error) (*workerProc, error) {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("jsruntime: worker: %w%s", err, w.stderr.suffix())
	}
	if err := w.send(frameInit, init); err != nil {
		return fail(err)
	}
	type reply struct {
		typ  byte
		body []byte
		err  error
	}
	got := make(chan reply, 1)
	go func() {
		typ, body, err := readFrame(br)
		got <- reply{typ, body, err}
	}()
	select {
	case rp := <-got:
		if rp.err != nil || rp.typ != frameInitReply {
			return fail(fmt.Errorf("no init reply: %v", rp.err))
		}
		var ir initReply
		if err := json.Unmarshal(rp.body, &ir); err != nil {
			return fail(err)
		}
		if ir.Error != "" {
			_ = cmd.Wait()
			return nil, fmt.Errorf("%s", strings.TrimPrefix(ir.Error, "jsruntime: "))
		}
	case <-time.After(o.InitTimeout + 5*time.Second):
		_ = cmd.Process.Kill()
		<-got
		return fail(fmt.Errorf("init timed out"))
	}
	go w.read(br)
	return w, nil
}

// read delivers results until the process ends, then fails everything in flight.
func (w *workerProc) read(br *bufio.Reader) {
	for {
		typ, body, err := readFrame(br)
		if err != nil {
			break
		}
		if typ != frameResult {
			continue
		}
		var res wireResult
		if json.Unmarshal(body, &res) != nil {
			continue
		}
		w.mu.Lock()
		ch := w.pending[res.ID]
		delete(w.pending, res.ID)
		w.mu.Unlock()
		if ch != nil {
			ch <- res
		}
	}
	err := w.cmd.Wait()
	w.mu.Lock()
	w.dead = true
	if w.why == "" {
		w.why = fmt.Sprintf("%v%s", err, w.stderr.suffix())
	}
	for id, ch := range w.pending {
		close(ch)
		delete(w.pending, id)
	}
	w.mu.Unlock()
	close(w.done)
}

func (w *workerProc) register(id uint64) chan wireResult {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.dead {
		return nil
	}
	ch := make(chan wireResult, 1)
	w.pending[id] = ch
	return ch
}

func (w *workerProc) unregister(id uint64) {
	w.mu.Lock()
	delete(w.pending, id)
	w.mu.Unlock()
}

func (w *workerProc) send(typ byte, v any) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	return writeFrame(w.stdin, typ, v)
}

func (w *workerProc) isDead() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dead
}

func (w *workerProc) reason() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.why
}

func (w *workerProc) inFlight() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pending)
}

// kill ends the process; the reader then fails the in-flight invocations.
func (w *workerProc) kill(why string) {
	w.mu.Lock()
	if w.why == "" {
		w.why = why
	}
	w.dead = true // the next invocation starts a new worker at once
	w.mu.Unlock()
	_ = w.cmd.Process.Kill()
}

// stop closes stdin so the worker drains and exits, killing it after a grace period.
func (w *workerProc) stop() {
	_ = w.stdin.Close()
	select {
	case <-w.done:
	case <-time.After(5 * time.Second):
		w.kill("stopped")
		<-w.done
	}
}

// tailBuffer keeps the first max bytes written to a worker's stderr: a Go fatal error's
// message comes first, its goroutine dump after.
type tailBuffer struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := t.max - len(t.b); room > 0 {
		t.b = append(t.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// suffix returns the first line of a Go fatal error found in the tail, as ": <line>".
func (t *tailBuffer) suffix() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := string(t.b)
	for _, marker := range []string{"fatal error:", "runtime: out of memory", "goroutine stack exceeds", "panic:"} {
		if i := strings.Index(s, marker); i >= 0 {
			line, _, _ := strings.Cut(s[i:], "\n")
			return ": " + line
		}
	}
	return ""
}
