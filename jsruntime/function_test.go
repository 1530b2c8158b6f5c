package jsruntime_test

import (
	"context"
	"errors"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/jsruntime"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if jsruntime.IsWorkerProcess() {
		os.Exit(jsruntime.WorkerMainForTest())
	}
	if os.Getenv(nodeEnv) == "1" {
		os.Exit(actAsNode())
	}
	if os.Getenv(pipeEchoEnv) == "1" {
		pipeEcho()
		os.Exit(0)
	}
	if dir := os.Getenv(jsruntime.SandboxProbeEnv); dir != "" {
		os.Exit(jsruntime.SandboxProbe(dir))
	}
	// regexp2's clock goroutine ends itself a second after the last timed match.
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/dlclark/regexp2/v2.runClock"))
}

func loadEvent(t testing.TB, name string) *hooks.Event {
	t.Helper()
	b, err := os.ReadFile("testdata/events/" + name)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := jsruntime.ParseEvent(b, "")
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func newFn(t testing.TB, src string, mod func(*jsruntime.Options)) *jsruntime.Function {
	t.Helper()
	o := jsruntime.Options{Name: "t", Code: jsruntime.SingleFile(src), Limits: hooks.Limits{Timeout: 2 * time.Second}}
	if mod != nil {
		mod(&o)
	}
	f, err := jsruntime.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestFailures checks the kind (and so the viewer status) of each way a function can fail.
func TestFailures(t *testing.T) {
	tests := []struct {
		name string
		src  string
		kind hooks.Kind
		msg  string
	}{
		{"infinite loop", `exports.handler = async () => { while (true) {} }`, hooks.Timeout, "timed out"},
		{"loop in try/catch", `exports.handler = async () => { for (;;) { try { while (true) {} } catch (e) {} } }`, hooks.Timeout, "timed out"},
		{"interval forever", `exports.handler = (e, c, cb) => { setInterval(() => {}, 5) }`, hooks.Timeout, "timed out"},
		{"recursion", `function f() { return f() + 1 } exports.handler = async () => f()`, hooks.Execution, "Maximum call stack"},
		{"throw", `exports.handler = async () => { throw new RangeError('bad') }`, hooks.Execution, "RangeError: bad"},
		{"reject string", `exports.handler = () => Promise.reject('nope')`, hooks.Execution, "nope"},
		{"timer throws", `exports.handler = (e, c, cb) => { setTimeout(() => { throw new Error('late') }, 1) }`, hooks.Execution, "Error: late"},
		{"never settles", `exports.handler = () => new Promise(() => {})`, hooks.Validation, "no result"},
		{"huge repeat", `exports.handler = async () => 'x'.repeat(2 ** 33)`, hooks.Execution, "Invalid string length"},
		{"deep JSON.parse", `exports.handler = async () => JSON.parse('['.repeat(100000))`, hooks.Execution, "Maximum call stack"},
		{"wrong type", `exports.handler = async (e) => { const r = e.Records[0].cf.request; r.uri = 5; return r }`, hooks.Validation, "uri must be a string"},
		{"header not array", `exports.handler = async (e) => { const r = e.Records[0].cf.request; r.headers.x = {value: 'a'}; return r }`, hooks.Validation, "must be an array"},
	}
	ev := loadEvent(t, "lambda-edge-viewer-request.json")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFn(t, tt.src, func(o *jsruntime.Options) { o.Limits.Timeout = 300 * time.Millisecond })
			start := time.Now()
			_, err := f.Invoke(context.Background(), ev)
			if err == nil {
				t.Fatal("no error")
			}
			if k := hooks.KindOf(err); k != tt.kind {
				t.Errorf("kind %v, want %v (%v)", k, tt.kind, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v", d)
			}
			// The function keeps serving after any failure.
			if _, err := f.Invoke(context.Background(), ev); err == nil || hooks.KindOf(err) != tt.kind { // KindOf(nil) is Execution
				t.Errorf("second invocation: %v", err)
			}
		})
	}
}

// TestRefuseEval: with Options.RefuseEval (code in the node's process), a Lambda@Edge function
// has no way to compile code from a string; without it, it has them as in Node
// (corpus/eval-and-function).
func TestRefuseEval(t *testing.T) {
	ev := loadEvent(t, "lambda-edge-viewer-request.json")
	for name, expr := range map[string]string{
		"eval":                       `eval('1')`,
		"indirect eval":              `(0, eval)('1')`,
		"new Function":               `new Function('return 1')()`,
		"an arrow's constructor":     `(() => 1).constructor('return 1')()`,
		"generator constructor":      `Object.getPrototypeOf(function* () {}).constructor('yield 1')()`,
		"async function constructor": `Object.getPrototypeOf(async function () {}).constructor('return 1')()`,
	} {
		t.Run(name, func(t *testing.T) {
			src := `exports.handler = async () => { let b = 'no error'; try { ` + expr + ` } catch (e) { b = e.name + ': ' + e.message } return { status: '200', body: b } }`
			for _, refuse := range []bool{true, false} {
				f := newFn(t, src, func(o *jsruntime.Options) { o.RefuseEval = refuse })
				res, err := f.Invoke(context.Background(), ev)
				if err != nil {
					t.Fatal(err)
				}
				want := "no error"
				if refuse {
					want = "EvalError: Code generation from strings disallowed for this context"
				}
				if got := string(res.Response.Body); got != want {
					t.Errorf("RefuseEval %v: %q, want %q", refuse, got, want)
				}
			}
		})
	}
}

// TestRefusedEvalLeavesTheRuntimeWhole: in a runtime that refuses eval, in process and in a
// worker, a refused eval caught by the code leaves it working, and what Verge itself compiles
// later still loads: a file of the package and built-in modules required inside the handler,
// console's formatter on the first log.
func TestRefusedEvalLeavesTheRuntimeWhole(t *testing.T) {
	code := jsruntime.Code{Entry: "index.js", Files: map[string]string{
		"index.js": `exports.handler = async (event) => {
  const local = 'kept';
  let refused = 'no error';
  try { new Function('return 1')(); } catch (e) { refused = e.name; }
  const other = require('./other');
  const qs = require('querystring');
  console.log('logged', { a: [1] });
  return { status: '200', body: [refused, local, other.twice(21), qs.stringify({ a: 1 }), Buffer.from('hi').toString('base64'),
    new URL('https://a.example/p?x=1').searchParams.get('x'), require('crypto').createHash('sha256').update('x').digest('hex').length].join() };
};`,
		"other.js": `exports.twice = (n) => n * 2;`,
	}}
	ev := loadEvent(t, "lambda-edge-viewer-request.json")
	for _, iso := range []jsruntime.Isolation{jsruntime.InProcess, jsruntime.Process} {
		f := newFn(t, "", func(o *jsruntime.Options) {
			o.Code, o.RefuseEval, o.Isolation = code, true, iso
			o.Worker = jsruntime.WorkerOptions{Command: []string{os.Args[0]}, Env: []string{jsruntime.WorkerEnv + "=1"}}
		})
		for range 2 { // the second call on the same runtime
			inv := f.InvokeDetailed(context.Background(), ev)
			if inv.Err != nil || inv.Result.Response == nil {
				t.Fatalf("isolation %v: %+v, %v", iso, inv.Result.Response, inv.Err)
			}
			if got, want := string(inv.Result.Response.Body), "EvalError,kept,42,a=1,aGk=,1,64"; got != want {
				t.Errorf("isolation %v: body %q, want %q", iso, got, want)
			}
			if len(inv.Logs) != 1 || inv.Logs[0].Message != "logged { a: [ 1 ] }" {
				t.Errorf("isolation %v: logs %+v", iso, inv.Logs)
			}
		}
	}
}

// TestRefusedEvalCopiesNothing: a refused eval of a long string throws before goja copies it
// (it converted and copied the string twice before the parser refused it: 10 evals of 8
// million characters allocated 1.8 GB).
func TestRefusedEvalCopiesNothing(t *testing.T) {
	f := newFn(t, `const s = 'é'.repeat(8e6);
exports.handler = async () => { let n = 0; for (let i = 0; i < 10; i++) { try { eval(s) } catch (e) { n++ } } return { status: '200', body: String(n) } }`,
		func(o *jsruntime.Options) { o.RefuseEval = true })
	ev := loadEvent(t, "lambda-edge-viewer-request.json")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res, err := f.Invoke(context.Background(), ev)
	runtime.ReadMemStats(&after)
	if err != nil || string(res.Response.Body) != "10" {
		t.Fatalf("got %+v, %v", res.Response, err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
		t.Errorf("10 refused evals of a 16 MB string allocated %d MB", n>>20)
	}
}

func TestWarmStateAndFreshAfterFatal(t *testing.T) {
	f := newFn(t, `let n = 0;
exports.handler = async (e) => {
  n++;
  if (e.Records[0].cf.request.uri === '/hang') while (true) {}
  const r = e.Records[0].cf.request; r.headers['x-n'] = [{value: String(n)}]; return r;
}`, func(o *jsruntime.Options) { o.Limits.Timeout = 200 * time.Millisecond; o.MaxConcurrency = 1 })
	ev := loadEvent(t, "lambda-edge-viewer-request.json")
	count := func() string {
		res, err := f.Invoke(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		return res.Request.Headers.Get("x-n")
	}
	if a, b := count(), count(); a != "1" || b != "2" {
		t.Fatalf("warm runtime lost its globals: %s, %s", a, b)
	}
	hang := *ev
	hang.Request = ev.Request.Clone()
	hang.Request.URI = "/hang"
	if _, err := f.Invoke(context.Background(), &hang); hooks.KindOf(err) != hooks.Timeout {
		t.Fatalf("hang: %v", err)
	}
	if n := count(); n != "1" {
		t.Fatalf("after a timeout the runtime must be fresh, got n=%s", n)
	}
}

func TestTamperingStaysInItsFunction(t *testing.T) {
	evil := newFn(t, `exports.handler = async (e) => {
  Object.prototype.uri = '/pwned'; JSON.parse = () => 1; Array.prototype.push = null;
  return e.Records[0].cf.request;
}`, nil)
	good := newFn(t, `exports.handler = async (e) => { const r = e.Records[0].cf.request; r.headers['x-j'] = [{value: JSON.stringify(JSON.parse('[1]'))}]; return r }`, nil)
	ev := loadEvent(t, "lambda-edge-viewer-request.json")
	for range 3 {
		if res, err := evil.Invoke(context.Background(), ev); err != nil || res.Request.URI != "/" {
			t.Fatalf("evil: %v %+v", err, res.Request)
		}
		res, err := good.Invoke(context.Background(), ev)
		if err != nil || res.Request.Headers.Get("x-j") != "[1]" {
			t.Fatalf("good: %v %+v", err, res.Request)
		}
	}
}

func TestThrottle(t *testing.T) {
	f := newFn(t, `exports.handler = async (e) => { await new Promise(r => setTimeout(r, 500)); return e.Records[0].cf.request }`,
		func(o *jsruntime.Options) { o.MaxConcurrency = 2 })
	ev := loadEvent(t, "lambda-edge-viewer-request.json")
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() { _, errs[i] = f.Invoke(context.Background(), ev) })
	}
	wg.Wait()
	ok, throttled := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case hooks.KindOf(err) == hooks.Throttled:
			throttled++
		default:
			t.Fatal(err)
		}
	}
	if ok < 1 || throttled < 1 {
		t.Fatalf("ok=%d throttled=%d", ok, throttled)
	}
}

func TestContextCancel(t *testing.T) {
	f := newFn(t, `exports.handler = async () => { while (true) {} }`, func(o *jsruntime.Options) { o.Limits.Timeout = 30 * time.Second })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := f.Invoke(ctx, loadEvent(t, "lambda-edge-viewer-request.json"))
	if hooks.KindOf(err) != hooks.Timeout {
		t.Fatalf("got %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	for name, o := range map[string]jsruntime.Options{
		"syntax":     {Code: jsruntime.SingleFile(`exports.handler = (`)},
		"no handler": {Code: jsruntime.SingleFile(`exports.x = 1`)},
		"init throw": {Code: jsruntime.SingleFile(`throw new Error('boom')`)},
		"too big":    {Code: jsruntime.SingleFile(strings.Repeat(" ", 2<<20))},
		"too deep":   {Code: jsruntime.SingleFile(strings.Repeat("[", 10000))},
		"runtime":    {Runtime: "python", Code: jsruntime.SingleFile(`x`)},
		"no files":   {},
		"init loop":  {Code: jsruntime.SingleFile(`while (true) {}`), InitTimeout: 100 * time.Millisecond},
	} {
		t.Run(name, func(t *testing.T) {
			f, err := jsruntime.New(o)
			if err == nil {
				f.Close()
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "jsruntime: ") && !errors.As(err, new(*hooks.Error)) {
				t.Errorf("error %q lacks the prefix", err)
			}
		})
	}
}

func TestCFFAtOriginStage(t *testing.T) {
	f := newFn(t, `function handler(event) { return event.request }`, func(o *jsruntime.Options) { o.Runtime = jsruntime.RuntimeCloudFrontFunctions })
	if _, err := f.Invoke(context.Background(), loadEvent(t, "lambda-edge-origin-request.json")); err == nil {
		t.Fatal("a CloudFront function ran at origin-request")
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := jsruntime.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	f := newFn(t, `exports.handler = async (e) => e.Records[0].cf.uri === 'x' ? null : (() => { throw new Error('no') })()`,
		func(o *jsruntime.Options) { o.Metrics = m; o.Name = "m"; o.Version = "3" })
	ev := loadEvent(t, "lambda-edge-viewer-request.json")
	for range 2 {
		_, _ = f.Invoke(context.Background(), ev)
	}
	// A second copy of the version, alive at once (one draining after a reload builds the same
	// code again): one series per name and version, summed, or the scrape would fail.
	newFn(t, `exports.handler = async () => null`, func(o *jsruntime.Options) { o.Metrics = m; o.Name = "m"; o.Version = "3" })
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += "," + l.GetName() + "=" + l.GetValue()
			}
			found[key] = v
		}
	}
	for key, want := range map[string]float64{
		"verge_function_duration_seconds,event=viewer-request,function=m,version=3": 2,
		"verge_function_runtimes,function=m,state=idle,version=3":                   2,
		"verge_function_runtimes,function=m,state=in_use,version=3":                 0,
	} {
		if got, ok := found[key]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", key, got, ok, want)
		}
	}
	if _, err := jsruntime.NewMetrics(reg); err == nil {
		t.Fatal("registering twice must fail")
	}
}

func TestTimeoutObjectsAndStubs(t *testing.T) {
	f := newFn(t, `const https = require('https');
exports.handler = (e, c, cb) => {
  const t = setTimeout(() => cb(new Error('cleared timer ran')), 5).unref();
  clearTimeout(t);
  let msg = '';
  try { https.get('https://example.org') } catch (err) { msg = err.message }
  const r = e.Records[0].cf.request; r.headers['x-msg'] = [{value: msg}];
  setTimeout(() => cb(null, r), 10);
}`, nil)
	res, err := f.Invoke(context.Background(), loadEvent(t, "lambda-edge-viewer-request.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Request.Headers.Get("x-msg"); !strings.Contains(got, "require('https').get is not available") {
		t.Fatalf("x-msg = %q", got)
	}
}

// TestErrorsSayWhereTheyWereThrown: a failure's message names the first frame of code in the
// error's stack (file, line and column, as Node counts them), so that fn logs and fn test say
// where a function threw; a throw from a built-in names the code that called it.
func TestErrorsSayWhereTheyWereThrown(t *testing.T) {
	files := map[string]string{
		"helper.js": "exports.boom = function boom() {\n  throw new Error('n1');\n};\n",
		"index.js": "const h = require('./helper');\nexports.handler = async (e) => {\n" +
			"  if (e.Records[0].cf.request.uri === '/parse') JSON.parse('{');\n  if (e.Records[0].cf.request.uri === '/plain') throw 'plain';\n  h.boom();\n};\n",
	}
	f, err := jsruntime.New(jsruntime.Options{Name: "t", Code: jsruntime.Code{Files: files, Entry: "index.js"}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for uri, want := range map[string]*regexp.Regexp{
		"/":      regexp.MustCompile(`: Error: n1 \(at /var/task/helper\.js:2:9\)$`),
		"/parse": regexp.MustCompile(`: SyntaxError: .* \(at /var/task/index\.js:3:\d+\)$`), // goja marks the call at its '('
		"/plain": regexp.MustCompile(`: plain$`),                                            // a string has no stack
	} {
		ev := loadEvent(t, "lambda-edge-viewer-request.json")
		ev.Request.URI = uri
		_, err := f.Invoke(context.Background(), ev)
		if err == nil || !want.MatchString(err.Error()) {
			t.Errorf("%s: %v, want it to match %s", uri, err, want)
		}
	}
}
