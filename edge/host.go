package edge

import (
	"bytes"

	"github.com/valyala/fasthttp"

	"github.com/vergecdn/verge/hostname"
)

// normalizeHost rewrites the request's host, once, into the form that routing, the cache key
// and a forwarded Host all use: lower case (fasthttp lower-cases it already), without the
// scheme's default port and without the trailing dot of a fully qualified name, so that
// "Example.com.:80" and "example.com" are one site and one set of objects. The URI and the
// Host header both change, so functions see the same host. It does not allocate once the
// request's buffers have grown.
func normalizeHost(r *fasthttp.Request, tls bool) {
	if !plainHost(r.Host(), r.Header.Host()) { // the usual case, on every hit: one pass over the bytes
		normalizeHostSlow(r, tls)
	}
}

// normalizeHostSlow is normalizeHost for a host that needs it.
func normalizeHostSlow(r *fasthttp.Request, tls bool) {
	host := r.Host()
	def := ":80"
	if tls {
		def = ":443"
	}
	name := hostname.Trim(host, def)
	if len(name) < len(host) || hasUpperASCII(host) { // a host fasthttp could not parse stays as sent
		r.URI().SetHostBytes(name) // lower-cases
	}
	// The header follows the URI: fasthttp lower-cases only the URI's copy, and a request
	// in absolute form names its host in the URI (RFC 9112 3.2.2).
	if !bytes.Equal(r.Header.Host(), r.URI().Host()) {
		r.Header.SetHostBytes(r.URI().Host())
	}
}

// plainHost reports whether host has nothing to normalize (no upper case, no port, no final
// dot) and the Host header says the same.
func plainHost(host, header []byte) bool {
	if len(header) != len(host) {
		return false
	}
	for i, c := range host {
		if c == ':' || 'A' <= c && c <= 'Z' || header[i] != c {
			return false
		}
	}
	return len(host) == 0 || host[len(host)-1] != '.'
}

func hasUpperASCII(b []byte) bool {
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			return true
		}
	}
	return false
}
