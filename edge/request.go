package edge

import (
	"bytes"

	"github.com/valyala/fasthttp"

	"github.com/vergecdn/verge/cache"
)

// viewerRequest lets the cache package read a fasthttp request without allocating. Header
// lookups ignore case: the server keeps header names as the viewer sent them.
type viewerRequest struct {
	r   *fasthttp.Request
	buf []byte // a header's lines joined, when it has several
}

var _ cache.Request = (*viewerRequest)(nil)

func (v *viewerRequest) Host() []byte     { return v.r.Host() }
func (v *viewerRequest) Path() []byte     { return v.r.URI().PathOriginal() }
func (v *viewerRequest) RawQuery() []byte { return v.r.URI().QueryString() }
func (v *viewerRequest) Cookie(name string) []byte {
	return v.r.Header.Cookie(name)
}

// Header returns the value of the named header, its lines joined with ", " when it has
// several (RFC 9110 5.3), so that a key holds every line the origin gets. The join is made in
// v's buffer, valid until the next call.
func (v *viewerRequest) Header(name string) []byte {
	var first []byte
	lines := 0
	for k, val := range v.r.Header.All() {
		if len(k) != len(name) || !bytes.EqualFold(k, []byte(name)) {
			continue
		}
		switch lines++; lines {
		case 1:
			first = val
		case 2:
			v.buf = append(append(append(v.buf[:0], first...), ", "...), val...)
		default:
			v.buf = append(append(v.buf, ", "...), val...)
		}
	}
	if lines > 1 {
		return v.buf
	}
	return first
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
