package jsruntime

import (
	"context"
	"testing"
	"time"

	"github.com/vergecdn/verge/hooks"
)

// BenchmarkPhases splits a warm invocation into its parts.
func BenchmarkPhases(b *testing.B) {
	o := (&Options{Code: SingleFile(`exports.handler = async (event) => {
  const response = event.Records[0].cf.response;
  response.headers['x-powered-by'] = [{ key: 'X-Powered-By', value: 'verge' }];
  return response;
};`)}).withDefaults()
	p, err := compile(o)
	if err != nil {
		b.Fatal(err)
	}
	v, err := newVM(p, false)
	if err != nil {
		b.Fatal(err)
	}
	ev := seedEvent(b, hooks.ViewerResponse)
	b.Run("event", func(b *testing.B) {
		for b.Loop() {
			_, _ = leBinding{}.event(v, ev)
		}
	})
	evVal, _ := leBinding{}.event(v, ev)
	resp := evVal.ToObject(v.rt).Get("Records").ToObject(v.rt).Get("0").ToObject(v.rt).Get("cf").ToObject(v.rt).Get("response")
	b.Run("result", func(b *testing.B) {
		for b.Loop() {
			_, _ = decodeLambdaEdge(v.rt, ev, resp)
		}
	})
	b.Run("call", func(b *testing.B) {
		for b.Loop() {
			_, _ = v.handler(nil, evVal)
		}
	})
	b.Run("invoke", func(b *testing.B) {
		lim := hooks.DefaultLimits(hooks.LambdaEdge, ev.Stage)
		for b.Loop() {
			out := v.invoke(context.Background(), &call{ev: ev, lim: lim, deadline: time.Now().Add(time.Second), requestID: "x"})
			if out.err != nil {
				b.Fatal(out.err)
			}
		}
	})
}
