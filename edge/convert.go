package edge

import (
	"slices"
	"strings"
	"unsafe"

	"github.com/valyala/fasthttp"

	"github.com/vergecdn/verge/cache"
	"github.com/vergecdn/verge/hooks"
)

// Conversions between fasthttp's messages and the neutral model functions see. They copy:
// nothing a function receives points into fasthttp's reused buffers.

// requestOf builds the hooks.Request of r, without the headers functions must not see.
func requestOf(r *fasthttp.Request, clientIP string) *hooks.Request {
	return requestInto(&hooks.Request{}, r, clientIP)
}

// requestInto is requestOf into hr, whose Headers' capacity it reuses; the rest of hr is
// overwritten. The strings are new: a function may keep them.
func requestInto(hr *hooks.Request, r *fasthttp.Request, clientIP string) *hooks.Request {
	path, qs := r.URI().PathOriginal(), r.URI().QueryString()
	a := newArena(len(r.Header.Method()) + len(path) + len(qs) + len(r.Header.RawHeaders()))
	*hr = hooks.Request{
		ClientIP:    clientIP,
		Method:      a.str(r.Header.Method()),
		URI:         a.str(path),
		QueryString: a.str(qs),
		Headers:     hr.Headers[:0],
	}
	hr.Headers = appendHeaders(slices.Grow(hr.Headers, r.Header.Len()), &a, r.Header.All())
	return hr
}

// appendHeaders appends the lines of all that functions may see, their strings cut from a.
func appendHeaders(out hooks.Headers, a *arena, all func(yield func(k, v []byte) bool)) hooks.Headers {
	for k, v := range all {
		if !hooks.IsDisallowed(b2s(k)) {
			out = append(out, hooks.Header{Name: a.str(k), Value: a.str(v)})
		}
	}
	return out
}

// arena hands out strings copied into one buffer, so that converting a message costs two
// allocations instead of two per header line. Each string's bytes are written once and never
// again, which is what makes sharing them as strings sound.
type arena struct{ buf []byte }

// newArena makes an arena for about n bytes; it grows if the guess is short.
func newArena(n int) arena { return arena{buf: make([]byte, 0, n)} }

func (a *arena) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(a.buf)+len(b) > cap(a.buf) {
		a.buf = make([]byte, 0, max(2*cap(a.buf), len(b)))
	}
	start := len(a.buf)
	a.buf = append(a.buf, b...)
	return unsafe.String(&a.buf[start], len(b))
}

// b2s views b as a string for the duration of a call that does not keep it.
func b2s(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// withBody attaches r's body to hr, truncated at limit bytes.
func withBody(hr *hooks.Request, r *fasthttp.Request, limit int) {
	body := r.Body()
	b := &hooks.Body{InputTruncated: len(body) > limit}
	if b.InputTruncated {
		body = body[:limit]
	}
	b.Data = slices.Clone(body)
	hr.Body = b
}

// applyRequest writes the changes a function made (out, from in) onto dst.
func applyRequest(dst *fasthttp.Request, in, out *hooks.Request) {
	if out.URI != in.URI || out.QueryString != in.QueryString {
		uri := out.URI
		if out.QueryString != "" {
			uri += "?" + out.QueryString
		}
		dst.SetRequestURI(uri)
	}
	applyHeaders(&dst.Header, in.Headers, out.Headers)
	if out.Body != nil && out.Body.Replace {
		dst.SetBody(out.Body.Data)
	}
}

// hooksHeaders converts stored headers to the neutral model, leaving out disallowed ones.
func hooksHeaders(hs []cache.Header) hooks.Headers {
	out := make(hooks.Headers, 0, len(hs))
	for _, h := range hs {
		if !hooks.IsDisallowed(h.Name) {
			out = append(out, hooks.Header(h))
		}
	}
	return out
}

// cacheHeaders converts neutral headers back.
func cacheHeaders(hs hooks.Headers) []cache.Header {
	out := make([]cache.Header, len(hs))
	for i, h := range hs {
		out[i] = cache.Header(h)
	}
	return out
}

// responseHeaders copies a fasthttp response's headers.
func responseHeaders(r *fasthttp.Response) []cache.Header {
	var out []cache.Header
	for k, v := range r.Header.All() {
		out = append(out, cache.Header{Name: string(k), Value: string(v)})
	}
	return out
}

// viewerResponseInto builds into hr the hooks.Response about to go to the viewer, reusing its
// Headers' capacity, as requestInto.
func viewerResponseInto(hr *hooks.Response, r *fasthttp.Response) *hooks.Response {
	n := 0
	for k, v := range r.Header.All() {
		n += len(k) + len(v)
	}
	a := newArena(n)
	*hr = hooks.Response{Status: r.StatusCode(), StatusDescription: statusText(r), Headers: hr.Headers[:0]}
	hr.Headers = appendHeaders(slices.Grow(hr.Headers, r.Header.Len()), &a, r.Header.All())
	return hr
}

// applyResponse writes a function's changes (out, from in) onto dst.
func applyResponse(dst *fasthttp.Response, in, out *hooks.Response) {
	if out.Status != in.Status {
		dst.SetStatusCode(out.Status)
	}
	if out.StatusDescription != in.StatusDescription {
		dst.Header.SetStatusMessage([]byte(out.StatusDescription))
	}
	applyHeaders(&dst.Header, in.Headers, out.Headers)
	if out.BodySet {
		dst.SetBody(out.Body)
	}
}

// headerSet is what applyHeaders needs of fasthttp's request and response headers.
type headerSet interface {
	Del(name string)
	Add(name, value string)
}

// applyHeaders turns dst's lines from in into out. Functions mostly add headers: when out is in
// with lines appended, only those are written; otherwise every name of in is deleted (names
// came from dst itself, in their exact case) and out is written whole.
func applyHeaders(dst headerSet, in, out hooks.Headers) {
	if added, ok := out.AppendedTo(in); ok {
		for _, h := range added {
			dst.Add(h.Name, h.Value)
		}
		return
	}
	for _, h := range in {
		dst.Del(h.Name)
	}
	for _, h := range out {
		dst.Add(h.Name, h.Value)
	}
}

// writeGenerated writes a response a function generated.
func writeGenerated(dst *fasthttp.Response, r *hooks.Response) {
	dst.SetStatusCode(r.Status)
	if r.StatusDescription != "" {
		dst.Header.SetStatusMessage([]byte(r.StatusDescription))
	}
	for _, h := range r.Headers {
		dst.Header.Add(h.Name, h.Value)
	}
	dst.SetBody(r.Body)
}

// writeStored writes status, headers and body; body is not copied and must stay unchanged
// (cached bodies are immutable). It allocates nothing once dst's buffers have grown.
func writeStored(dst *fasthttp.Response, status int, headers []cache.Header, body []byte) {
	dst.SetStatusCode(status)
	for i := range headers {
		h := &headers[i]
		if strings.EqualFold(h.Name, "Content-Length") {
			continue // fasthttp frames the body itself
		}
		if cache.ForThisCache(h.Name) {
			continue // NewObject leaves these out of stored objects, too
		}
		dst.Header.Add(h.Name, h.Value)
	}
	dst.SetBodyRaw(body)
}

// wireHeader encodes status and headers as the viewer server's responses carry them, once
// per stored object (cache.Object.Wire), and says about how many bytes that holds. A hit
// copies it with writeObject: a memmove per line instead of Add's checks, normalisation and
// two copies. That took a hit in the handler from 590 to 420 ns (go test ./edge -bench
// 'Hit$') and 0.2-0.8 us off the 7 a 1 KiB hit costs the server under wrk on the bench VM.
//
// undated is a header from undatedHeader: parsed into a copy of it, the lines keep the stored
// Date for the hit (date.go). Lines that do not parse are added one by one instead, and the
// hit then gets fasthttp's Date.
func wireHeader(undated *fasthttp.ResponseHeader, status int, headers []cache.Header) (*fasthttp.ResponseHeader, int) {
	size := wireOverhead
	lines := make([]cache.Header, 0, len(headers))
	for i := range headers {
		if !strings.EqualFold(headers[i].Name, "Content-Length") {
			lines = append(lines, headers[i])
			size += wireLineOverhead + len(headers[i].Name) + len(headers[i].Value)
		}
	}
	h := new(fasthttp.ResponseHeader)
	undated.CopyTo(h)
	// The viewer server's settings for every response (New in server.go), which CopyTo carries.
	h.DisableNormalizing()
	h.SetNoDefaultContentType(true)
	if parseInto(h, status, lines) == nil {
		// Parsing left the length unknown, so the body "until close": the hit's body sets it.
		h.SetContentLength(0)
		h.ResetConnectionClose()
		return h, size
	}
	h = new(fasthttp.ResponseHeader)
	h.DisableNormalizing()
	h.SetNoDefaultContentType(true)
	h.SetStatusCode(status)
	for _, kv := range lines {
		h.Add(kv.Name, kv.Value)
	}
	return h, size
}

// The memory a wireHeader holds besides its names and values: the ResponseHeader itself
// (376 bytes on amd64) and, per line, fasthttp's key-value record (two slices and a flag).
const (
	wireOverhead     = 384
	wireLineOverhead = 56
)

// writeObject writes a stored object as writeStored does, from its encoded header if it has one.
func writeObject(dst *fasthttp.Response, obj *cache.Object) {
	h, ok := obj.Wire.(*fasthttp.ResponseHeader)
	if !ok {
		writeStored(dst, obj.Status, obj.Headers, obj.Body)
		return
	}
	h.CopyTo(&dst.Header)
	dst.SetBodyRaw(obj.Body)
}

func statusText(r *fasthttp.Response) string {
	if m := r.Header.StatusMessage(); len(m) > 0 {
		return string(m)
	}
	return fasthttp.StatusMessage(r.StatusCode())
}
