package edge

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/vergecdn/verge/cache"
)

// notModified reports whether a viewer's conditional request is satisfied by the stored object
// (RFC 9110 13.1.2 and 13.1.3), so that a 304 can answer it. If-None-Match, when present,
// decides alone; If-Modified-Since is compared with Last-Modified. Header names are matched as
// browsers send them.
func notModified(h *fasthttp.RequestHeader, obj *cache.Object) bool {
	if inm := h.Peek("If-None-Match"); len(inm) > 0 {
		etag, ok := obj.Header("ETag")
		return ok && etagListMatches(inm, etag)
	}
	ims := h.Peek("If-Modified-Since")
	if len(ims) == 0 {
		return false
	}
	lm, ok := obj.Header("Last-Modified")
	if !ok {
		return false
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
