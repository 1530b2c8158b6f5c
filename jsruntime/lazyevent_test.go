package jsruntime_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/jsruntime"
)

// invokeAll runs src on each event in turn in one warm runtime (MinWarm 1, one at a time).
func invokeAll(t *testing.T, src string, evs ...*hooks.Event) []hooks.Result {
	t.Helper()
	f, err := jsruntime.New(jsruntime.Options{Name: "lazy", Code: jsruntime.SingleFile(src), MinWarm: 1, MaxConcurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []hooks.Result
	for i, ev := range evs {
		res, err := f.Invoke(context.Background(), ev)
		if err != nil {
			t.Fatalf("invocation %d: %v", i+1, err)
		}
		out = append(out, res)
	}
	return out
}

// TestEventKeptAcrossInvocations: a function may keep the event in a global and read or
// return it in a later invocation (a warm runtime keeps its globals); what it then sees is the
// first event, whatever the pipeline did with that event's memory since.
func TestEventKeptAcrossInvocations(t *testing.T) {
	first := loadEvent(t, "lambda-edge-viewer-request.json")
	second := loadEvent(t, "lambda-edge-viewer-request.json")
	second.Request.URI = "/second"
	second.Request.Headers = hooks.Headers{{Name: "Host", Value: "second.example"}}
	const src = `let kept;
exports.handler = async (event) => {
  if (!kept) { kept = event; return event.Records[0].cf.request; }
  return kept.Records[0].cf.request;
};`
	firstHeaders := first.Request.Headers.Clone()
	res := invokeAll(t, src, first, second)
	// The pipeline reuses its events' memory once an invocation is over.
	first.Request.URI = "/clobbered"
	first.Request.Headers[0] = hooks.Header{Name: "X-Clobbered", Value: "1"}
	if res[1].Request.URI != "/" || !reflect.DeepEqual(res[1].Request.Headers, firstHeaders) {
		t.Fatalf("second invocation returned %q %v, want the first event's / %v", res[1].Request.URI, res[1].Request.Headers, firstHeaders)
	}
}

// TestEventFieldsDeletedAndReplaced: fields deleted, re-added and replaced read back as JS
// left them; those left alone read back as the event had them.
func TestEventFieldsDeletedAndReplaced(t *testing.T) {
	ev := loadEvent(t, "lambda-edge-origin-request.json")
	res := invokeAll(t, `exports.handler = async (event) => {
  const r = event.Records[0].cf.request;
  delete r.uri;
  r.uri = '/re-added';
  delete r.querystring;
  r.headers = { host: r.headers.host };
  return r;
};`, ev)[0]
	r := res.Request
	if r.URI != "/re-added" || r.QueryString != "" || len(r.Headers) != 1 || r.Headers[0].Name != "Host" {
		t.Fatalf("got uri %q querystring %q headers %v", r.URI, r.QueryString, r.Headers)
	}
	if r.Method != ev.Request.Method || !reflect.DeepEqual(r.Origin, ev.Request.Origin) {
		t.Fatalf("untouched fields: method %q origin %+v, want %q %+v", r.Method, r.Origin, ev.Request.Method, ev.Request.Origin)
	}
}

// TestUntouchedRequestIsACopy: a request returned as it came back holds the event's values
// but shares no memory with the event.
func TestUntouchedRequestIsACopy(t *testing.T) {
	ev := loadEvent(t, "lambda-edge-origin-request.json")
	ev.Request.Body = &hooks.Body{Data: []byte("hello")}
	res := invokeAll(t, `exports.handler = async (event) => event.Records[0].cf.request;`, ev)[0]
	r := res.Request
	if !reflect.DeepEqual(r.Headers, ev.Request.Headers) || !reflect.DeepEqual(r.Origin, ev.Request.Origin) ||
		r.Body == nil || string(r.Body.Data) != "hello" || r.Body.Replace {
		t.Fatalf("got %+v, want the event's request", r)
	}
	if r.Origin == ev.Request.Origin || r.Origin.Custom == ev.Request.Origin.Custom || &r.Headers[0] == &ev.Request.Headers[0] {
		t.Fatal("the result shares memory with the event")
	}
}
