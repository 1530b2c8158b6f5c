package jsruntime

import (
	"reflect"
	"strings"
	"testing"

	"github.com/dop251/goja"
	"github.com/vergecdn/verge/hooks"
)

// TestCFFLazyHeaders: a CloudFront function's event headers are built on demand and decoded
// from what JS touched; whatever JS does to them, the result is the one decoding a plain copy
// of the same object gives (the plain path is the one every value JS builds itself takes),
// but that lines JS never touched keep their own case and places.
func TestCFFLazyHeaders(t *testing.T) {
	hdrs := hooks.Headers{{Name: "Host", Value: "www.example.com"}, {Name: "Accept", Value: "text/html"},
		{Name: "X-Dup", Value: "1"}, {Name: "Cookie", Value: "a=1; b=2"}, {Name: "x-dup", Value: "2"},
		{Name: "Set-Cookie", Value: "s=1; Path=/"}, {Name: "Set-Cookie", Value: "t=2"}}
	events := map[string]*hooks.Event{
		"viewer-request": {Stage: hooks.ViewerRequest, Request: &hooks.Request{ClientIP: "192.0.2.1", Method: "GET", URI: "/", Headers: hdrs}},
		"viewer-response": {Stage: hooks.ViewerResponse, Request: &hooks.Request{ClientIP: "192.0.2.1", Method: "GET", URI: "/"},
			Response: &hooks.Response{Status: 200, Headers: hdrs}},
	}
	mutations := []string{
		``,
		`delete h.accept`,
		`h['x-dup'].multiValue[1].value = '3'`,
		`h['x-dup'].value = 'a'`,
		`h['x-new'] = {value: 'n'}`,
		`delete h.host; h.host = {value: 'h2'}`,
		`h.accept.value = 'text/plain'`,
		`h['x-dup'] = {value: 'only'}`,
		`Object.keys(h).forEach(k => { h[k].value += '!' })`,
		`for (const k in h) { if (k !== 'host') delete h[k] }`,
		`if ((event.response ? 'set-cookie' : 'cookie') in h || h.HOST !== undefined) throw new Error('visible')`,
		`o.headers = {a: {value: '1'}}`,
	}
	v := testVM(t)
	for stage, ev := range events {
		for _, m := range mutations {
			t.Run(stage+"/"+m, func(t *testing.T) {
				run := func(copyFirst bool) (hooks.Result, error) {
					root, err := cffBinding{}.event(v, ev)
					if err != nil {
						t.Fatal(err)
					}
					fn, err := v.rt.RunString(`(function (event, copy) {
  if (copy) event = JSON.parse(JSON.stringify(event));
  const o = event.response || event.request, h = o.headers;
  ` + m + `
  return o;
})`)
					if err != nil {
						t.Fatal(err)
					}
					call, _ := goja.AssertFunction(fn)
					out, err := call(goja.Undefined(), root, v.rt.ToValue(copyFirst))
					if err != nil {
						t.Fatal(err)
					}
					return cffBinding{}.result(v, ev, out)
				}
				lazy, lerr := run(false)
				plain, perr := run(true)
				if lerr != nil || perr != nil {
					t.Fatalf("errors: lazy %v, plain %v", lerr, perr)
				}
				if !reflect.DeepEqual(grouped(lazy), grouped(plain)) {
					t.Fatalf("lazy decode\n%+v\nplain decode\n%+v", resultOf(lazy), resultOf(plain))
				}
			})
		}
	}
}

// grouped returns r with its header lines grouped by name, in order of first appearance, and
// the names in lower case.
func grouped(r hooks.Result) hooks.Result {
	var h *hooks.Headers
	if r.Response != nil {
		h = &r.Response.Headers
	} else {
		h = &r.Request.Headers
	}
	var out hooks.Headers
	groupHeaders(*h, func(lname string, lines []hooks.Header) {
		for _, l := range lines {
			out = append(out, hooks.Header{Name: lname, Value: l.Value})
		}
	})
	*h = out
	return r
}

func resultOf(r hooks.Result) any {
	if r.Response != nil {
		return *r.Response
	}
	return *r.Request
}

// groupHeaders groups header lines by lower-case name, in order of first appearance.
func groupHeaders(h hooks.Headers, fn func(lname string, lines []hooks.Header)) {
	done := make([]bool, len(h))
	for i := range h {
		if done[i] {
			continue
		}
		lname := lowerASCII(h[i].Name)
		j := i + 1
		for ; j < len(h); j++ {
			if strings.EqualFold(h[j].Name, lname) {
				break
			}
		}
		if j == len(h) {
			fn(lname, h[i:i+1])
			continue
		}
		var lines []hooks.Header
		for k := i; k < len(h); k++ {
			if !done[k] && strings.EqualFold(h[k].Name, lname) {
				lines = append(lines, h[k])
				done[k] = true
			}
		}
		fn(lname, lines)
	}
}
