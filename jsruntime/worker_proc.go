package jsruntime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vergecdn/verge/kvs"
)

// workerProc is one worker process. There is no reader goroutine: a caller waiting for its
// result takes the reading role (rtok) and reads frames itself, handing results for other
// calls to their channels, until its own arrives; then it passes the role on. A result thus
// reaches its caller without a goroutine hand-off in the common case (one call in flight),
// which on a loaded 2-core box cost more than a round trip between the two processes.
type workerProc struct {
	started time.Time
	cmd     *exec.Cmd
	bell    *os.File    // the worker's stdin: its doorbell; closing it ends the worker's input
	out     *ringWriter // frames to the worker (shmring.go), under wmu; each write sets its until
	stdout  *os.File    // the node's doorbell, pollable: read deadlines bound a reading caller's wait
	wmu     sync.Mutex
	wbuf    []byte        // call frame buffer, reused under wmu
	rtok    chan struct{} // the reading role: holds a token while nobody reads
	fr      frameReader   // used by the holder of rtok only
	done    chan struct{} // closed once the process has ended and been reaped

	mu      sync.Mutex
	pending map[uint64]chan wireResult
	dead    bool
	pins    int  // callers about to register a call or load (pin), which retire waits for
	ended   bool // the output reached its end and the process was reaped
	why     string
	stderr  tailBuffer
	sandbox string // what the worker's sandbox reported (see sandbox)

	// nextID numbers calls and loads: one id space per process, whichever program they are for.
	nextID atomic.Uint64
	// kvsSent is, by program, the store snapshot last sent (syncKVS, cff_wire.go), under wmu.
	kvsSent map[uint64]*kvs.Snapshot
}

// workerSpin is how long either end of a worker's channel polls for the next frame before it
// parks (see ringReader): about one warm invocation and its codec, so that a reply on an idle
// node is caught without a wake-up. The worker polls after each call for the next one, too.
const workerSpin = 50 * time.Microsecond

// errLoadDied is the error of a load whose worker died before answering it: with the
// protocol intact, what kills a worker there is most likely the code it was compiling.
var errLoadDied = errors.New("the code nests too deeply or exhausts the worker's limits while compiling")

// workerStartTimeout bounds a worker's start (exec, limits, sandbox, init reply), which runs
// no function code.
const workerStartTimeout = 10 * time.Second

// startWorker starts a worker process with o's process-level settings (see hostKey) and waits
// until its limits and sandbox are in place. It hosts no program yet (see load).
func startWorker(o Options) (*workerProc, error) {
	argv := o.Worker.Command
	if len(argv) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("jsruntime: worker: %w", err)
		}
		argv = []string{exe, "worker"}
	}
	if err := keepDescriptorsFromWorkers(); err != nil {
		return nil, fmt.Errorf("jsruntime: worker: keeping the node's descriptors from it: %w", err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = workerEnv(o)
	cmd.SysProcAttr = workerSysProcAttr()
	w := &workerProc{started: time.Now(), cmd: cmd, pending: map[uint64]chan wireResult{}, done: make(chan struct{}),
		rtok: make(chan struct{}, 1), kvsSent: map[uint64]*kvs.Snapshot{}}
	w.stderr.max = 4 << 10
	cmd.Stderr = &w.stderr
	shared, reg, err := newChannelMemory()
	if err != nil {
		return nil, err
	}
	defer shared.Close() // the worker has its own descriptor once started
	cmd.ExtraFiles = []*os.File{shared}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("jsruntime: worker: %w", err)
	}
	defer inR.Close()
	cmd.Stdin = inR
	w.bell = inW
	if w.out, err = newRingWriter(ringAt(reg, ringCalls), inW); err != nil {
		inW.Close()
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inW.Close()
		return nil, fmt.Errorf("jsruntime: worker: %w", err)
	}
	defer outW.Close()
	cmd.Stdout = outW
	w.stdout = outR
	w.fr.r = newRingReader(ringAt(reg, ringResults), outR, workerSpin)
	if err := cmd.Start(); err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("jsruntime: worker: %w", err)
	}
	mem := o.Limits.MemoryMB
	if mem <= 0 {
		mem = 128
	}
	fail := func(err error) (*workerProc, error) {
		_ = cmd.Process.Kill()
		_ = inW.Close()
		_ = outR.Close()
		_ = cmd.Wait()
		return nil, fmt.Errorf("jsruntime: worker: %w%s", err, w.stderr.suffix())
	}
	if err := w.send(frameInit, workerInit{MemoryMB: o.Worker.MemoryMB, GoMemLimit: int64(mem) << 20, MaxProcs: runtime.GOMAXPROCS(0)}); err != nil {
		return fail(err)
	}
	_ = w.stdout.SetReadDeadline(time.Now().Add(workerStartTimeout))
	typ, body, err := w.fr.next()
	_ = w.stdout.SetReadDeadline(time.Time{})
	if err != nil || typ != frameInitReply {
		return fail(fmt.Errorf("no answer to the init frame (%v)", err))
	}
	var ir initReply
	if err := json.Unmarshal(body, &ir); err != nil {
		return fail(err)
	}
	w.sandbox = ir.Sandbox
	o.Logger.Debug("worker started", "function", o.Name, "pid", cmd.Process.Pid, "sandbox", ir.Sandbox)
	w.rtok <- struct{}{}
	return w, nil
}

// load compiles program in the worker with o (the function's code and limits) and warms its
// pool, waiting for the answer up to o.InitTimeout plus Grace: past that the worker is stuck
// where Interrupt cannot reach (the parser, native code) and is killed. A syntax error is
// returned as a *SyntaxError.
func (w *workerProc) load(program uint64, o Options) error {
	id, ch := w.register()
	if ch == nil {
		return fmt.Errorf("jsruntime: worker: the worker process exited: %s", w.reason())
	}
	defer w.unregister(id)
	lf := loadFrame{ID: id, Program: program, Options: toWire(o), CloudFront: cloudFrontInit(o)}
	until := time.Now().Add(o.InitTimeout + o.Worker.Grace)
	w.wmu.Lock()
	delete(w.kvsSent, program) // a program loaded again (after a lost race) gets its store again
	w.out.until = until
	err := writeFrame(w.out, frameLoad, lf)
	w.wmu.Unlock()
	if err != nil {
		w.kill("write failed: " + err.Error())
		return fmt.Errorf("jsruntime: worker: %w", err)
	}
	res, st := w.await(context.Background(), id, ch, time.Time{}, until)
	switch {
	case st == awaitWatchdog:
		w.kill("watchdog: loading a program overran InitTimeout")
		return fmt.Errorf("jsruntime: worker: compiling and loading the code took longer than %v", o.InitTimeout)
	case st != awaitResult || res.Load == nil:
		// In a shared worker the death may be another program's doing: say what ended it.
		return fmt.Errorf("jsruntime: worker: %w (the worker: %s)", errLoadDied, w.reason())
	case res.Load.Syntax != nil:
		return res.Load.Syntax
	case res.Load.Error != "":
		// New in the worker prefixed what New here prefixes again.
		return errors.New(strings.TrimPrefix(res.Load.Error, fmt.Sprintf("jsruntime: %s:%s: ", o.Name, o.Version)))
	}
	o.Logger.Debug("function loaded in its worker", "function", o.Name, "version", o.Version, "pid", w.cmd.Process.Pid, "program", program)
	return nil
}

// unload drops program from the worker; its calls in flight still get their results. A
// worker that is gone has nothing to drop.
func (w *workerProc) unload(program uint64) {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	delete(w.kvsSent, program)
	w.out.until = time.Now().Add(workerStartTimeout)
	if err := writeFrame(w.out, frameUnload, unloadFrame{Program: program}); err != nil {
		w.kill("write failed: " + err.Error())
	}
}

// register allocates the id of a call or load and the channel its reply arrives on; ch is nil
// when the process is dead.
func (w *workerProc) register() (id uint64, ch chan wireResult) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.registerLocked()
}

func (w *workerProc) registerLocked() (id uint64, ch chan wireResult) {
	id = w.nextID.Add(1)
	if w.dead {
		return id, nil
	}
	ch = make(chan wireResult, 1)
	w.pending[id] = ch
	return id, ch
}

// claim is register for a caller that pinned w, whose pin it drops in the same step: once
// registered, the call keeps w from being retired.
func (w *workerProc) claim() (id uint64, ch chan wireResult) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pins--
	return w.registerLocked()
}

func (w *workerProc) unregister(id uint64) {
	w.mu.Lock()
	delete(w.pending, id)
	w.mu.Unlock()
}

func (w *workerProc) send(typ byte, v any) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	w.out.until = time.Now().Add(workerStartTimeout)
	return writeFrame(w.out, typ, v)
}

// sendCall writes c, preceded by its program's store if that changed (syncKVS), and returns
// the position in the calls ring where the call ends (see took). A worker that takes nothing
// from a full ring until until (the watchdog's deadline) fails it with errRingStalled.
func (w *workerProc) sendCall(c *wireCall, store *KeyValueStore, until time.Time) (end uint64, err error) {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	w.out.until = until
	if err := w.syncKVS(c.Program, store); err != nil {
		return 0, err
	}
	b, err := appendBinaryFrame(w.wbuf[:0], frameCall, func(e *wenc) { e.call(c) })
	if err != nil {
		return 0, err
	}
	if cap(b) <= maxKeptFrameBuffer {
		w.wbuf = b
	}
	_, err = w.out.Write(b)
	return w.out.r.pos, err
}

// took reports whether the worker read the calls ring up to end, as it says. Asked once the
// worker is gone, the answer is final.
func (w *workerProc) took(end uint64) bool { return w.out.r.tail.Load() >= end }

// exited reports, without blocking, whether the process has ended (its doorbell to the node
// hung up): a spare found so after idling is not handed out. A byte on the doorbell is no
// sign: a wake-up the node did not wait for may be left there.
func (w *workerProc) exited() bool {
	rc, err := w.stdout.SyscallConn()
	if err != nil {
		return true
	}
	rev, err := pollNow(rc, unix.POLLIN)
	return err != nil || rev&(unix.POLLHUP|unix.POLLERR) != 0
}

func (w *workerProc) isDead() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dead
}

// pin keeps the worker from being retired until unpin, and reports whether it is alive: a
// caller pins the worker it is about to register a call or load on.
func (w *workerProc) pin() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.dead {
		return false
	}
	w.pins++
	return true
}

func (w *workerProc) unpin() {
	w.mu.Lock()
	w.pins--
	w.mu.Unlock()
}

// retire marks the worker dead, so that no call or load is registered on it any more, if
// nothing is registered or pinned now and idle says so, and reports whether it did. idle runs
// under the worker's lock, after the registrations are looked at: a call notes its end before
// it unregisters, under that lock, so idle sees the end of any call the check did not see in
// flight. The caller then stops the worker.
func (w *workerProc) retire(why string, idle func() bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.dead || len(w.pending) > 0 || w.pins > 0 || !idle() {
		return false
	}
	w.dead, w.why = true, why
	return true
}

func (w *workerProc) reason() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.why
}

// kill ends the process; the reader then fails the in-flight invocations.
func (w *workerProc) kill(why string) {
	w.mu.Lock()
	if w.why == "" {
		w.why = why
	}
	first := !w.dead
	w.dead = true // the next invocation starts a new worker at once
	w.mu.Unlock()
	_ = w.cmd.Process.Kill()
	if first {
		go w.drain(5 * time.Second) // reap it even if no caller reads any more
	}
}

// stop closes the worker's doorbell so that it drains its input and exits, killing it after a
// grace period.
func (w *workerProc) stop() {
	_ = w.bell.Close()
	w.drain(5 * time.Second)
	<-w.done
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

// ReadFrom reads a worker's stderr through a small buffer: without it, io.Copy (which exec
// runs for a Stderr that is not a file) holds 32 KiB per worker for output that rarely comes.
func (t *tailBuffer) ReadFrom(r io.Reader) (int64, error) {
	var buf [512]byte
	var n int64
	for {
		k, err := r.Read(buf[:])
		n += int64(k)
		_, _ = t.Write(buf[:k])
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
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
