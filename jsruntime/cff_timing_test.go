package jsruntime_test

import (
	"context"
	"testing"

	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/jsruntime"
	"github.com/vergecdn/verge/kvs"
)

// benchCFF measures one warm in-process invocation of a CloudFront function on a viewer
// request with five headers, event building and result decoding included.
func benchCFF(b *testing.B, runtime, src string, store *jsruntime.KeyValueStore) {
	f, err := jsruntime.New(jsruntime.Options{Runtime: runtime, Code: jsruntime.SingleFile(src), KVS: store, MinWarm: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	ev := &hooks.Event{Stage: hooks.ViewerRequest, Request: &hooks.Request{ClientIP: "198.51.100.11", Method: "GET", URI: "/index.html",
		Headers: hooks.Headers{{Name: "Host", Value: "www.example.com"}, {Name: "User-Agent", Value: "Mozilla/5.0"},
			{Name: "Accept", Value: "text/html"}, {Name: "Accept-Encoding", Value: "gzip, br"}, {Name: "Accept-Language", Value: "en"}}}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Invoke(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCFFWarmInvoke: a trivial CloudFront function (adds one header) in runtime 1.0.
func BenchmarkCFFWarmInvoke(b *testing.B) {
	benchCFF(b, jsruntime.RuntimeCloudFrontJS1, `function handler(event) {
  var request = event.request;
  request.headers['x-edge'] = { value: 'verge' };
  return request;
}`, nil)
}

// BenchmarkCFFWarmInvokeKVS: the same in runtime 2.0, async, with one KeyValueStore read.
func BenchmarkCFFWarmInvokeKVS(b *testing.B) {
	snap := kvs.SnapshotOf("site", map[string]string{"edge": "verge"})
	benchCFF(b, jsruntime.RuntimeCloudFrontJS2, `import cf from 'cloudfront';
const store = cf.kvs();
async function handler(event) {
  const request = event.request;
  request.headers['x-edge'] = { value: await store.get('edge') };
  return request;
}`, &jsruntime.KeyValueStore{Name: "site", Snapshot: func() *kvs.Snapshot { return snap }})
}
