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

// newNatives builds the object of Go helpers the embedded JS modules call. Everything it
// exposes is a plain function over copied values: no Go object reaches JS by reflection.
func (v *vm) newNatives() *goja.Object {
	rt := v.rt
	n := rt.NewObject()
	set := func(name string, f func(goja.FunctionCall) goja.Value) { _ = n.Set(name, f) }

	set("bufEncode", func(c goja.FunctionCall) goja.Value {
		return rt.ToValue(encodeBytes(bytesArg(rt, c.Argument(0)), c.Argument(1).String()))
	})
	set("bufDecode", func(c goja.FunctionCall) goja.Value {
		return rt.ToValue(rt.NewArrayBuffer(decodeString(c.Argument(0).String(), c.Argument(1).String())))
	})
	set("bufByteLength", func(c goja.FunctionCall) goja.Value {
		return rt.ToValue(byteLength(c.Argument(0).String(), c.Argument(1).String()))
	})
	set("newHash", func(c goja.FunctionCall) goja.Value {
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
	})
	set("randomFill", func(c goja.FunctionCall) goja.Value {
		_, _ = rand.Read(bytesArg(rt, c.Argument(0)))
		return goja.Undefined()
	})
	set("timingSafeEqual", func(c goja.FunctionCall) goja.Value {
		return rt.ToValue(subtle.ConstantTimeCompare(bytesArg(rt, c.Argument(0)), bytesArg(rt, c.Argument(1))) == 1)
	})
	set("validUTF8", func(c goja.FunctionCall) goja.Value {
		return rt.ToValue(utf8.Valid(bytesArg(rt, c.Argument(0))))
	})
	set("lenientUnescape", func(c goja.FunctionCall) goja.Value {
		return rt.ToValue(lenientUnescape(c.Argument(0).String()))
	})
	set("whatwgURL", func(goja.FunctionCall) goja.Value {
		m := rt.NewObject()
		_ = m.Set("exports", rt.NewObject())
		nodeurl.Require(rt, m)
		return m.Get("exports")
	})
	set("now", func(goja.FunctionCall) goja.Value { return rt.ToValue(time.Now().UnixMilli()) })
	set("monoNanos", func(goja.FunctionCall) goja.Value { return rt.ToValue(time.Since(procStart).Nanoseconds()) })
	set("cwd", func(goja.FunctionCall) goja.Value { return rt.ToValue("/var/task") })
	set("log", func(c goja.FunctionCall) goja.Value {
		v.logs.add(c.Argument(0).String(), c.Argument(1).String())
		return goja.Undefined()
	})
	v.cloudFrontNatives(set)
	set("timer", v.loop.jsSet)
	set("clearTimer", v.loop.jsClear)
	return n
}

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
