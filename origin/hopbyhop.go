package origin

import (
	"bytes"
	"iter"
	"strings"

	"github.com/valyala/fasthttp"
)

// hopByHop lists the header fields that describe one connection rather than
// the message, so a proxy must not forward them (RFC 9110, section 7.6.1),
// plus the fields RFC 9110 and RFC 9112 tie to a single hop.
var hopByHop = [...]string{
	"Connection",          // RFC 9110 7.6.1: connection options; also names further hop-by-hop fields
	"Keep-Alive",          // RFC 9110 7.6.1 (from RFC 2068): keep-alive parameters
	"Proxy-Connection",    // RFC 9110 7.6.1: non-standard Connection sent by old clients to proxies
	"Proxy-Authenticate",  // RFC 9110 11.7.1: challenge from the proxy itself
	"Proxy-Authorization", // RFC 9110 11.7.2: credentials for the proxy itself
	"TE",                  // RFC 9110 10.1.4: transfer codings this hop accepts
	"Trailer",             // RFC 9110 6.6.2: announces trailer fields of a chunked body on this hop
	"Transfer-Encoding",   // RFC 9112 6.1: the framing of this hop; the next hop frames anew
	"Upgrade",             // RFC 9110 7.8: protocol switch of this connection
}

// IsHopByHop reports whether the header field name (any case) is one of the
// fixed hop-by-hop fields of RFC 9110 section 7.6.1. Fields a message names
// in its Connection header are hop-by-hop too; StripHopByHopRequest and
// StripHopByHopResponse remove those as well.
func IsHopByHop(name string) bool {
	for _, h := range hopByHop {
		if len(name) == len(h) && strings.EqualFold(name, h) {
			return true
		}
	}
	return false
}

// StripHopByHopRequest removes from h every hop-by-hop field: those of
// IsHopByHop (any case) and those named in Connection. It works whether or
// not h normalizes header names.
func StripHopByHopRequest(h *fasthttp.RequestHeader) {
	stripHopByHop(h)
	h.ResetConnectionClose()
}

// StripHopByHopResponse is StripHopByHopRequest for a response header.
func StripHopByHopResponse(h *fasthttp.ResponseHeader) {
	stripHopByHop(h)
	h.ResetConnectionClose()
}

// header is what the request and response headers of fasthttp share.
type header interface {
	All() iter.Seq2[[]byte, []byte]
	DelBytes(key []byte)
	AddBytesKV(key, value []byte)
}

// DelFieldsFunc removes every field of h for whose name drop reports true, keeping the other
// fields in order. Use it instead of fasthttp's Del, which moves the last field into the place
// of the one it deletes and so reorders the lines of repeated fields (RFC 9110 5.3 forbids a
// proxy to). drop must not retain the name it is given.
func DelFieldsFunc(h *fasthttp.RequestHeader, drop func(name []byte) bool) {
	delFields(h, drop)
}

// managed lists the fields fasthttp keeps outside its ordered list of lines (it writes them
// first, in an order of its own), so that deleting others cannot move them.
var managed = []string{"Host", "Content-Length", "Content-Type", "Content-Encoding", "User-Agent",
	"Cookie", "Set-Cookie", "Server", "Date", "Trailer", "Transfer-Encoding"}

// delFields removes from h the fields drop reports, keeping the others in order: when it
// removes any, it takes out the remaining ordered lines and adds them back as they were.
func delFields(h header, drop func(name []byte) bool) {
	var dropped [][]byte
	for k := range h.All() {
		if drop(k) {
			dropped = append(dropped, bytes.Clone(k)) // k is reused by fasthttp
		}
	}
	if len(dropped) == 0 {
		return
	}
	var keep [][2][]byte
	for k, v := range h.All() {
		if !drop(k) && !containsFold(managed, k) {
			keep = append(keep, [2][]byte{bytes.Clone(k), bytes.Clone(v)})
		}
	}
	for _, k := range dropped {
		h.DelBytes(k)
	}
	for _, kv := range keep {
		h.DelBytes(kv[0])
	}
	for _, kv := range keep {
		h.AddBytesKV(kv[0], kv[1])
	}
}

func stripHopByHop(h header) {
	// Tokens of every Connection field, e.g. "keep-alive, X-Foo".
	var named []string
	for k, v := range h.All() {
		if !asciiEqualFold(k, "Connection") {
			continue
		}
		for tok := range bytes.SplitSeq(v, []byte{','}) {
			if tok = bytes.TrimSpace(tok); len(tok) > 0 {
				named = append(named, string(tok))
			}
		}
	}
	delFields(h, func(k []byte) bool { return isHopByHopBytes(k) || containsFold(named, k) })
}

func isHopByHopBytes(name []byte) bool {
	for _, h := range hopByHop {
		if asciiEqualFold(name, h) {
			return true
		}
	}
	return false
}

func containsFold(list []string, name []byte) bool {
	for _, s := range list {
		if asciiEqualFold(name, s) {
			return true
		}
	}
	return false
}

// asciiEqualFold compares a header name with s, ignoring ASCII case,
// without converting b to a string.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if lowerASCII(b[i]) != lowerASCII(s[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
