package jsruntime_test

import (
	"context"
	"testing"

	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/jsruntime"
)

// TestHeaderKeyCase runs the AWS guide's "Overriding a response header" example, which copies
// {key: 'X-Amz-Meta-Last-Modified'} under last-modified: the object's name decides the header,
// and key supplies its case only when the two agree.
func TestHeaderKeyCase(t *testing.T) {
	f, err := jsruntime.New(jsruntime.Options{Code: jsruntime.SingleFile(`'use strict';
exports.handler = (event, context, callback) => {
  const response = event.Records[0].cf.response;
  const headerNameSrc = 'X-Amz-Meta-Last-Modified';
  const headerNameDst = 'Last-Modified';
  if (response.headers[headerNameSrc.toLowerCase()]) {
    response.headers[headerNameDst.toLowerCase()] = [response.headers[headerNameSrc.toLowerCase()][0]];
  }
  response.headers['x-case'] = [{key: 'X-CASE', value: 'kept'}];
  callback(null, response);
};`)})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ev := &hooks.Event{Stage: hooks.OriginResponse,
		Request: &hooks.Request{Method: "GET", URI: "/", Headers: hooks.Headers{{Name: "Host", Value: "d.example"}}},
		Response: &hooks.Response{Status: 200, Headers: hooks.Headers{
			{Name: "X-Amz-Meta-Last-Modified", Value: "Thu, 01 Jan 2015 00:00:00 GMT"},
			{Name: "Last-Modified", Value: "Wed, 01 Jan 2020 00:00:00 GMT"},
		}}}
	res, err := f.Invoke(context.Background(), ev)
	if err == nil {
		err = hooks.Validate(hooks.LambdaEdge, ev, res, hooks.Limits{}.WithDefaults(hooks.LambdaEdge, ev.Stage))
	}
	if err != nil {
		t.Fatal(err)
	}
	want := hooks.Headers{
		{Name: "X-Amz-Meta-Last-Modified", Value: "Thu, 01 Jan 2015 00:00:00 GMT"},
		{Name: "Last-Modified", Value: "Thu, 01 Jan 2015 00:00:00 GMT"},
		{Name: "X-CASE", Value: "kept"},
	}
	if got := res.Response.Headers; len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("headers %+v, want %+v", got, want)
	}
}
