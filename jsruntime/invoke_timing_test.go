package jsruntime_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/vergecdn/verge/jsruntime"
)

// headerFn is the benchmark function: a viewer-response hook that adds one header.
const headerFn = `exports.handler = async (event) => {
  const response = event.Records[0].cf.response;
  response.headers['x-powered-by'] = [{ key: 'X-Powered-By', value: 'verge' }];
  return response;
};`

func benchInvoke(b *testing.B, iso jsruntime.Isolation) {
	o := jsruntime.Options{Name: "bench", Code: jsruntime.SingleFile(headerFn), Isolation: iso, MinWarm: 4}
	if iso == jsruntime.Process {
		o.Worker = jsruntime.WorkerOptions{Command: []string{os.Args[0]}, Env: []string{jsruntime.WorkerEnv + "=1"}}
	}
	f, err := jsruntime.New(o)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	ev := loadEvent(b, "lambda-edge-viewer-response.json")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Invoke(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWarmInvoke: one warm in-process invocation of a header-adding viewer-response hook,
// event building and result decoding included.
func BenchmarkWarmInvoke(b *testing.B) { benchInvoke(b, jsruntime.InProcess) }

// BenchmarkWarmInvokeProcess: the same through a worker process (Process isolation).
func BenchmarkWarmInvokeProcess(b *testing.B) { benchInvoke(b, jsruntime.Process) }

// BenchmarkWarmInvokeParallel: in-process invocations from all Ps at once.
func BenchmarkWarmInvokeParallel(b *testing.B) {
	f, err := jsruntime.New(jsruntime.Options{Code: jsruntime.SingleFile(headerFn), MinWarm: 4})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	ev := loadEvent(b, "lambda-edge-viewer-response.json")
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := f.Invoke(context.Background(), ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkColdStart: a new version's first request: compile, a fresh runtime with the
// built-ins, the module's top-level code, and the first invocation.
func BenchmarkColdStart(b *testing.B) {
	ev := loadEvent(b, "lambda-edge-viewer-response.json")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		f, err := jsruntime.New(jsruntime.Options{Version: strconv.Itoa(i), Code: jsruntime.SingleFile(headerFn)})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Invoke(context.Background(), ev); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
