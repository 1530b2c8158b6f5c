package jsruntime

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dop251/goja"
	nodeurl "github.com/dop251/goja_nodejs/url"
)

// nativeHelper is a Go helper the embedded JS modules call through their natives object.
// Everything one exposes is a plain function over copied values: no Go object reaches JS by
// reflection.
type nativeHelper struct {
	name string
	fn   func(v *vm, c goja.FunctionCall) goja.Value
	// only, when set, is the one runtime whose modules may call it: the others' natives
	// object does not have it.
	only string
}

// nativeHelpers are the helpers of every runtime. They are shared: a runtime makes a
// helper's function object only when its modules first read it (nativesObject), since a goja
// function object is one of the larger things a runtime holds and most functions call few of
// the helpers.
var nativeHelpers = append([]nativeHelper{
	{name: "bufEncode", fn: func(v *vm, c goja.FunctionCall) goja.Value {
		return v.rt.ToValue(encodeBytes(bytesArg(v.rt, c.Argument(0)), c.Argument(1).String()))
	}},
	{name: "bufDecode", fn: func(v *vm, c goja.FunctionCall) goja.Value {
		return v.rt.ToValue(v.rt.NewArrayBuffer(decodeString(c.Argument(0).String(), c.Argument(1).String())))
	}},
	{name: "bufByteLength", fn: func(v *vm, c goja.FunctionCall) goja.Value {
		return v.rt.ToValue(byteLength(c.Argument(0).String(), c.Argument(1).String()))
	}},
	{name: "newHash", fn: func(v *vm, c goja.FunctionCall) goja.Value {
		rt := v.rt
		alg := strings.ToLower(c.Argument(0).String())
		mk := hashes[alg]
		if mk == nil {
			panic(rt.NewGoError(errorString("Digest method not supported")))
		}
		var h hash.Hash
		if k := c.Argument(1); goja.IsUndefined(k) {
			h = mk()
		} else {
			h = hmac.New(mk, append([]byte(nil), bytesArg(rt, k)...))
		}
		return hashObject(rt, h)
	}},
	{name: "randomFill", fn: func(v *vm, c goja.FunctionCall) goja.Value {
		_, _ = rand.Read(bytesArg(v.rt, c.Argument(0)))
		return goja.Undefined()
	}},
	{name: "timingSafeEqual", fn: func(v *vm, c goja.FunctionCall) goja.Value {
		return v.rt.ToValue(subtle.ConstantTimeCompare(bytesArg(v.rt, c.Argument(0)), bytesArg(v.rt, c.Argument(1))) == 1)
	}},
	{name: "validUTF8", fn: func(v *vm, c goja.FunctionCall) goja.Value {
		return v.rt.ToValue(utf8.Valid(bytesArg(v.rt, c.Argument(0))))
	}},
	{name: "lenientUnescape", fn: func(v *vm, c goja.FunctionCall) goja.Value {
		return v.rt.ToValue(lenientUnescape(c.Argument(0).String()))
	}},
	{name: "whatwgURL", fn: func(v *vm, _ goja.FunctionCall) goja.Value {
		m := v.rt.NewObject()
		_ = m.Set("exports", v.rt.NewObject())
		nodeurl.Require(v.rt, m)
		return m.Get("exports")
	}},
	{name: "now", fn: func(v *vm, _ goja.FunctionCall) goja.Value { return v.rt.ToValue(time.Now().UnixMilli()) }},
	{name: "monoNanos", fn: func(v *vm, _ goja.FunctionCall) goja.Value {
		return v.rt.ToValue(time.Since(procStart).Nanoseconds())
	}},
	{name: "cwd", fn: func(v *vm, _ goja.FunctionCall) goja.Value { return v.rt.ToValue("/var/task") }},
	{name: "log", fn: func(v *vm, c goja.FunctionCall) goja.Value {
		v.logs.add(c.Argument(0).String(), c.Argument(1).String())
		return goja.Undefined()
	}},
	{name: "timer", fn: func(v *vm, c goja.FunctionCall) goja.Value { return v.loop.jsSet(c) }},
	{name: "clearTimer", fn: func(v *vm, c goja.FunctionCall) goja.Value { return v.loop.jsClear(c) }},
}, cloudFrontNatives...)

// nativeIndex finds a helper in nativeHelpers by name.
var nativeIndex = func() map[string]int {
	m := make(map[string]int, len(nativeHelpers))
	for i, h := range nativeHelpers {
		m[h.name] = i
	}
	return m
}()

// nativesObject is one runtime's natives object, the argument through which the embedded
// modules reach nativeHelpers: a goja.DynamicObject that makes a helper's function object on
// its first read and keeps it. Only the embedded modules ever hold it, and they only read it.
type nativesObject struct {
	v   *vm
	fns []goja.Value // by index in nativeHelpers; nil until first read
}

var _ goja.DynamicObject = (*nativesObject)(nil)

// newNatives returns v's natives object. It has no prototype: a name it lacks (kvsName outside
// CloudFront Functions 2.0) must read as undefined, not as whatever user code put on
// Object.prototype, which would switch the modules that test for it.
func (v *vm) newNatives() *goja.Object {
	n := v.rt.NewDynamicObject(&nativesObject{v: v, fns: make([]goja.Value, len(nativeHelpers))})
	_ = n.SetPrototype(nil)
	return n
}

// lookup returns the index of the helper named key, if v's runtime has it.
func (n *nativesObject) lookup(key string) (int, bool) {
	i, ok := nativeIndex[key]
	if !ok || nativeHelpers[i].only != "" && nativeHelpers[i].only != n.v.p.opts.Runtime {
		return 0, false
	}
	return i, true
}

func (n *nativesObject) Get(key string) goja.Value {
	if key == "require" {
		return n.v.require // for the built-in modules: a CloudFront function's global is narrower
	}
	i, ok := n.lookup(key)
	if !ok {
		return nil
	}
	if n.fns[i] == nil {
		v, fn := n.v, nativeHelpers[i].fn
		n.fns[i] = v.rt.ToValue(func(c goja.FunctionCall) goja.Value { return fn(v, c) })
	}
	return n.fns[i]
}

func (n *nativesObject) Has(key string) bool {
	_, ok := n.lookup(key)
	return ok
}

func (n *nativesObject) Keys() []string {
	var keys []string
	for _, h := range nativeHelpers {
		if _, ok := n.lookup(h.name); ok {
			keys = append(keys, h.name)
		}
	}
	return keys
}

// Set and Delete refuse: the modules never change their natives.
func (n *nativesObject) Set(string, goja.Value) bool { return false }
func (n *nativesObject) Delete(string) bool          { return false }

var procStart = time.Now()

type errorString string

func (e errorString) Error() string { return string(e) }

var hashes = map[string]func() hash.Hash{
	"md5": md5.New, "sha1": sha1.New, "sha224": sha256.New224, "sha256": sha256.New,
	"sha384": sha512.New384, "sha512": sha512.New,
	"rsa-md5": md5.New, "rsa-sha1": sha1.New, "rsa-sha256": sha256.New, "rsa-sha512": sha512.New,
}

// hashObject wraps h as {update(u8), digest() -> ArrayBuffer, copy()}.
func hashObject(rt *goja.Runtime, h hash.Hash) *goja.Object {
	o := rt.NewObject()
	_ = o.Set("update", func(c goja.FunctionCall) goja.Value {
		h.Write(bytesArg(rt, c.Argument(0)))
		return goja.Undefined()
	})
	_ = o.Set("digest", func(goja.FunctionCall) goja.Value {
		return rt.ToValue(rt.NewArrayBuffer(h.Sum(nil)))
	})
	_ = o.Set("copy", func(goja.FunctionCall) goja.Value {
		type cloner interface{ Clone() (hash.Hash, error) }
		if c, ok := h.(cloner); ok {
			if h2, err := c.Clone(); err == nil {
				return hashObject(rt, h2)
			}
		}
		panic(rt.NewTypeError("hash copy is not supported for this algorithm"))
	})
	return o
}

// bytesArg returns the bytes a Uint8Array (or other view) argument covers, sharing its memory.
func bytesArg(rt *goja.Runtime, v goja.Value) []byte {
	switch x := v.Export().(type) {
	case []byte:
		return x
	case goja.ArrayBuffer:
		return x.Bytes()
	case string:
		return []byte(x)
	}
	panic(rt.NewTypeError("expected a Buffer, TypedArray or string"))
}

func encodeBytes(b []byte, enc string) string {
	switch enc {
	case "hex":
		return hex.EncodeToString(b)
	case "base64":
		return base64.StdEncoding.EncodeToString(b)
	case "base64url":
		return base64.RawURLEncoding.EncodeToString(b)
	case "latin1":
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r)
	case "ascii":
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c & 0x7f)
		}
		return string(r)
	case "utf16le":
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
		}
		return string(utf16.Decode(u))
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func decodeString(s, enc string) []byte {
	switch enc {
	case "hex":
		return decodeHexLenient(s)
	case "base64", "base64url":
		return decodeBase64Lenient(s)
	case "latin1", "ascii":
		out := make([]byte, 0, len(s))
		for _, r := range utf16.Encode([]rune(s)) {
			out = append(out, byte(r))
		}
		return out
	case "utf16le":
		u := utf16.Encode([]rune(s))
		out := make([]byte, 2*len(u))
		for i, c := range u {
			out[2*i], out[2*i+1] = byte(c), byte(c>>8)
		}
		return out
	}
	return []byte(s)
}

func byteLength(s, enc string) int {
	switch enc {
	case "hex":
		return len(s) / 2
	case "base64", "base64url":
		return len(decodeBase64Lenient(s))
	case "latin1", "ascii":
		return len(utf16.Encode([]rune(s)))
	case "utf16le":
		return 2 * len(utf16.Encode([]rune(s)))
	}
	return len(s)
}
