package jsruntime

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/vergecdn/verge/hooks"
)

func encodeCall(c *wireCall) []byte     { e := wenc{}; e.call(c); return e.b }
func encodeResult(r *wireResult) []byte { e := wenc{}; e.result(r); return e.b }

// TestWireRoundTrip encodes every corpus event (and results built from them) and checks that
// decoding gives deep-equal values, nil-versus-empty distinctions included.
func TestWireRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/corpus/*/event.json")
	if len(files) == 0 {
		t.Fatal("no events")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := ParseEvent(b, "")
		if err != nil {
			t.Fatal(err)
		}
		if ev.Request.Origin == nil {
			ev.Request.Origin = &hooks.Origin{S3: &hooks.S3Origin{DomainName: "b", CustomHeaders: hooks.Headers{}}}
		}
		c := wireCall{ID: 7, Program: 1 << 40, Deadline: -5, RequestID: "r", WantJSON: true, Event: ev}
		got, err := decodeCall(encodeCall(&c))
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Fatalf("%s: call round trip: %v\n%+v\n%+v", f, err, got, c)
		}
		r := wireResult{ID: 9, Result: hooks.Result{Request: ev.Request, Response: &hooks.Response{Status: 200, Body: []byte{}, BodySet: true}},
			Output: `{"a":"<b>"}`, Logs: []LogLine{{"INFO", "x"}}, HasErr: true, ErrKind: hooks.Timeout, ErrMsg: "m", Cold: true, InUse: 3, Idle: 1}
		gotR, err := decodeResult(encodeResult(&r))
		if err != nil || !reflect.DeepEqual(gotR, r) {
			t.Fatalf("%s: result round trip: %v\n%+v\n%+v", f, err, gotR, r)
		}
	}
}

// FuzzWireDecode: decoding arbitrary bytes never panics, and whatever decodes re-encodes to
// a value that decodes the same.
func FuzzWireDecode(f *testing.F) {
	ev := seedEvent(f, hooks.OriginRequest)
	f.Add(encodeCall(&wireCall{ID: 1, Event: ev}))
	f.Add(encodeCall(&wireCall{ID: 3, Program: 2, Deadline: 1, RequestID: "r", Event: ev}))
	f.Add(encodeResult(&wireResult{ID: 2, Result: hooks.Result{Request: ev.Request}, Logs: []LogLine{{"INFO", "x"}}}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if c, err := decodeCall(b); err == nil {
			c2, err := decodeCall(encodeCall(&c))
			if err != nil || !reflect.DeepEqual(c, c2) {
				t.Fatalf("call re-encode: %v", err)
			}
		}
		if r, err := decodeResult(b); err == nil {
			r2, err := decodeResult(encodeResult(&r))
			if err != nil || !reflect.DeepEqual(r, r2) {
				t.Fatalf("result re-encode: %v", err)
			}
		}
	})
}

// FuzzDecodeReply: whatever a worker (which runs untrusted code) writes as a reply frame, the
// node's decoding never panics, and a load answer keeps its id and typed syntax error.
func FuzzDecodeReply(f *testing.F) {
	f.Add(byte(frameLoaded), []byte(`{"id":3,"syntax":{"file":"index.js","line":2,"column":12,"message":"Unexpected token"}}`))
	f.Add(byte(frameLoaded), []byte(`{"id":1,"error":"boom"}`))
	f.Add(byte(frameResult), encodeResult(&wireResult{ID: 2, Logs: []LogLine{{"INFO", "x"}}}))
	f.Add(byte(frameKVS), []byte(`{}`))
	f.Fuzz(func(t *testing.T, typ byte, b []byte) {
		res, ok := decodeReply(typ, b)
		if !ok {
			return
		}
		switch typ {
		case frameLoaded:
			if res.Load == nil || res.Load.ID != res.ID {
				t.Fatalf("load answer %+v", res)
			}
		case frameResult:
			if res.Load != nil {
				t.Fatal("a result carries a load answer")
			}
		default:
			t.Fatalf("frame type %q decoded as a reply", typ)
		}
	})
}

// TestFrameReader: frames come out whole and in order however the reads cut them; the buffer
// starts small, grows while reads fill it, up to frameReadMax, and takes a frame larger than
// that whole.
func TestFrameReader(t *testing.T) {
	var stream bytes.Buffer
	var want []string
	for i := range 300 {
		body := strings.Repeat(strconv.Itoa(i%10), 1+i*7%500)
		if i == 150 {
			body = strings.Repeat("x", 3*frameReadMax) // larger than the buffer ever grows
		}
		want = append(want, body)
		if err := writeFrame(&stream, frameResult, body); err != nil {
			t.Fatal(err)
		}
	}
	for _, chunk := range []int{1, 7, 4096, 1 << 20} {
		f := frameReader{r: &chunkReader{b: stream.Bytes(), n: chunk}}
		for i, w := range want {
			typ, body, err := f.next()
			if err != nil {
				t.Fatalf("chunk %d, frame %d: %v", chunk, i, err)
			}
			var got string
			if typ != frameResult || json.Unmarshal(body, &got) != nil || got != w {
				t.Fatalf("chunk %d, frame %d: type %q, %d bytes, want %d", chunk, i, typ, len(got), len(w))
			}
		}
		if _, _, err := f.next(); err != io.EOF {
			t.Errorf("chunk %d: after the last frame: %v, want EOF", chunk, err)
		}
		switch {
		case chunk < 1024 && f.size != frameReadMin:
			t.Errorf("chunk %d: buffer size %d, want %d: small reads never fill it", chunk, f.size, frameReadMin)
		case chunk > frameReadMax && f.size != frameReadMax:
			t.Errorf("chunk %d: buffer size %d, want %d: reads fill it", chunk, f.size, frameReadMax)
		case f.size > frameReadMax:
			t.Errorf("chunk %d: buffer size %d, above %d", chunk, f.size, frameReadMax)
		}
	}
}

// chunkReader returns b at most n bytes per Read.
type chunkReader struct {
	b []byte
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.b)
	c.b = c.b[k:]
	return k, nil
}
