package jsruntime_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/jsruntime"
)

// TestCFFMultiValue checks the write-back rule: a modified multiValue wins; otherwise a
// changed value replaces the first value and the others are kept.
func TestCFFMultiValue(t *testing.T) {
	b, err := os.ReadFile("testdata/events/cff-viewer-response-full-example.json")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := jsruntime.ParseEvent(b, "viewer-request")
	if err != nil {
		t.Fatal(err)
	}
	ev.Response = nil
	for name, tt := range map[string]struct {
		src  string
		want []string
	}{
		"value only":        {`h.accept.value = 'a/b'`, []string{"a/b", "application/xml", "text/html"}},
		"multiValue edited": {`h.accept.multiValue = [{value: 'x'}, {value: 'y'}]`, []string{"x", "y"}},
		"untouched":         {``, []string{"application/json", "application/xml", "text/html"}},
		"replaced":          {`h.accept = {value: 'only'}`, []string{"only"}},
	} {
		t.Run(name, func(t *testing.T) {
			f, err := jsruntime.New(jsruntime.Options{Runtime: jsruntime.RuntimeCloudFrontFunctions,
				Code: jsruntime.SingleFile(`function handler(event) { var h = event.request.headers; ` + tt.src + `; return event.request }`)})
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			res, err := f.Invoke(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Request.Headers.Values("accept"); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("accept = %q, want %q", got, tt.want)
			}
			if got := res.Request.Headers.Get("cookie"); got != "Cookie1=value1; Cookie2=value2; cookie_consent=true; cookiemv=value3; cookiemv=value4" {
				t.Fatalf("cookie = %q", got)
			}
			if err := hooks.Validate(hooks.CloudFrontFunctions, ev, res, hooks.DefaultLimits(hooks.CloudFrontFunctions, ev.Stage)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLogSink(t *testing.T) {
	var got []jsruntime.LogLine
	f := newFn(t, `exports.handler = async (e) => { console.warn('w', 1); console.error(new Error('x').message); return e.Records[0].cf.request }`,
		func(o *jsruntime.Options) {
			o.LogSink = func(fn, version, requestID string, lines []jsruntime.LogLine) { got = append(got, lines...) }
		})
	if _, err := f.Invoke(context.Background(), loadEvent(t, "lambda-edge-viewer-request.json")); err != nil {
		t.Fatal(err)
	}
	want := []jsruntime.LogLine{{Level: "WARN", Message: "w 1"}, {Level: "ERROR", Message: "x"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("logs %+v", got)
	}
}

// TestCFFTopLevelVar: a CloudFront function's top-level var of a Node global (a script's, so a
// global binding) keeps the global, as Node's vm.runInThisContext does ("function,object,
// function,object"), and `var crypto = require('crypto')` gets the module, where Node 20,
// whose global crypto has no setter, would keep WebCrypto.
func TestCFFTopLevelVar(t *testing.T) {
	for _, rt := range []string{jsruntime.RuntimeCloudFrontJS1, jsruntime.RuntimeCloudFrontJS2} {
		got := cffRequestHeader(t, rt, `
var URL; var console; var Buffer; var process; var crypto = require('crypto');
function handler(event) {
  event.request.headers['x-v'] = { value: [typeof URL, typeof console, typeof Buffer, typeof process, typeof crypto.createHash].join() };
  return event.request;
}`, "x-v")
		if want := "function,object,function,object,function"; got != want {
			t.Errorf("%s: x-v = %q, want %q", rt, got, want)
		}
	}
}

func TestCFFByteStrings(t *testing.T) {
	got := cffRequestHeader(t, jsruntime.RuntimeCloudFrontFunctions, `
var crypto = require('crypto');
function handler(event) {
  var sig = String.bytesFrom('aGk', 'base64url');
  var v = [sig, String.bytesFrom('6869', 'hex'), 'é'.toUTF8().length, 'é'.toUTF8().fromUTF8(), 'abc'.toBytes(1), 'Ā'.toBytes(),
    crypto.createHmac('sha256', 'k').update('x').digest('base64url').length].join('|');
  event.request.headers['x-v'] = { value: v };
  return event.request;
}`, "x-v")
	if want := "hi|hi|2|é|bc||43"; got != want {
		t.Fatalf("x-v = %q, want %q", got, want)
	}
}

// TestCFFByteStringsByName: in both runtimes the byte-string helpers are there for code that
// names one of them, which gets them all, and for no other code (a name built at run time is
// not seen). Runtime 1.0 has them at CloudFront, 2.0 has none.
func TestCFFByteStringsByName(t *testing.T) {
	const probe = `
  var names = ['to' + 'Bytes', 'from' + 'Bytes', 'to' + 'UTF8', 'from' + 'UTF8'];
  var v = [typeof String['bytes' + 'From']];
  for (var i = 0; i < names.length; i++) v.push(typeof ''[names[i]]);
  event.request.headers['x-v'] = { value: v.join() };
  return event.request;
}`
	cases := []struct{ name, head, want string }{
		{"names none", "", "undefined,undefined,undefined,undefined,undefined"},
		{"names toUTF8", "if (!event) ''.toUTF8();", "function,function,function,function,function"},
	}
	for _, rt := range []string{jsruntime.RuntimeCloudFrontJS1, jsruntime.RuntimeCloudFrontJS2} {
		for _, c := range cases {
			if got := cffRequestHeader(t, rt, "function handler(event) {"+c.head+probe, "x-v"); got != c.want {
				t.Errorf("%s, code that %s: %q, want %q", rt, c.name, got, c.want)
			}
		}
	}
}

// TestLogSinkRequestID: an invocation's console lines are filed under its event's CloudFront
// request id (the viewer's X-Amz-Cf-Id), and, for an event without one, under the
// context.awsRequestId it saw: one per invocation, also when read only after the log line, and
// a context kept past its invocation keeps its id.
func TestLogSinkRequestID(t *testing.T) {
	type entry struct{ id, msg string }
	var got []entry
	f := newFn(t, `let kept;
exports.handler = async (e, ctx) => {
  if (kept) console.log('kept', kept.awsRequestId);
  console.log('line');
  console.log('id', ctx.awsRequestId);
  kept = ctx;
  return e.Records[0].cf.request;
}`, func(o *jsruntime.Options) {
		o.LogSink = func(fn, version, requestID string, lines []jsruntime.LogLine) {
			for _, l := range lines {
				got = append(got, entry{requestID, l.Message})
			}
		}
	})
	withCF := loadEvent(t, "lambda-edge-viewer-request.json")
	cfID := withCF.Config.RequestID
	without := *withCF
	without.Config.RequestID = ""
	for _, ev := range []*hooks.Event{&without, &without, withCF} {
		if _, err := f.Invoke(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if len(got) != 8 || cfID == "" {
		t.Fatalf("logs %+v", got)
	}
	first, second, third := got[0].id, got[2].id, strings.TrimPrefix(got[7].msg, "id ")
	if !uuid.MatchString(first) || !uuid.MatchString(second) || !uuid.MatchString(third) || first == second || second == third {
		t.Fatalf("request ids %q, %q and %q: want three different v4 UUIDs", first, second, third)
	}
	want := []entry{{first, "line"}, {first, "id " + first}, {second, "kept " + first}, {second, "line"}, {second, "id " + second},
		{cfID, "kept " + second}, {cfID, "line"}, {cfID, "id " + third}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("logs\n%+v\nwant\n%+v", got, want)
	}
}

// TestEvalInCloudFrontFunctions: CloudFront Functions refuse every way to compile code from a
// string, as CloudFront does, with Node's message for code generation that is disallowed.
// (Lambda@Edge functions have eval and new Function, as in Node: corpus/eval-and-function.)
func TestEvalInCloudFrontFunctions(t *testing.T) {
	ways := map[string]string{
		"eval":                                `eval('1')`,
		"indirect eval":                       `(0, eval)('1')`,
		"new Function":                        `new Function('return 1')()`,
		"Function":                            `Function('return 1')()`,
		"a function's constructor":            `(function () {}).constructor('return 1')()`,
		"generator constructor":               `Object.getPrototypeOf(function* () {}).constructor('yield 1')()`,
		"bound Function":                      `Function.prototype.bind.call(Function, null)('return 1')()`,
		"Reflect.construct":                   `Reflect.construct(Function, ['return 1'])()`,
		"Function.prototype.constructor.call": `Function.prototype.constructor.call(null, 'return 1')()`,
	}
	const want = "EvalError: Code generation from strings disallowed for this context"
	for _, rt := range []string{jsruntime.RuntimeCloudFrontJS1, jsruntime.RuntimeCloudFrontJS2} {
		cases := maps.Clone(ways)
		if rt == jsruntime.RuntimeCloudFrontJS2 { // 1.0 refuses async functions at deploy
			cases["async function constructor"] = `Object.getPrototypeOf(async function () {}).constructor('return 1')()`
			cases["a class's constructor"] = `(class {}).constructor('return 1')()`
		}
		for name, expr := range cases {
			t.Run(rt+"/"+name, func(t *testing.T) {
				got := cffRequestHeader(t, rt, `
function handler(event) {
  var r = 'no error';
  try { `+expr+`; } catch (e) { r = e.name + ': ' + e.message; }
  event.request.headers['x-e'] = { value: r };
  return event.request;
}`, "x-e")
				if got != want {
					t.Errorf("x-e = %q, want %q", got, want)
				}
			})
		}
	}
}

// cffRequestHeader runs a CloudFront function of runtime rt in process on the minimal
// viewer-request event and returns header name of the request it returns.
func cffRequestHeader(t *testing.T, rt, src, name string) string {
	t.Helper()
	f, err := jsruntime.New(jsruntime.Options{Runtime: rt, Code: jsruntime.SingleFile(src)})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := f.Invoke(context.Background(), loadEvent(t, "cff-test-function-minimal-viewer-request.json"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Request == nil {
		t.Fatal("no request")
	}
	return res.Request.Headers.Get(name)
}

// TestCFFTimeLimit: a CloudFront Function that never ends is stopped at
// hooks.CloudFrontFunctionsTimeout, in both runtimes and with either isolation, not after
// Lambda@Edge's 5 s; a healthy one is not cut short.
func TestCFFTimeLimit(t *testing.T) {
	ev := loadEvent(t, "cff-test-function-minimal-viewer-request.json")
	for _, rt := range []string{jsruntime.RuntimeCloudFrontJS1, jsruntime.RuntimeCloudFrontJS2} {
		for _, iso := range []jsruntime.Isolation{jsruntime.InProcess, jsruntime.Process} {
			t.Run(fmt.Sprintf("%s/%v", rt, iso), func(t *testing.T) {
				f, err := jsruntime.New(jsruntime.Options{Runtime: rt, Isolation: iso, Code: jsruntime.SingleFile(
					`function handler(event) { if (event.request.uri === '/loop') { while (true) {} } return event.request; }`),
					Worker: jsruntime.WorkerOptions{Command: []string{os.Args[0]}, Env: []string{jsruntime.WorkerEnv + "=1"}}})
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if _, err := f.Invoke(context.Background(), ev); err != nil {
					t.Fatalf("a healthy call failed: %v", err)
				}
				loop := *ev
				req := *ev.Request
				req.URI = "/loop"
				loop.Request = &req
				start := time.Now()
				_, err = f.Invoke(context.Background(), &loop)
				took := time.Since(start)
				if hooks.KindOf(err) != hooks.Timeout {
					t.Fatalf("got %v, want a timeout", err)
				}
				if took < hooks.CloudFrontFunctionsTimeout || took > 2*time.Second {
					t.Fatalf("stopped after %v, want about %v", took, hooks.CloudFrontFunctionsTimeout)
				}
				if got := hooks.CloudFrontFunctions.ResultType(hooks.KindOf(err)); got != "FunctionExecutionError" {
					t.Fatalf("X-Cache's result type %q, want FunctionExecutionError", got)
				}
			})
		}
	}
}

// TestCFFNoTimers: CloudFront Functions define none of Node's timers (AWS: "no setTimeout,
// setImmediate, clearTimeout"), in either runtime; queueMicrotask stays, as promise jobs do.
// Lambda@Edge keeps all six.
func TestCFFNoTimers(t *testing.T) {
	const names = `['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate', 'queueMicrotask']`
	const cffWant = "undefined,undefined,undefined,undefined,undefined,undefined,function"
	for _, rt := range []string{jsruntime.RuntimeCloudFrontJS1, jsruntime.RuntimeCloudFrontJS2} {
		got := cffRequestHeader(t, rt, `
function handler(event) {
  var v = [], n = `+names+`;
  for (var i = 0; i < n.length; i++) v.push(typeof globalThis[n[i]]);
  event.request.headers['x-v'] = { value: v.join() + '|' + typeof setTimeout };
  return event.request;
}`, "x-v")
		if want := cffWant + "|undefined"; got != want {
			t.Errorf("%s: x-v = %q, want %q", rt, got, want)
		}
	}
	f := newFn(t, `exports.handler = async (e) => {
  const r = e.Records[0].cf.request;
  r.headers['x-v'] = [{ key: 'x-v', value: `+names+`.map((n) => typeof globalThis[n]).join() }];
  return r;
}`, nil)
	res, err := f.Invoke(context.Background(), loadEvent(t, "lambda-edge-viewer-request.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Request.Headers.Get("x-v"), "function,function,function,function,function,function,function"; got != want {
		t.Errorf("lambda-edge: x-v = %q, want %q", got, want)
	}
}

// TestCFFRequire: a CloudFront function requires only its runtime's modules (1.0: crypto and
// querystring; 2.0 also buffer and cloudfront), and any other name is Node's missing-module
// error, not goja's "Invalid module" nor a Lambda@Edge module.
func TestCFFRequire(t *testing.T) {
	const probe = `
function handler(event) {
  var names = ['crypto', 'querystring', 'buffer', 'cloudfront', 'fs', 'url', './h', 'node:crypto'];
  var out = [];
  for (var i = 0; i < names.length; i++) {
    try { require(names[i]); out.push('ok') } catch (e) { out.push(e.code + ':' + e.message) }
  }
  event.request.headers['x-v'] = { value: out.join('|') };
  return event.request;
}`
	miss := func(name string) string { return "MODULE_NOT_FOUND:Cannot find module '" + name + "'" }
	rest := strings.Join([]string{miss("fs"), miss("url"), miss("./h"), miss("node:crypto")}, "|")
	for rt, want := range map[string]string{
		jsruntime.RuntimeCloudFrontJS1: "ok|ok|" + miss("buffer") + " (it needs runtime cloudfront-js-2.0)|" + miss("cloudfront") + " (it needs runtime cloudfront-js-2.0)|" + rest,
		jsruntime.RuntimeCloudFrontJS2: "ok|ok|ok|ok|" + rest,
	} {
		if got := cffRequestHeader(t, rt, probe, "x-v"); got != want {
			t.Errorf("%s:\n got %s\nwant %s", rt, got, want)
		}
	}
}
