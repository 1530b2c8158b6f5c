package hostile

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/jsruntime"
	"go.uber.org/goleak"
)

// TestMain doubles as the worker process: the tests start this binary again with
// jsruntime.WorkerEnv=1 as the worker command.
func TestMain(m *testing.M) {
	if jsruntime.IsWorkerProcess() {
		os.Exit(jsruntime.WorkerMainForTest())
	}
	goleak.VerifyTestMain(m)
}

func event(t testing.TB, stage string) *hooks.Event {
	t.Helper()
	b, err := os.ReadFile("../testdata/events/lambda-edge-" + stage + ".json")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := jsruntime.ParseEvent(b, "")
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func processFn(t testing.TB, name, src string, timeout time.Duration) *jsruntime.Function {
	t.Helper()
	f, err := jsruntime.New(jsruntime.Options{
		Name: name, Code: jsruntime.SingleFile(src), Isolation: jsruntime.Process,
		Limits: hooks.Limits{Timeout: timeout, MemoryMB: 128},
		Worker: jsruntime.WorkerOptions{
			Command: []string{os.Args[0]}, Env: []string{jsruntime.WorkerEnv + "=1"},
			MemoryMB: 512, Grace: 500 * time.Millisecond,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

const healthy = `exports.handler = async (e) => { const r = e.Records[0].cf.response; r.headers['x-ok'] = [{value: '1'}]; return r }`

// TestHostile runs each hostile function and checks the viewer status it produces, that it
// produces it within a generous bound, that the same function serves again afterwards (a
// fresh runtime or worker), and that a healthy function beside it keeps serving throughout.
func TestHostile(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		status int    // the viewer status: 502 validation, 503 everything else
		msg    string // if set, what the error must say
	}{
		{"while true", `exports.handler = async () => { while (true) {} }`, 503, ""},
		{"while true in try/catch", `exports.handler = async () => { for (;;) { try { while (true) {} } catch (e) {} finally { continue } } }`, 503, ""},
		{"x.repeat(2**33)", `exports.handler = async () => 'x'.repeat(2 ** 33)`, 503, ""},
		{"string doubling", `exports.handler = async () => { let s = 'x'; for (;;) s += s }`, 503, ""},
		{"one huge buffer", `exports.handler = async () => new Uint8Array(2 ** 31 - 1).length`, 503, ""},
		{"unbounded array", `exports.handler = async () => { const a = []; for (;;) a.push(new Array(1e5).fill(a.length)) }`, 503, ""},
		{"deep JSON.parse", `exports.handler = async () => JSON.parse('['.repeat(3e6))`, 503, ""},
		// Code compiled at run time escapes the upload's nesting cap: it ends only its worker.
		{"deeply nested eval", `exports.handler = async () => eval('['.repeat(3e6))`, 503, "worker process exited"},
		{"deeply nested new Function", `exports.handler = async () => new Function('return ' + '('.repeat(3e6))()`, 503, "worker process exited"},
		{"deep JSON.stringify", `exports.handler = async () => { let o = {}; for (let i = 0; i < 1e5; i++) o = {o}; return JSON.stringify(o) }`, 503, ""},
		{"infinite recursion", `const f = (n) => f(n + 1) + 1; exports.handler = async () => f(0)`, 503, ""},
		{"catastrophic regex loop", `exports.handler = async () => { const s = 'a'.repeat(40) + 'b'; for (;;) /^(a+)+$/.test(s) }`, 503, ""},
		{"never settles", `exports.handler = () => new Promise(() => {})`, 502, ""},
		{"never settles with a timer", `exports.handler = () => new Promise(() => setInterval(() => {}, 10))`, 503, ""},
		{"huge response", `exports.handler = async () => ({ status: '200', body: 'x'.repeat(1 << 20) })`, 502, ""},
		{"tampering", `exports.handler = async (e) => { Object.prototype.status = '999'; Array.prototype.map = null; JSON.stringify = () => '{}'; return null }`, 502, ""},
	}
	good := processFn(t, "good", healthy, 2*time.Second)
	goodEv := event(t, "viewer-response")
	var stopGood = make(chan struct{})
	var goodErrs sync.Map
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stopGood:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if _, err := good.Invoke(context.Background(), goodEv); err != nil {
				goodErrs.Store(err.Error(), true)
			}
		}
	})
	ev := event(t, "viewer-request")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := processFn(t, "hostile", tt.src, time.Second)
			for round := range 2 { // the second round proves the function recovered
				start := time.Now()
				res, err := f.Invoke(context.Background(), ev)
				if err == nil {
					lim := hooks.DefaultLimits(hooks.LambdaEdge, ev.Stage)
					err = hooks.Validate(hooks.LambdaEdge, ev, res, lim)
				}
				if err == nil {
					t.Fatalf("round %d: no error", round)
				}
				if got := hooks.KindOf(err).Status(); got != tt.status {
					t.Errorf("round %d: status %d, want %d (%v)", round, got, tt.status, err)
				}
				if !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("round %d: %v, want it to say %q", round, err, tt.msg)
				}
				if d := time.Since(start); d > 30*time.Second {
					t.Errorf("round %d: took %v", round, d)
				}
				t.Logf("round %d: %v in %v", round, err, time.Since(start).Round(time.Millisecond))
			}
		})
	}
	close(stopGood)
	wg.Wait()
	goodErrs.Range(func(k, _ any) bool {
		t.Errorf("the healthy function failed: %v", k)
		return true
	})
	if res, err := good.Invoke(context.Background(), goodEv); err != nil || res.Response.Headers.Get("x-ok") != "1" {
		t.Fatalf("healthy function after the hostile ones: %v", err)
	}
}

// TestDeepSource: a package that would overflow the parser is refused at upload.
func TestDeepSource(t *testing.T) {
	_, err := jsruntime.New(jsruntime.Options{Code: jsruntime.SingleFile("x = " + strings.Repeat("[", 2_000_000)),
		MaxSourceBytes: 4 << 20})
	if err == nil || !strings.Contains(err.Error(), "nests") {
		t.Fatalf("got %v", err)
	}
}

// TestWorkerCrashFailsOnlyInFlight kills a worker under load: the invocations it was running
// fail with 503, and the function serves again on a new worker.
func TestWorkerCrashFailsOnlyInFlight(t *testing.T) {
	f := processFn(t, "crash", `exports.handler = async (e) => {
  if (e.Records[0].cf.request.uri === '/crash') return new ArrayBuffer(1.5 * 2 ** 30).byteLength;
  await new Promise((r) => setTimeout(r, 100));
  return e.Records[0].cf.request;
}`, 5*time.Second)
	ev := event(t, "viewer-request")
	crash := *ev
	crash.Request = ev.Request.Clone()
	crash.Request.URI = "/crash"
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if _, err := f.Invoke(context.Background(), ev); err != nil && hooks.KindOf(err).Status() != 503 {
				t.Errorf("in-flight invocation: %v", err)
			}
		})
	}
	_, err := f.Invoke(context.Background(), &crash)
	if err == nil || hooks.KindOf(err).Status() != 503 || !strings.Contains(err.Error(), "worker process exited") {
		t.Errorf("crash: %v", err)
	}
	t.Logf("crash: %v", err)
	wg.Wait()
	if _, err := f.Invoke(context.Background(), ev); err != nil {
		t.Fatalf("after the crash: %v", err)
	}
}

// TestCrashLoopBacksOff: a function that kills every worker gets 503s, and restarts back off
// instead of forking on every request.
func TestCrashLoopBacksOff(t *testing.T) {
	f := processFn(t, "crashloop", `exports.handler = async () => new ArrayBuffer(1.5 * 2 ** 30).byteLength`, 5*time.Second)
	ev := event(t, "viewer-request")
	backedOff := false
	for range 6 {
		_, err := f.Invoke(context.Background(), ev)
		if err == nil || hooks.KindOf(err).Status() != 503 {
			t.Fatalf("got %v", err)
		}
		if strings.Contains(err.Error(), "keeps crashing") {
			backedOff = true
		}
	}
	if !backedOff {
		t.Fatal("restarts never backed off")
	}
}

// TestDeadlineWithoutTimer: a caller that passes a deadline but no done channel
// (hooks.WithDeadline, as the edge does for self-timed functions) gets its timeout at that
// deadline even from a worker stuck in native code that Interrupt cannot stop, not at the
// watchdog's deadline plus grace.
func TestDeadlineWithoutTimer(t *testing.T) {
	f, err := jsruntime.New(jsruntime.Options{
		Name: "stuck", Isolation: jsruntime.Process, Limits: hooks.Limits{Timeout: 30 * time.Second, MemoryMB: 128},
		Code: jsruntime.SingleFile(`exports.handler = async () => { let o = {}; for (let i = 0; i < 1e5; i++) o = {o}; return JSON.stringify(o) }`),
		Worker: jsruntime.WorkerOptions{
			Command: []string{os.Args[0]}, Env: []string{jsruntime.WorkerEnv + "=1"}, MemoryMB: 512, Grace: 20 * time.Second,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	_, err = f.Invoke(hooks.WithDeadline(context.Background(), start.Add(300*time.Millisecond)), event(t, "viewer-request"))
	if d := time.Since(start); hooks.KindOf(err) != hooks.Timeout || d > 10*time.Second {
		t.Fatalf("after %v: %v, want a timeout at the 300ms deadline", d, err)
	}
	t.Logf("%v after %v", err, time.Since(start).Round(time.Millisecond))
}
