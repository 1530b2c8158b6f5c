package cache

import (
	"iter"
	"slices"
	"strings"
	"time"
)

// Header is one header line; Name keeps the case the origin sent.
type Header struct{ Name, Value string }

// Object is a cached response. It is immutable once passed to Store.Set, so
// it is safe to share between goroutines; callers must not modify it, its
// slices or its Body after that point.
type Object struct {
	Key        string        // full cache key (set by Set if empty); used to verify hash hits
	Path       string        // request path, for purge patterns
	Host       string        // request host as the edge normalised it, for purges of one site
	Status     int           // HTTP status code; 0 marks a Vary marker (see Insert), never served
	Headers    []Header      // end-to-end headers as stored (no hop-by-hop, no Age, no Set-Cookie)
	Body       []byte        // the full response body
	Stored     time.Time     // response_time (RFC 9111 4.2.3)
	InitialAge time.Duration // corrected_initial_age (RFC 9111 4.2.3), from the origin's Age/Date
	TTL        time.Duration // freshness lifetime
	Vary       []string      // lower-case header names from the response's Vary (nil if none)
	Tags       []string      // from Surrogate-Key / Cache-Tag response headers, for purge "tag:X"
	// Public is set when the response said public or s-maxage: it was meant for everyone, so
	// it may answer a request that carries credentials (Cookie, Authorization) the edge passes
	// to the origin unkeyed (RFC 9111 3.5).
	Public bool
	// StaleWhileRevalidate and StaleIfError are how long past its freshness the response
	// allows itself to be served stale (RFC 5861): while it is revalidated in the background,
	// and when the origin fails. NoStale is set when must-revalidate, proxy-revalidate,
	// s-maxage or no-cache forbid serving it stale at all (RFC 9111 4.2.4, 5.2.2.10).
	StaleWhileRevalidate, StaleIfError time.Duration
	NoStale                            bool
	// Wire is the server's own encoding of Status and Headers, made once before the object
	// is stored, so that a hit copies it instead of encoding every header again; nil means
	// "encode on every hit". The cache never reads it, but counts WireSize, the bytes it
	// holds, in the object's cost.
	Wire     any
	WireSize int
}

// Age returns the object's current_age at now (RFC 9111 4.2.3):
// corrected_initial_age plus the time it has been resident. A now before
// Stored (clock skew) counts as zero resident time.
func (o *Object) Age(now time.Time) time.Duration {
	resident := now.Sub(o.Stored)
	if resident < 0 {
		resident = 0
	}
	return o.InitialAge + resident
}

// ServableStale reports whether the object, stale at now, may still be served stale for a
// window past its freshness: not when a directive forbids it (NoStale), and only until the
// window ends.
func (o *Object) ServableStale(now time.Time, window time.Duration) bool {
	return !o.NoStale && -o.Remaining(now) < window
}

// Fresh reports whether the freshness lifetime exceeds the current age at
// now (RFC 9111 4.2).
func (o *Object) Fresh(now time.Time) bool { return o.Remaining(now) > 0 }

// Remaining returns how much longer the object stays fresh at now; it is
// zero or negative once the object is stale.
func (o *Object) Remaining(now time.Time) time.Duration { return o.TTL - o.Age(now) }

// Header returns the value of the first stored header named name
// (case-insensitive) and whether there was one.
func (o *Object) Header(name string) (string, bool) {
	for _, h := range o.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// objectOverhead approximates the bytes an Object costs beyond its contents:
// the struct, slice headers, the index entry and ristretto's bookkeeping.
const objectOverhead = 256

// Size returns the approximate number of bytes the object holds. It is the
// object's cost against a Memory budget.
func (o *Object) Size() int64 {
	n := objectOverhead + len(o.Key) + len(o.Path) + len(o.Body) + o.WireSize
	for _, h := range o.Headers {
		n += 32 + len(h.Name) + len(h.Value)
	}
	for _, s := range o.Vary {
		n += 16 + len(s)
	}
	for _, s := range o.Tags {
		n += 16 + len(s)
	}
	return int64(n)
}

// Response is an origin response as NewObject reads it.
type Response struct {
	Status       int
	Headers      []Header
	Body         []byte
	RequestTime  time.Time // when the request to the origin was sent (request_time); zero if unknown
	ResponseTime time.Time // when the response was received (response_time)
}

// NewObject builds an Object for the request path from an origin response,
// with freshness lifetime ttl (see Freshness). It copies the headers it keeps
// and the body, so resp may be reused once NewObject returns. It computes
// InitialAge from the Age and Date headers (RFC 9111 4.2.3), Vary from the
// Vary headers, Public from Cache-Control, and Tags from Surrogate-Key (space-separated) and Cache-Tag
// (comma-separated). Key is left empty for Store.Set to fill in.
//
// Stored headers leave out the hop-by-hop fields, Age (recomputed on every
// hit), Set-Cookie (a cached response must not hand one viewer's cookie to
// another) and the fields meant for this cache only (ForThisCache).
func NewObject(path string, resp *Response, ttl time.Duration) *Object {
	o := &Object{
		Path:   path,
		Status: resp.Status,
		Stored: resp.ResponseTime,
		TTL:    ttl,
	}
	if resp.Body != nil {
		o.Body = slices.Clone(resp.Body)
	}
	var (
		connection []string // values of Connection: more fields to drop
		ageValue   time.Duration
		haveAge    bool
		dateValue  time.Time
		haveDate   bool
	)
	for _, h := range resp.Headers {
		if strings.EqualFold(h.Name, "Connection") {
			connection = append(connection, h.Value)
		}
	}
	o.Headers = make([]Header, 0, len(resp.Headers))
	for _, h := range resp.Headers {
		switch {
		case strings.EqualFold(h.Name, "Age"):
			if !haveAge {
				ageValue, haveAge = parseDeltaSeconds(strings.TrimSpace(firstListItem(h.Value)))
			}
			continue
		case strings.EqualFold(h.Name, "Date"):
			if !haveDate {
				dateValue, haveDate = parseHTTPDate(h.Value, resp.ResponseTime)
			}
		case strings.EqualFold(h.Name, "Vary"):
			o.Vary = appendList(o.Vary, strings.SplitSeq(h.Value, ","), true)
		case strings.EqualFold(h.Name, "Surrogate-Key"):
			o.Tags = appendList(o.Tags, strings.FieldsSeq(h.Value), false)
		case strings.EqualFold(h.Name, "Cache-Tag"):
			o.Tags = appendList(o.Tags, strings.SplitSeq(h.Value, ","), false)
		}
		if isHopByHop(h.Name, connection) || strings.EqualFold(h.Name, "Set-Cookie") || ForThisCache(h.Name) {
			continue
		}
		o.Headers = append(o.Headers, h)
	}
	slices.Sort(o.Vary)
	cc, _ := Directives(resp.Headers)
	o.Public = cc.Public || cc.HasSMaxAge
	// s-maxage also forbids a shared cache to serve stale (RFC 9111 5.2.2.10).
	o.NoStale = cc.MustRevalidate || cc.ProxyRevalidate || cc.NoCache || cc.HasSMaxAge
	if cc.HasStaleWhileRevalidate {
		o.StaleWhileRevalidate = cc.StaleWhileRevalidate
	}
	if cc.HasStaleIfError {
		o.StaleIfError = cc.StaleIfError
	}
	o.InitialAge = initialAge(ageValue, dateValue, haveDate, resp.RequestTime, resp.ResponseTime)
	return o
}

// initialAge computes corrected_initial_age (RFC 9111 4.2.3).
func initialAge(ageValue time.Duration, date time.Time, haveDate bool, requestTime, responseTime time.Time) time.Duration {
	var apparent time.Duration
	if haveDate {
		apparent = max(0, responseTime.Sub(date))
	}
	var delay time.Duration
	if !requestTime.IsZero() {
		delay = max(0, responseTime.Sub(requestTime))
	}
	return max(apparent, ageValue+delay)
}

// hopByHop lists the fields a cache must not store (RFC 9111 3.1, RFC 9110
// 7.6.1): connection-specific fields, and the proxy authentication fields a
// cache may drop. Fields named in Connection are dropped too.
var hopByHop = []string{
	"Connection",
	"Proxy-Connection", // non-standard, still sent
	"Keep-Alive",
	"TE",
	"Transfer-Encoding",
	"Upgrade",
	"Trailer",
	"Proxy-Authenticate",
	"Proxy-Authentication-Info",
	"Proxy-Authorization",
}

// ForThisCache reports whether an origin's response field speaks to this cache and is never
// passed on to viewers: CDN-Cache-Control (RFC 9213), and the purge tags Surrogate-Key and
// Cache-Tag, which name the object for "tag:" purges and would tell any viewer how the site
// groups its content (other CDNs strip them too).
func ForThisCache(name string) bool {
	return strings.EqualFold(name, "CDN-Cache-Control") || strings.EqualFold(name, "Surrogate-Key") ||
		strings.EqualFold(name, "Cache-Tag")
}

func isHopByHop(name string, connection []string) bool {
	for _, h := range hopByHop {
		if strings.EqualFold(name, h) {
			return true
		}
	}
	for _, v := range connection {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), name) {
				return true
			}
		}
	}
	return false
}

// appendList appends the non-empty, trimmed items to dst, skipping items
// already present; lower lower-cases them first.
func appendList(dst []string, items iter.Seq[string], lower bool) []string {
	for item := range items {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if lower {
			item = strings.ToLower(item)
		}
		if !slices.Contains(dst, item) {
			dst = append(dst, item)
		}
	}
	return dst
}

// firstListItem returns v up to its first comma: a field that should occur
// once but was sent twice and joined.
func firstListItem(v string) string {
	if i := strings.IndexByte(v, ','); i >= 0 {
		return v[:i]
	}
	return v
}
