package cache

import (
	"strings"
	"time"
)

// Freshness decides whether a response may be stored by a shared cache and
// for how long (its freshness lifetime), with CloudFront's TTL semantics on
// top of RFC 9111:
//
//   - only GET and HEAD responses are stored, and never 1xx, 206 (the store
//     keeps whole bodies only) or 304, nor the errors a request provokes
//     rather than its URL (400, 413, 414, 431, 501: one viewer's oversized
//     or malformed request must not become everyone's answer);
//   - Cache-Control no-store or private (qualified or not), or Vary: *,
//     means never stored;
//   - with reqHasAuth (the request carried Authorization), the response is
//     stored only if it says public, s-maxage or must-revalidate (RFC 9111 3.5);
//   - a response with Set-Cookie is stored only if it says public or
//     s-maxage (NewObject then leaves Set-Cookie out of the stored headers);
//   - no-cache means TTL 0: a 200 with a validator is stored stale, to be
//     revalidated on each use; anything else is not stored;
//   - explicit freshness is s-maxage, else max-age, else Expires minus Date
//     (minus now when Date is missing or invalid); an invalid Expires means
//     already expired (RFC 9111 5.3). It is clamped to [p.MinTTL, p.MaxTTL];
//   - without explicit freshness, p.DefaultTTL applies, but only to the
//     heuristically cacheable statuses (200 203 204 300 301 308 404 405 410;
//     RFC 9110 15.1 less those a request provokes, which storableStatus
//     refuses); other statuses need explicit freshness. When
//     DefaultTTL is 0 and p.Heuristic is set, those statuses and responses
//     marked public get a tenth of their age since Last-Modified instead, at
//     most MaxHeuristic (RFC 9111 4.2.2).
//
// The directives are those of CDN-Cache-Control when the response has one
// (RFC 9213: a field targeted at CDNs, which then replaces Cache-Control and
// Expires), else of Cache-Control; see Directives. Of several Expires lines
// the first counts.
//
// When store is false, ttl is 0. A zero TTL is stored only for a no-cache
// response with a validator (ETag or Last-Modified): it is stale at once, so
// every use revalidates it, and a 304 costs no body. A malformed
// Cache-Control directive is ignored, the others still apply, but a no-store,
// no-cache or private among its words still counts; a max-age or s-maxage
// that is not a number of seconds makes the response stale (RFC 9111 4.2.1).
// A nil p is the zero Policy, which stores nothing (MaxTTL 0). Safe for
// concurrent use.
func Freshness(method string, status int, respHeaders []Header, reqHasAuth bool, now time.Time, p *Policy) (ttl time.Duration, store bool) {
	if p == nil {
		p = &Policy{}
	}
	if method != "GET" && method != "HEAD" || !storableStatus(status) {
		return 0, false
	}
	var (
		expires, date, lastModified     string
		hasExpires, hasDate, hasLastMod bool
		setCookie, hasETag              bool
	)
	cc, targeted := Directives(respHeaders)
	for _, h := range respHeaders {
		switch {
		case strings.EqualFold(h.Name, "Expires"):
			if !hasExpires { // the first line wins (RFC 9111 4.2.1)
				expires, hasExpires = h.Value, true
			}
		case strings.EqualFold(h.Name, "Date"):
			if !hasDate {
				date, hasDate = h.Value, true
			}
		case strings.EqualFold(h.Name, "Last-Modified"):
			if !hasLastMod {
				lastModified, hasLastMod = h.Value, true
			}
		case strings.EqualFold(h.Name, "Set-Cookie"):
			setCookie = true
		case strings.EqualFold(h.Name, "ETag"):
			hasETag = true
		case strings.EqualFold(h.Name, "Vary"):
			if varyStar(h.Value) {
				return 0, false
			}
		}
	}
	switch {
	case cc.MustUnderstand && !understoodStatus(status):
		return 0, false
	case cc.NoStore && !cc.MustUnderstand, cc.Private:
		return 0, false
	case reqHasAuth && !cc.Public && !cc.HasSMaxAge && !cc.MustRevalidate:
		return 0, false
	case setCookie && !cc.Public && !cc.HasSMaxAge:
		return 0, false
	case cc.NoCache:
		// Stored stale from the start, to be revalidated on every use (RFC 9111 5.2.2.4):
		// worth it only with a validator, and only a 200 is revalidated.
		return 0, status == 200 && (hasETag || hasLastMod)
	}

	switch {
	case cc.HasSMaxAge:
		ttl = p.clamp(cc.SMaxAge)
	case cc.HasMaxAge:
		ttl = p.clamp(cc.MaxAge)
	case hasExpires && !targeted: // a targeted field replaces Expires too (RFC 9213 2.1)
		ttl = p.clamp(expiresLifetime(expires, date, now))
	case heuristicallyCacheable(status) && (p.DefaultTTL > 0 || !p.Heuristic):
		ttl = p.clamp(p.DefaultTTL)
	case p.Heuristic && p.DefaultTTL == 0 && hasLastMod && (heuristicallyCacheable(status) || cc.Public):
		ttl = p.clamp(heuristicLifetime(lastModified, date, now))
	default:
		return 0, false
	}
	if ttl <= 0 {
		return 0, false
	}
	return ttl, true
}

// Directives returns the cache directives a shared CDN cache obeys in a
// response's headers: those of CDN-Cache-Control when it has that field
// (RFC 9213), with targeted set, else those of Cache-Control. Every line of
// the field counts. A CDN-Cache-Control that is not a valid Structured Field
// Dictionary, in any of its lines, is ignored (RFC 9213 2.1; see
// validTargeted). It does not allocate.
func Directives(headers []Header) (cc CacheControl, targeted bool) {
	for _, h := range headers {
		if strings.EqualFold(h.Name, "CDN-Cache-Control") {
			if !validTargeted(h.Value) {
				targeted = false
				break
			}
			targeted = true
		}
	}
	if targeted {
		for _, h := range headers {
			if strings.EqualFold(h.Name, "CDN-Cache-Control") {
				cc.Parse(h.Value)
			}
		}
		return cc, true
	}
	for _, h := range headers {
		if strings.EqualFold(h.Name, "Cache-Control") {
			cc.Parse(h.Value)
		}
	}
	return cc, false
}

// MaxHeuristic caps a heuristic freshness lifetime: however old the object, the cache asks
// the origin again within a day.
const MaxHeuristic = 24 * time.Hour

// heuristicLifetime is a tenth of the time between Last-Modified and Date (now when Date is
// missing or invalid), at most MaxHeuristic (RFC 9111 4.2.2); 0 when Last-Modified is not a
// valid HTTP-date in the past.
func heuristicLifetime(lastModified, date string, now time.Time) time.Duration {
	lm, ok := parseHTTPDate(lastModified, now)
	if !ok {
		return 0
	}
	at := dateOr(date, now)
	if !lm.Before(at) {
		return 0
	}
	return min(at.Sub(lm)/10, MaxHeuristic).Truncate(time.Second)
}

// clamp bounds an explicit freshness lifetime to [MinTTL, MaxTTL].
func (p *Policy) clamp(d time.Duration) time.Duration {
	return min(max(d, p.MinTTL), p.MaxTTL)
}

// expiresLifetime is Expires minus Date, or minus now when Date is missing
// or invalid (RFC 9111 4.2.1); an invalid Expires is already expired.
func expiresLifetime(expires, date string, now time.Time) time.Duration {
	exp, ok := parseHTTPDate(expires, now)
	if !ok {
		return 0
	}
	return max(0, exp.Sub(dateOr(date, now)))
}

// dateOr is the response's Date, or now when it is missing or invalid.
func dateOr(date string, now time.Time) time.Time {
	if d, ok := parseHTTPDate(date, now); ok {
		return d
	}
	return now
}

// storableStatus reports whether a response with status may be stored at
// all: final, not partial content, not a 304 to a conditional request, not
// an error that says something about the request rather than the resource.
func storableStatus(status int) bool {
	switch status {
	case 206, 304, 400, 413, 414, 431, 501:
		return false
	}
	return status >= 200 && status <= 599
}

// heuristicallyCacheable reports whether status may use the default TTL
// without explicit freshness (RFC 9110 15.1, less 206 which is not stored).
func heuristicallyCacheable(status int) bool {
	switch status {
	case 200, 203, 204, 300, 301, 308, 404, 405, 410:
		return true
	}
	return false
}

// understoodStatus reports whether this cache implements the caching rules of status, so
// that must-understand lets it store a response with it despite no-store (RFC 9111 5.2.2.3).
func understoodStatus(status int) bool {
	switch status {
	case 200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410:
		return true
	}
	return false
}

// varyStar reports whether a Vary value lists "*".
func varyStar(v string) bool {
	for v != "" {
		item := v
		if i := strings.IndexByte(v, ','); i >= 0 {
			item, v = v[:i], v[i+1:]
		} else {
			v = ""
		}
		if strings.TrimSpace(item) == "*" {
			return true
		}
	}
	return false
}
