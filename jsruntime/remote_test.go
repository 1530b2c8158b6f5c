package jsruntime

import (
	"context"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/vergecdn/verge/hooks"
)

func newProcessFn(t *testing.T, src string) *Function {
	t.Helper()
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	f, err := New(Options{Name: "remote", Code: SingleFile(src), Isolation: Process, MaxConcurrency: 16,
		Limits: hooks.Limits{Timeout: 5 * time.Second},
		Worker: WorkerOptions{Command: []string{os.Args[0]}, Env: []string{WorkerEnv + "=1"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestProcessConcurrentResults: concurrent invocations on one worker, finishing out of order,
// each get their own result whichever caller happens to read the pipe.
func TestProcessConcurrentResults(t *testing.T) {
	f := newProcessFn(t, `exports.handler = async (e) => {
  const r = e.Records[0].cf.request;
  await new Promise((ok) => setTimeout(ok, Number(r.querystring) % 7));
  return r;
}`)
	ev := seedEvent(t, hooks.ViewerRequest)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 15 {
				e := *ev
				e.Request = ev.Request.Clone()
				e.Request.QueryString = strconv.Itoa(g*100 + i)
				res, err := f.Invoke(context.Background(), &e)
				if err != nil {
					t.Error(err)
					return
				}
				if res.Request == nil || res.Request.QueryString != e.Request.QueryString {
					t.Errorf("call %s got %+v", e.Request.QueryString, res.Request)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestProcessCancelAndIdleDeath: a cancelled invocation returns at once and the worker keeps
// serving (its late result is dropped); a worker that dies between invocations is replaced
// without failing the next one.
func TestProcessCancelAndIdleDeath(t *testing.T) {
	f := newProcessFn(t, `exports.handler = async (e) => {
  const r = e.Records[0].cf.request;
  if (r.uri === '/slow') await new Promise((ok) => setTimeout(ok, 300));
  return r;
}`)
	ev := seedEvent(t, hooks.ViewerRequest)
	slow := *ev
	slow.Request = ev.Request.Clone()
	slow.Request.URI = "/slow"
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel)
	start := time.Now()
	if _, err := f.Invoke(ctx, &slow); hooks.KindOf(err) != hooks.Execution {
		t.Fatalf("cancelled: %v", err)
	}
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Fatalf("cancel took %v", d)
	}
	for range 3 {
		if _, err := f.Invoke(context.Background(), ev); err != nil {
			t.Fatalf("after cancel: %v", err)
		}
	}
	time.Sleep(350 * time.Millisecond) // the cancelled call's result is now in the pipe
	if _, err := f.Invoke(context.Background(), ev); err != nil {
		t.Fatalf("after the late result: %v", err)
	}

	r := f.backend.(*remote)
	w := r.h.current()
	_ = w.cmd.Process.Kill()
	time.Sleep(100 * time.Millisecond) // dead, and nobody is reading its pipe
	if res, err := f.Invoke(context.Background(), ev); err != nil || res.Request == nil {
		t.Fatalf("after an idle death: %+v, %v", res, err)
	}
	<-w.done // the dead worker was reaped
}

// TestProcessRestartHoldsNoLock: while a worker restarts and loads the function again (its
// module's top-level code takes a second), a caller with a 100 ms deadline gets its answer by then, and Stats answers at once:
// nobody queues behind the start.
func TestProcessRestartHoldsNoLock(t *testing.T) {
	f := newProcessFn(t, `const t = Date.now(); while (Date.now() - t < 1000) {}
exports.handler = async (e) => e.Records[0].cf.request`)
	r := f.backend.(*remote)
	w := r.h.current()
	w.kill("test")
	<-w.done
	ev := seedEvent(t, hooks.ViewerRequest)
	go f.Invoke(context.Background(), ev) // starts the new worker
	for {
		r.mu.Lock()
		ld := r.loading
		r.mu.Unlock()
		if ld != nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := f.Invoke(ctx, ev)
	f.Stats()
	if d := time.Since(start); err == nil || d > 500*time.Millisecond {
		t.Fatalf("a caller during the restart waited %v (err %v)", d, err)
	}
	if _, err := f.Invoke(context.Background(), ev); err != nil {
		t.Fatalf("after the restart: %v", err)
	}
}
