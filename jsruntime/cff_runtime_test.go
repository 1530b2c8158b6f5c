package jsruntime_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/jsruntime"
	"github.com/vergecdn/verge/kvs"
)

func cffRequest(t *testing.T, stage string) *hooks.Event {
	t.Helper()
	b, err := os.ReadFile("testdata/events/cff-viewer-response-full-example.json")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := jsruntime.ParseEvent(b, stage)
	if err != nil {
		t.Fatal(err)
	}
	if stage == "viewer-request" {
		ev.Response = nil
	}
	return ev
}

// TestCFFRuntime10Refuses checks that cloudfront-js-1.0 refuses what AWS's 1.0 refuses, with
// the line and a hint, and that 2.0 and the alias accept the same code.
func TestCFFRuntime10Refuses(t *testing.T) {
	for name, tt := range map[string]struct{ src, want string }{
		"const":       {"function handler(e) {\n  const r = e.request; return r }", "line 2:3: const"},
		"let":         {"function handler(e) { let r = e.request; return r }", "let is not supported"},
		"for let":     {"function handler(e) { for (let k in e.request.headers) {} return e.request }", "let is not supported"},
		"async":       {"async function handler(e) { return e.request }", "async function is not supported"},
		"async arrow": {"var f = async () => 1; function handler(e) { return e.request }", "async arrow function is not supported"},
		"import":      {"import crypto from 'crypto';\nfunction handler(e) { return e.request }", "need runtime cloudfront-js-2.0"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := jsruntime.New(jsruntime.Options{Runtime: jsruntime.RuntimeCloudFrontJS1, Code: jsruntime.SingleFile(tt.src)})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("1.0: err = %v, want %q", err, tt.want)
			}
			for _, rt := range []string{jsruntime.RuntimeCloudFrontJS2, jsruntime.RuntimeCloudFrontFunctions} {
				f, err := jsruntime.New(jsruntime.Options{Runtime: rt, Code: jsruntime.SingleFile(tt.src)})
				if err != nil {
					t.Fatalf("%s: %v", rt, err)
				}
				f.Close()
			}
		})
	}
	f, err := jsruntime.New(jsruntime.Options{Runtime: jsruntime.RuntimeCloudFrontJS1,
		Code: jsruntime.SingleFile("var crypto = require('crypto'); function handler(e) { var h = (x) => x; return h(e.request) }")})
	if err != nil {
		t.Fatalf("ES5 with an arrow function: %v", err)
	}
	f.Close()
	if _, err := jsruntime.New(jsruntime.Options{Runtime: "cloudfront-js-3.0", Code: jsruntime.SingleFile("function handler(e) {}")}); err == nil ||
		!strings.Contains(err.Error(), "cloudfront-js-1.0") {
		t.Fatalf("unknown runtime: %v", err)
	}
}

// TestCFFRuntime20 runs runtime 2.0 code: ES module imports of the built-ins, an async
// handler awaiting the store, rawQueryString and edgeLocation, in process and in a worker.
func TestCFFRuntime20(t *testing.T) {
	src := `import crypto from 'crypto';
import cf from 'cloudfront';
import qs from 'querystring';
import { Buffer } from 'buffer';
const kvs = cf.kvs();
async function handler(event) {
  const r = event.request;
  const v = await kvs.get('greeting');
  const j = await kvs.get('obj', {format: 'json'});
  const b = await kvs.get('greeting', {format: 'bytes'});
  let missing;
  try { await kvs.get('nope'); } catch (e) { missing = e.message; }
  const m = await kvs.meta();
  r.headers['x-v'] = {value: v + '|' + j.n + '|' + Buffer.isBuffer(b) + '|' + (await kvs.exists('nope')) + '|' + m.keyCount};
  r.headers['x-missing'] = {value: missing};
  r.headers['x-raw'] = {value: r.rawQueryString() + '|' + qs.stringify({a: 1})};
  r.headers['x-hash'] = {value: crypto.createHash('sha256').update('x').digest('hex').slice(0, 8)};
  r.headers['x-edge'] = {value: cf.edgeLocation.name};
  return r;
}`
	for _, iso := range []jsruntime.Isolation{jsruntime.InProcess, jsruntime.Process} {
		t.Run(iso.String(), func(t *testing.T) {
			stores, err := kvs.Open(t.TempDir(), kvs.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer stores.Close()
			if _, err := stores.Create("site", map[string]string{"greeting": "hello", "obj": `{"n":7}`}); err != nil {
				t.Fatal(err)
			}
			f, err := jsruntime.New(jsruntime.Options{Runtime: jsruntime.RuntimeCloudFrontJS2, Code: jsruntime.SingleFile(src), Isolation: iso,
				KVS:          &jsruntime.KeyValueStore{Name: "site", Snapshot: stores.Source("site")},
				EdgeLocation: jsruntime.EdgeLocation{Name: "FRA"},
				Worker:       jsruntime.WorkerOptions{Command: []string{os.Args[0]}, Env: []string{jsruntime.WorkerEnv + "=1"}}})
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			for i, want := range []string{"hello|7|true|false|2", "bonjour|7|true|false|3"} {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				res, err := f.Invoke(ctx, cffRequest(t, "viewer-request"))
				cancel()
				if err != nil {
					t.Fatal(err)
				}
				h := res.Request.Headers
				if got := h.Get("x-v"); got != want {
					t.Errorf("call %d: x-v = %q, want %q", i, got, want)
				}
				if got := h.Get("x-missing"); !strings.HasPrefix(got, "KeyNotFound") {
					t.Errorf("x-missing = %q", got)
				}
				if got := h.Get("x-raw"); got != "ID=42&Exp=1619740800&TTL=1440&NoValue=&querymv=val1&querymv=val2,val3|a=1" {
					t.Errorf("x-raw = %q", got)
				}
				if got := h.Get("x-hash"); got != "2d711642" {
					t.Errorf("x-hash = %q", got)
				}
				if got := h.Get("x-edge"); got != "FRA" {
					t.Errorf("x-edge = %q", got)
				}
				// A live update: the next call reads it without a redeploy.
				if _, err := stores.Import("site", map[string]string{"greeting": "bonjour", "extra": "1"}); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestCFFKVSNotAssociated checks cf.kvs() without a store, cf.kvs(id) with another id, and
// that the cloudfront module is 2.0's only.
func TestCFFKVSNotAssociated(t *testing.T) {
	for name, tt := range map[string]struct {
		runtime, src, want string
		store              *jsruntime.KeyValueStore
	}{
		"none":  {jsruntime.RuntimeCloudFrontJS2, "var cf = require('cloudfront'); function handler(e) { cf.kvs(); return e.request }", "KVSNamespaceNotFound", nil},
		"other": {jsruntime.RuntimeCloudFrontJS2, "var cf = require('cloudfront'); function handler(e) { cf.kvs('b'); return e.request }", "KVSNamespaceNotFound", &jsruntime.KeyValueStore{Name: "a"}},
		"1.0":   {jsruntime.RuntimeCloudFrontJS1, "function handler(e) { require('cloudfront'); return e.request }", "cloudfront-js-2.0", nil},
		"L@E":   {jsruntime.RuntimeLambdaEdge, "exports.handler = async (e) => { require('cloudfront'); return e.Records[0].cf.request }", "cloudfront-js-2.0", nil},
		// The modules' test for 2.0 does not see what user code puts on Object.prototype.
		"L@E, prototype": {jsruntime.RuntimeLambdaEdge, "Object.prototype.kvsName = () => 'x'; exports.handler = async (e) => { require('cloudfront'); return e.Records[0].cf.request }", "cloudfront-js-2.0", nil},
	} {
		t.Run(name, func(t *testing.T) {
			f, err := jsruntime.New(jsruntime.Options{Runtime: tt.runtime, Code: jsruntime.SingleFile(tt.src), KVS: tt.store})
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ev := cffRequest(t, "viewer-request")
			_, err = f.Invoke(context.Background(), ev)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestCFFDigestWithoutEncoding checks crypto's digest() with no encoding: a byte string (one
// character per byte) in runtime 1.0, a Buffer in 2.0.
func TestCFFDigestWithoutEncoding(t *testing.T) {
	src := `var crypto = require('crypto');
function handler(event) {
  var d = crypto.createHash('sha256').update('x').digest();
  event.request.headers['x-d'] = {value: typeof d + ' ' + d.length + ' ' + (typeof d === 'string' ? d.charCodeAt(0) : d[0])};
  return event.request;
}`
	for runtime, want := range map[string]string{
		jsruntime.RuntimeCloudFrontJS1: "string 32 45",
		jsruntime.RuntimeCloudFrontJS2: "object 32 45",
	} {
		f, err := jsruntime.New(jsruntime.Options{Runtime: runtime, Code: jsruntime.SingleFile(src)})
		if err != nil {
			t.Fatal(err)
		}
		res, err := f.Invoke(context.Background(), cffRequest(t, "viewer-request"))
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Request.Headers.Get("x-d"); got != want {
			t.Errorf("%s: %q, want %q", runtime, got, want)
		}
	}
}
