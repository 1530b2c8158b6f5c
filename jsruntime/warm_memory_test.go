package jsruntime_test

import (
	"runtime"
	"testing"

	"github.com/vergecdn/verge/jsruntime"
)

// BenchmarkWarmRuntimeHeap measures the live Go heap a function's warm runtimes hold (issue
// 15 asks for at most 64 KiB per runtime beyond the first): the heap after two collections
// around a New with MinWarm 1, and then another with 1+extra, for a small Lambda@Edge
// handler and a CloudFront Functions 2.0 one, in process. It reports the first runtime's
// bytes (with the compiled program) and each extra one's.
//
//	go test -run XXX -bench WarmRuntimeHeap -benchtime 5x ./jsruntime
func BenchmarkWarmRuntimeHeap(b *testing.B) {
	for _, c := range []struct{ name, runtime, src string }{
		{"lambda-edge", "", `exports.handler = async (event) => { const r = event.Records[0].cf.request; if (r.uri === '/page') r.uri = '/1k.bin'; return r; };`},
		{"cloudfront-js-2.0", jsruntime.RuntimeCloudFrontJS2, `function handler(event) { return event.request; }`},
		{"cloudfront-js-1.0", jsruntime.RuntimeCloudFrontJS1, `function handler(event) { return event.request; }`},
	} {
		b.Run(c.name, func(b *testing.B) {
			const extra = 100
			newFn := func(warm int) *jsruntime.Function {
				f, err := jsruntime.New(jsruntime.Options{Code: jsruntime.SingleFile(c.src), Runtime: c.runtime, MinWarm: warm, MaxConcurrency: warm})
				if err != nil {
					b.Fatal(err)
				}
				return f
			}
			newFn(1).Close() // compile the embedded modules first: they are the process's, not a function's
			var first, per float64
			for b.Loop() {
				h0 := liveHeap()
				one := newFn(1)
				h1 := liveHeap()
				many := newFn(1 + extra)
				h2 := liveHeap()
				first += float64(h1) - float64(h0)
				per += (float64(h2) - float64(h1) - (float64(h1) - float64(h0))) / extra
				one.Close()
				many.Close()
			}
			b.ReportMetric(first/float64(b.N), "B/first-runtime")
			b.ReportMetric(per/float64(b.N), "B/extra-runtime")
		})
	}
}

// liveHeap returns the bytes of live heap objects after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
