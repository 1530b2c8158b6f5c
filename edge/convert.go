package edge

import (
	"slices"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/vergecdn/verge/cache"
	"github.com/vergecdn/verge/hooks"
)

// Conversions between fasthttp's messages and the neutral model functions see. They copy:
// nothing a function receives points into fasthttp's reused buffers.

// requestOf builds the hooks.Request of r, without the headers functions must not see.
func requestOf(r *fasthttp.Request, clientIP string) *hooks.Request {
	hr := &hooks.Request{
		ClientIP:    clientIP,
		Method:      string(r.Header.Method()),
		URI:         string(r.URI().PathOriginal()),
		QueryString: string(r.URI().QueryString()),
	}
	for k, v := range r.Header.All() {
		if name := string(k); !hooks.IsDisallowed(name) {
			hr.Headers = append(hr.Headers, hooks.Header{Name: name, Value: string(v)})
		}
	}
	return hr
}

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
	if !slices.Equal(in.Headers, out.Headers) {
		for _, h := range in.Headers {
			dst.Header.Del(h.Name) // names came from dst itself: exact case
		}
		for _, h := range out.Headers {
			dst.Header.Add(h.Name, h.Value)
		}
	}
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

// viewerResponseOf builds the hooks.Response about to go to the viewer.
func viewerResponseOf(r *fasthttp.Response) *hooks.Response {
	hr := &hooks.Response{Status: r.StatusCode(), StatusDescription: statusText(r)}
	for k, v := range r.Header.All() {
		if name := string(k); !hooks.IsDisallowed(name) {
			hr.Headers = append(hr.Headers, hooks.Header{Name: name, Value: string(v)})
		}
	}
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
	if !slices.Equal(in.Headers, out.Headers) {
		for _, h := range in.Headers {
			dst.Header.Del(h.Name)
		}
		for _, h := range out.Headers {
			dst.Header.Add(h.Name, h.Value)
		}
	}
	if out.BodySet {
		dst.SetBody(out.Body)
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
		dst.Header.Add(h.Name, h.Value)
	}
	dst.SetBodyRaw(body)
}

func statusText(r *fasthttp.Response) string {
	if m := r.Header.StatusMessage(); len(m) > 0 {
		return string(m)
	}
	return fasthttp.StatusMessage(r.StatusCode())
}
