package cache

import "strings"

// keptOnRefresh are the stored fields a 304 does not replace (RFC 9111 3.2): Content-Length
// and the fields that describe the stored body's encoding or part, which a 304 says nothing
// about, and Vary, under which the object is stored.
var keptOnRefresh = []string{"Content-Length", "Content-Encoding", "Content-Range", "Vary"}

// UpdateHeaders returns the header fields of a stored response updated by a 304 Not Modified
// that validated it (RFC 9111 4.3.4 and 3.2): every field the 304 carries replaces the stored
// fields of that name, but for keptOnRefresh and the fields never stored (hop-by-hop, Age,
// Set-Cookie: NewObject drops them). stored is not modified; the order is the stored fields
// left, then the 304's.
func UpdateHeaders(stored, notModified []Header) []Header {
	replaced := func(name string) bool {
		for _, h := range notModified {
			if strings.EqualFold(h.Name, name) {
				return true
			}
		}
		return false
	}
	out := make([]Header, 0, len(stored)+len(notModified))
	for _, h := range stored {
		if isKeptOnRefresh(h.Name) || !replaced(h.Name) {
			out = append(out, h)
		}
	}
	for _, h := range notModified {
		if !isKeptOnRefresh(h.Name) {
			out = append(out, h)
		}
	}
	return out
}

func isKeptOnRefresh(name string) bool {
	for _, k := range keptOnRefresh {
		if strings.EqualFold(name, k) {
			return true
		}
	}
	return false
}

// Validators returns the stored response's ETag and Last-Modified ("" when absent), the
// values a revalidation sends as If-None-Match and If-Modified-Since (RFC 9111 4.3.1).
func (o *Object) Validators() (etag, lastModified string) {
	etag, _ = o.Header("ETag")
	lastModified, _ = o.Header("Last-Modified")
	return etag, lastModified
}
