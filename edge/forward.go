package edge

import (
	"bytes"
	"slices"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/vergecdn/verge/cache"
	"github.com/vergecdn/verge/origin"
)

// forwarding decides what a cacheable request carries to the origin: what the behavior's
// cache policy puts in the key, and, for a request that bypasses the shared cache, what its
// origin request policy adds (CloudFront's model). Nothing else reaches the origin, so nothing
// the origin could reflect into a stored answer (a query parameter, a cookie, a header) is
// missing from the key that answer is stored under. Requests the cache never stores (other
// methods, ranges) pass untouched. A forwarding is read-only once built.
type forwarding struct {
	key *cache.Policy // the behavior's cache policy
	// extra is what origin_request forwards beyond the key: QueryStrings and QueryNames, and
	// Headers and Cookies, none of them in the key. A request carrying any of it bypasses.
	extra      cache.Policy
	allHeaders bool // every header (but reflected ones) is forwarded; Authorization bypasses
	allCookies bool // every cookie is forwarded; a request with any cookie bypasses
	// extraAny: anything at all is forwarded beyond the key, so that bypasses has to look at
	// the request (checked on every hit, before the call).
	extraAny bool
}

// reflectedHeaders name what origins and frameworks read as the request's own host, scheme,
// URL or method, and so echo into links, redirects and routing. The edge forwards them only
// when they are in the key, even when origin_request says "all". (X-Forwarded-Proto is the
// edge's own, set from the viewer's scheme, which is in every key: see Server.serve.)
// A name is compared with '_' read as '-': CGI-style servers (PHP, WSGI, nginx with underscores
// allowed) read X_Forwarded_Host as X-Forwarded-Host.
var reflectedHeaders = []string{
	"X-Forwarded-Host", "X-Original-URL", "X-Rewrite-URL", "X-HTTP-Method-Override",
	"Forwarded", "X-Forwarded-Port", "X-Forwarded-Prefix", "X-Forwarded-Scheme", "X-Forwarded-Server",
	"X-Forwarded-Ssl", "X-Host", "X-Original-Host", "X-Original-Method", "X-HTTP-Method", "X-Method-Override",
	"X-Url-Scheme", "Front-End-Https",
}

// bodyHeaders describe a request body, which a cacheable request does not forward: a GET's
// body is not in the key.
var bodyHeaders = []string{"Content-Length", "Content-Type", "Content-Encoding", "Transfer-Encoding"}

// newForwarding compiles a behavior's origin request policy against its cache policy key.
func newForwarding(key *cache.Policy, c OriginRequestConfig) forwarding {
	f := forwarding{key: key, allHeaders: c.Headers.All, allCookies: c.Cookies.All}
	f.extra.QueryStrings, f.extra.QueryNames = queryModeOf(c.QueryStrings)
	for _, h := range c.Headers.Names {
		if !slices.ContainsFunc(key.Headers, func(k string) bool { return strings.EqualFold(k, h) }) {
			f.extra.Headers = append(f.extra.Headers, h)
		}
	}
	for _, c := range c.Cookies.Names {
		if !slices.Contains(key.Cookies, c) {
			f.extra.Cookies = append(f.extra.Cookies, c)
		}
	}
	f.extraAny = f.allHeaders || f.allCookies || len(f.extra.Headers) > 0 || len(f.extra.Cookies) > 0 ||
		f.extra.QueryStrings != cache.QueryNone
	return f
}

// bypasses reports whether the request carries something forwarded beyond the key: then it
// is neither answered from nor stored in the shared cache unless the origin says its answer is
// public. pre holds what one pass over the header lines found. It does not allocate.
func (f *forwarding) bypasses(r *fasthttp.Request, pre *preconditions) bool {
	if !f.extraAny {
		return false
	}
	if f.allHeaders && pre.auth || f.allCookies && pre.cookie {
		return true
	}
	for _, h := range f.extra.Headers {
		if peekFold(&r.Header, h) != nil {
			return true
		}
	}
	if pre.cookie {
		for _, c := range f.extra.Cookies {
			if r.Header.Cookie(c) != nil {
				return true
			}
		}
	}
	if f.extra.QueryStrings != cache.QueryNone {
		for rest := r.URI().QueryString(); len(rest) > 0; {
			var name []byte
			var hasValue bool
			name, _, hasValue, rest = cache.NextParam(rest)
			if f.extra.KeepsParam(name, hasValue) && !f.key.KeepsParam(name, hasValue) {
				return true
			}
		}
	}
	return false
}

// restrict makes req, a copy of the viewer's request view, carry only what may reach the
// origin: the keyed query parameters, headers and cookies, and, when bypass, those the
// origin request policy adds. The conditional and Range headers go too (the cache wants
// whole objects), and so does any body.
func (f *forwarding) restrict(req, view *fasthttp.Request, bypass bool) {
	target := append([]byte(nil), view.URI().PathOriginal()...)
	sep := byte('?')
	query := view.URI().QueryString()
	if f.key.QueryStrings == cache.QueryAll || bypass && f.extra.QueryStrings == cache.QueryAll {
		// As the key holds it: byte for byte, empty parameters and order included.
		if len(query) > 0 {
			target = append(append(target, sep), query...)
		}
		query = nil
	}
	for rest := query; len(rest) > 0; {
		param := rest
		if i := bytes.IndexByte(rest, '&'); i >= 0 {
			param = rest[:i]
		}
		name, _, hasValue, next := cache.NextParam(rest)
		rest = next
		if f.key.KeepsParam(name, hasValue) || bypass && f.extra.KeepsParam(name, hasValue) {
			target = append(append(target, sep), param...)
			sep = '&'
		}
	}
	req.SetRequestURIBytes(target)

	origin.DelFieldsFunc(&req.Header, func(name []byte) bool { return !f.forwards(name, bypass) })
	req.ResetBody()
	if !(bypass && f.allCookies) {
		lists := [][]string{f.key.Cookies}
		if bypass {
			lists = append(lists, f.extra.Cookies)
		}
		var keep [][2][]byte
		for _, list := range lists {
			for _, c := range list {
				if v := view.Header.Cookie(c); v != nil {
					keep = append(keep, [2][]byte{[]byte(c), v})
				}
			}
		}
		req.Header.DelAllCookies()
		for _, kv := range keep {
			req.Header.SetCookieBytesKV(kv[0], kv[1])
		}
	}
}

// forwards reports whether a header line named name reaches the origin (Cookie lines are
// rebuilt apart, Host is the origin's to set).
func (f *forwarding) forwards(name []byte, bypass bool) bool {
	switch {
	case equalFoldAny(name, "Host", "Cookie", "Via", "X-Forwarded-For"):
		return true
	case equalFoldList(name, conditionalHeaders), equalFoldList(name, bodyHeaders):
		return false
	case equalFoldList(name, f.key.Headers):
		return true
	case reflected(name):
		return false
	case f.allHeaders:
		return true
	}
	return bypass && equalFoldList(name, f.extra.Headers)
}

// reflected reports whether name is one of reflectedHeaders, '_' read as '-'.
func reflected(name []byte) bool {
	if bytes.IndexByte(name, '_') < 0 {
		return equalFoldList(name, reflectedHeaders)
	}
	var buf [64]byte
	if len(name) > len(buf) {
		return false // longer than any of them
	}
	n := copy(buf[:], name)
	for i := range n {
		if buf[i] == '_' {
			buf[i] = '-'
		}
	}
	return equalFoldList(buf[:n], reflectedHeaders)
}

func equalFoldAny(name []byte, list ...string) bool { return equalFoldList(name, list) }

func equalFoldList(name []byte, list []string) bool {
	for _, s := range list {
		if len(s) == len(name) && bytes.EqualFold(name, []byte(s)) {
			return true
		}
	}
	return false
}
