package jsruntime

import (
	"bufio"
	"bytes"
	"testing"
	"time"

	"github.com/vergecdn/verge/hooks"
)

// BenchmarkWireCodec: one call frame and one result frame, encoded and decoded (both sides).
func BenchmarkWireCodec(b *testing.B) {
	ev := seedEvent(b, hooks.ViewerResponse)
	res := hooks.Result{Response: ev.Response.Clone()}
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		_ = writeBinaryFrame(&buf, frameCall, func(e *wenc) {
			e.call(&wireCall{ID: 1, Event: ev, Deadline: time.Now().UnixNano(), RequestID: "x"})
		})
		_ = writeBinaryFrame(&buf, frameResult, func(e *wenc) { e.result(&wireResult{ID: 1, Result: res}) })
		br := bufio.NewReader(&buf)
		_, body, _ := readFrame(br)
		_, _ = decodeCall(body)
		_, body, _ = readFrame(br)
		_, _ = decodeResult(body)
	}
}
