package jsruntime

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/dop251/goja"
	"github.com/vergecdn/verge/hooks"
)

func testVM(t testing.TB) *vm {
	t.Helper()
	o := (&Options{Code: SingleFile(`exports.handler = async () => null`)}).withDefaults()
	p, err := compile(o)
	if err != nil {
		t.Fatal(err)
	}
	v, err := newVM(p, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.close)
	return v
}

func seedEvent(t testing.TB, stage hooks.Stage) *hooks.Event {
	t.Helper()
	name := map[hooks.Stage]string{hooks.ViewerRequest: "viewer-request", hooks.OriginRequest: "origin-request",
		hooks.OriginResponse: "origin-response", hooks.ViewerResponse: "viewer-response"}[stage]
	b, err := os.ReadFile("testdata/events/lambda-edge-" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := ParseEvent(b, "")
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// FuzzDecodeResult feeds arbitrary JSON values to both dialects' result decoders at every
// stage: they must not panic, and every error must be a hooks.Validation error.
func FuzzDecodeResult(f *testing.F) {
	for _, s := range []string{
		`{"status":"302","headers":{"location":[{"key":"Location","value":"/x"}]}}`,
		`{"uri":"/a","querystring":"a=1","headers":{"host":[{"value":"h"}]},"method":"GET"}`,
		`{"uri":"/a","origin":{"custom":{"domainName":"x","port":"443","sslProtocols":["TLSv1.2"]}}}`,
		`{"uri":"/","body":{"action":"replace","encoding":"base64","data":"aGk="}}`,
		`{"status":200,"body":"x","bodyEncoding":"base64"}`,
		`{"statusCode":302,"headers":{"a":{"value":"b","multiValue":[{"value":"c"}]}},"cookies":{"k":{"value":"v","attributes":"Path=/"}}}`,
		`{"uri":"/","querystring":{"a":{"value":"1"}},"cookies":{"c":{"value":"1"}}}`,
		`[1,2]`, `"str"`, `null`, `{"headers":{"x":[null]}}`, `{"status":"abc"}`,
	} {
		f.Add(s)
	}
	v := testVM(f)
	events := map[hooks.Stage]*hooks.Event{}
	for _, s := range hooks.Stages {
		events[s] = seedEvent(f, s)
	}
	parse, _ := goja.AssertFunction(v.rt.Get("JSON").ToObject(v.rt).Get("parse"))
	f.Fuzz(func(t *testing.T, js string) {
		val, err := parse(goja.Undefined(), v.rt.ToValue(js))
		if err != nil {
			return
		}
		for _, s := range hooks.Stages {
			for _, decode := range []func(*goja.Runtime, *hooks.Event, goja.Value) (hooks.Result, error){decodeLambdaEdge, decodeCFF} {
				_, err := decode(v.rt, events[s], val)
				var he *hooks.Error
				if err != nil && (!errors.As(err, &he) || he.Kind != hooks.Validation) {
					t.Fatalf("%s: %v is not a validation error", s, err)
				}
			}
			// The same value in place of each field of the event's own request or response,
			// decoded with the fast paths for the untouched fields.
			ev := events[s]
			for _, obj := range []string{"request", "response"} {
				if obj == "response" && ev.Response == nil {
					continue
				}
				for _, key := range []string{"headers", "status", "uri", "origin", "body", "querystring"} {
					root, _ := leBinding{}.event(v, ev)
					o := lookup(t, v.rt, root, "Records", "0", "cf", obj)
					_ = o.Set(key, val)
					_, err := leBinding{}.result(v, ev, o)
					var he *hooks.Error
					if err != nil && (!errors.As(err, &he) || he.Kind != hooks.Validation) {
						t.Fatalf("%s: %s.%s = %s: %v is not a validation error", s, obj, key, js, err)
					}
				}
			}
		}
	})
}

// lookup follows a path of keys from v.
func lookup(t testing.TB, rt *goja.Runtime, v goja.Value, path ...string) *goja.Object {
	t.Helper()
	o := v.ToObject(rt)
	for _, k := range path {
		o = o.Get(k).ToObject(rt)
	}
	return o
}

// FuzzBase64 checks the strict decoder against encoding/base64 and that the lenient one never
// panics and agrees with it on valid input.
func FuzzBase64(f *testing.F) {
	for _, s := range []string{"", "aGk=", "aGk", "a", "aGVsbG8gd29ybGQ=", "-_-_", "a b=", "===="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lenient := decodeBase64Lenient(s)
		got, ok := decodeBase64Strict(s)
		want, err := base64.StdEncoding.DecodeString(s)
		if err == nil && (!ok || !bytes.Equal(got, want)) {
			t.Fatalf("strict(%q) = %x %v, want %x", s, got, ok, want)
		}
		if err == nil && !bytes.Equal(lenient, want) {
			t.Fatalf("lenient(%q) = %x, want %x", s, lenient, want)
		}
		if ok {
			if want2, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "=")); err != nil || !bytes.Equal(got, want2) {
				t.Fatalf("strict accepted %q: %x vs %x (%v)", s, got, want2, err)
			}
		}
	})
}

// FuzzQuerystring checks that querystring.parse never throws and that stringify(parse(s)) is a
// fixed point of parse after one round.
func FuzzQuerystring(f *testing.F) {
	for _, s := range []string{"a=1&a=2&b=%20x+y", "", "=x", "a", "%E0%A4%A", "a=%zz&&b=", "__proto__=1&constructor=2"} {
		f.Add(s)
	}
	v := testVM(f)
	fnv, err := v.rt.RunString(`(function (s) {
  const qs = require('querystring');
  const once = qs.stringify(qs.parse(s));
  const twice = qs.stringify(qs.parse(once));
  return once === twice ? '' : once + ' != ' + twice;
})`)
	if err != nil {
		f.Fatal(err)
	}
	fn, _ := goja.AssertFunction(fnv)
	f.Fuzz(func(t *testing.T, s string) {
		res, err := fn(goja.Undefined(), v.rt.ToValue(s))
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if res.String() != "" {
			t.Fatalf("%q: %s", s, res)
		}
	})
}

// FuzzParseEvent: the event file parser must not panic.
func FuzzParseEvent(f *testing.F) {
	for _, n := range []string{"lambda-edge-viewer-request.json", "lambda-edge-origin-response.json", "cff-viewer-response-full-example.json"} {
		b, err := os.ReadFile("testdata/events/" + n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := ParseEvent(b, "")
		if err == nil && ev.Request == nil {
			t.Fatal("an event without a request was accepted")
		}
	})
}

// FuzzJSONDepth compares the depth pre-scan with a direct count on valid JSON.
func FuzzJSONDepth(f *testing.F) {
	for _, s := range []string{`[]`, `{"a":[1,{"b":"[["}]}`, `"\"["`, `[[[[`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d := jsonDepth(s); d < 0 || d > len(s) {
			t.Fatalf("depth %d", d)
		}
	})
}

// FuzzESM: the ES-module rewriter and the nesting scanner accept any text without panicking,
// and a rewritten module never nests deeper than its source plus the rewriter's own helper.
// reESMLine matches the lines esmToCJS may rewrite: those that start with an import or an
// export.
var reESMLine = regexp.MustCompile(`^\s*(import|export)\b`)

func FuzzESM(f *testing.F) {
	for _, s := range []string{
		"import a, { b as c } from 'x';\nexport const handler = async () => a;",
		"export { a as b, c };\nexport default 1;\nexport class K {}",
		"import * as ns from \"m\"\nimport 'side'\nexport async function* g() {}",
		"`${'{'}` /* ( */ // [\n'\\'('",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		out := esmToCJS(src)
		if d := sourceNesting(out); d < 0 || d > sourceNesting(src)+len(out) {
			t.Fatalf("nesting %d", d)
		}
		// Every line keeps its number, and one without an import or export its text (up to a
		// closing source map line, which stays the last).
		in, got := strings.Split(src, "\n"), strings.Split(out, "\n")
		if len(got) < len(in) {
			t.Fatalf("%d lines became %d", len(in), len(got))
		}
		end := len(in)
		for end > 0 && strings.TrimSpace(in[end-1]) == "" {
			end--
		}
		if end == 0 || !strings.HasPrefix(in[end-1], "//# sourceMappingURL=") {
			end = len(in)
		} else {
			end--
		}
		for i, l := range in[:end] {
			if !reESMLine.MatchString(l) && got[i] != l {
				t.Fatalf("line %d %q became %q", i+1, l, got[i])
			}
		}
		_ = isESM("index.js", src)
	})
}

// decodeCFF decodes a CloudFront function's result without the event's lazy state.
func decodeCFF(rt *goja.Runtime, ev *hooks.Event, val goja.Value) (hooks.Result, error) {
	return decoder{rt: rt, stage: ev.Stage}.cff(ev, val)
}

// decodeLambdaEdge decodes a Lambda@Edge handler's result without the event's lazy state.
func decodeLambdaEdge(rt *goja.Runtime, ev *hooks.Event, val goja.Value) (hooks.Result, error) {
	return decoder{rt: rt, stage: ev.Stage}.lambdaEdge(ev, val)
}
