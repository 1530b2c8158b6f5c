package edge

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/vergecdn/verge/cache"
)

// preconditions are the request headers a hit depends on, found in one pass over the header
// lines, whatever the case of their names (the server keeps names as the viewer sent them, so
// fasthttp's Peek, which matches exactly, would miss "range" or "if-none-match").
type preconditions struct {
	rng, inm, ims []byte // Range, If-None-Match, If-Modified-Since: the first of each
	ifRange       []byte // If-Range
	auth, cookie  bool   // Authorization and Cookie are present (see forwarding.bypasses)
}

func preconditionsOf(h *fasthttp.RequestHeader) (p preconditions) {
	for k, v := range h.All() {
		switch {
		case len(k) == 6 && bytes.EqualFold(k, []byte("Cookie")):
			p.cookie = true
		case len(k) == 13 && bytes.EqualFold(k, []byte("Authorization")):
			p.auth = true
		case len(k) == 5 && p.rng == nil && bytes.EqualFold(k, []byte("Range")):
			p.rng = v
		case len(k) == 8 && p.ifRange == nil && bytes.EqualFold(k, []byte("If-Range")):
			p.ifRange = v
		case len(k) == 13 && p.inm == nil && bytes.EqualFold(k, []byte("If-None-Match")):
			p.inm = v
		case len(k) == 17 && p.ims == nil && bytes.EqualFold(k, []byte("If-Modified-Since")):
			p.ims = v
		}
	}
	return p
}

// notModified reports whether a viewer's conditional request is satisfied by the stored object
// (RFC 9110 13.1.2 and 13.1.3), so that a 304 can answer it. If-None-Match, when present,
// decides alone; If-Modified-Since is compared with Last-Modified, or, without one, with the
// stored Date (RFC 9111 4.3.2).
func notModified(p preconditions, obj *cache.Object) bool {
	if inm := p.inm; len(inm) > 0 {
		etag, ok := obj.Header("ETag")
		return ok && etagListMatches(inm, etag)
	}
	ims := p.ims
	if len(ims) == 0 {
		return false
	}
	lm, ok := obj.Header("Last-Modified")
	if !ok {
		if lm, ok = obj.Header("Date"); !ok {
			return false
		}
	}
	since, err1 := http.ParseTime(string(ims))
	modified, err2 := http.ParseTime(lm)
	return err1 == nil && err2 == nil && !modified.After(since)
}

// etagListMatches is If-None-Match's weak comparison: "*" or any listed tag equal to etag once
// W/ prefixes are dropped.
func etagListMatches(list []byte, etag string) bool {
	etag = strings.TrimPrefix(etag, "W/")
	for len(list) > 0 {
		var item []byte
		item, list, _ = bytes.Cut(list, []byte(","))
		item = bytes.TrimSpace(item)
		if string(item) == "*" || string(bytes.TrimPrefix(item, []byte("W/"))) == etag {
			return true
		}
	}
	return false
}

// notModifiedHeaders are the stored headers a 304 repeats (RFC 9110 15.4.5).
var notModifiedHeaders = []string{"Cache-Control", "Content-Location", "ETag", "Expires", "Vary", "Last-Modified", "Via"}

// writeNotModified answers with 304 and the headers RFC 9110 asks a 304 to carry.
func writeNotModified(dst *fasthttp.Response, obj *cache.Object) {
	dst.SetStatusCode(fasthttp.StatusNotModified)
	for i := range obj.Headers {
		h := &obj.Headers[i]
		for _, name := range notModifiedHeaders {
			if strings.EqualFold(h.Name, name) {
				dst.Header.Add(h.Name, h.Value)
				break
			}
		}
	}
}
