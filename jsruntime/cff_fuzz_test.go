package jsruntime

import (
	"os"
	"reflect"
	"testing"

	"github.com/dop251/goja/parser"
	"github.com/vergecdn/verge/hooks"
)

// FuzzEventFromSource builds the event a function sees in verge fn test from any event file
// ParseEvent accepts: the CloudFront Functions object (its JSON, key order kept) and the
// Lambda@Edge shapes. Neither may panic, and a CloudFront event keeps its request.
func FuzzEventFromSource(f *testing.F) {
	for _, n := range []string{"lambda-edge-viewer-request.json", "lambda-edge-origin-response.json", "cff-viewer-response-full-example.json"} {
		b, err := os.ReadFile("testdata/events/" + n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"request":{"method":"GET","uri":"/","__proto__":{"x":1}},"z":[1,2,{"a":null}]}`))
	v := testVM(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := ParseEvent(b, "")
		if err != nil {
			return
		}
		_ = leShapesFromSource(b)
		val, err := v.cffEventFromSource(b, ev)
		if err != nil {
			return
		}
		if o := val.ToObject(v.rt); o.Get("Records") == nil && o.Get("request") == nil {
			t.Fatal("the event lost its request")
		}
	})
}

// FuzzOriginChoiceWire round-trips origin choices through the worker codec, and decodes
// arbitrary bytes without panicking.
func FuzzOriginChoiceWire(f *testing.F) {
	f.Add("api", "backup", 503, "example.com", "/v2", 8443, "x-a", "1", true)
	f.Add("", "", 0, "", "", 0, "", "", false)
	f.Fuzz(func(t *testing.T, id1, id2 string, status int, domain, path string, port int, hname, hval string, update bool) {
		c := &hooks.OriginChoice{IDs: []string{id1, id2}, FailoverStatus: []int{status}}
		if update {
			c.Update = &hooks.OriginUpdate{DomainName: domain, Path: path, SetPath: true, Port: port, Protocol: "https",
				CustomHeaders: hooks.Headers{{Name: hname, Value: hval}}, SetHeaders: true}
		}
		var e wenc
		e.originChoice(c)
		d := wdec{b: string(e.b)}
		if got := d.originChoice(); d.err != nil || !reflect.DeepEqual(got, c) {
			t.Fatalf("round trip: %+v (%v), want %+v", got, d.err, c)
		}
		junk := wdec{b: id1 + domain}
		_ = junk.originChoice()
	})
}

// FuzzRuntime10Check runs cloudfront-js-1.0's syntax check on any source goja parses: it
// must not panic, and must refuse every `const` declaration it is shown.
func FuzzRuntime10Check(f *testing.F) {
	for _, s := range []string{"function handler(e) { return e.request }", "const a = 1;", "async function f() { await 1 }",
		"for (let i of [1]) {}", "var f = async () => 1;", "class A { async m() {} }"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		prg, err := parser.ParseFile(nil, "f.js", src, 0)
		if err != nil {
			return
		}
		_ = checkRuntime10(prg)
		if prg2, err := parser.ParseFile(nil, "f.js", "const __x = 1;\n"+src, 0); err == nil && checkRuntime10(prg2) == nil {
			t.Fatal("a const declaration passed the 1.0 check")
		}
	})
}
