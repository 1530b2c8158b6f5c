package edge

import (
	"bytes"

	"github.com/valyala/fasthttp"
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
	n := len(host)
	for prev := -1; n != prev; { // "a.:80." and ":." take more than one round
		prev = n
		for _, port := range [...]string{def, ":"} { // an empty port is the default one too
			if name, ok := bytes.CutSuffix(host[:n], []byte(port)); ok && (bytes.IndexByte(name, ':') < 0 || bytes.HasSuffix(name, []byte("]"))) {
				n = len(name)
				break
			}
		}
		for n > 1 && host[n-1] == '.' {
			n--
		}
	}
	if n < len(host) || hasUpperASCII(host) { // a host fasthttp could not parse stays as sent
		r.URI().SetHostBytes(host[:n]) // lower-cases
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
