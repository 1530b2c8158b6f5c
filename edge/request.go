package edge

import (
	"bytes"

	"github.com/valyala/fasthttp"

	"github.com/vergecdn/verge/cache"
)

// viewerRequest lets the cache package read a fasthttp request without allocating. Header
// lookups ignore case: the server keeps header names as the viewer sent them.
type viewerRequest struct{ r *fasthttp.Request }

var _ cache.Request = (*viewerRequest)(nil)

func (v *viewerRequest) Host() []byte     { return v.r.Host() }
func (v *viewerRequest) Path() []byte     { return v.r.URI().PathOriginal() }
func (v *viewerRequest) RawQuery() []byte { return v.r.URI().QueryString() }
func (v *viewerRequest) Cookie(name string) []byte {
	return v.r.Header.Cookie(name)
}

// Header returns the first value of the named header.
func (v *viewerRequest) Header(name string) []byte {
	return peekFold(&v.r.Header, name)
}

// peekFold returns the first value of a request header, matching its name without regard to
// case.
func peekFold(h *fasthttp.RequestHeader, name string) []byte {
	for k, val := range h.All() {
		if len(k) == len(name) && bytes.EqualFold(k, []byte(name)) {
			return val
		}
	}
	return nil
}

// hasHeaderFold reports whether a request header is present, whatever the case of its name.
func hasHeaderFold(h *fasthttp.RequestHeader, name string) bool {
	return peekFold(h, name) != nil
}
