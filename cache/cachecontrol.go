package cache

import (
	"strconv"
	"strings"
	"time"
)

// CacheControl holds the response Cache-Control directives (RFC 9111 5.2.2)
// Verge acts on. The zero value means no directives. Durations are whole
// seconds, at most MaxDelta; each is meaningful only when its Has
// field is set.
type CacheControl struct {
	NoStore         bool
	NoCache         bool // also when qualified with field names (treated as unqualified)
	Private         bool // also when qualified with field names (treated as unqualified)
	Public          bool
	MustRevalidate  bool
	ProxyRevalidate bool
	Immutable       bool
	NoTransform     bool
	MustUnderstand  bool // RFC 9111 5.2.2.3: no-store gives way if the status is understood

	HasMaxAge, HasSMaxAge                               bool
	HasStaleWhileRevalidate, HasStaleIfError            bool
	MaxAge, SMaxAge, StaleWhileRevalidate, StaleIfError time.Duration
}

// MaxDelta is the largest delta-seconds value a cache keeps; larger
// values are treated as this one (RFC 9111 1.2.2).
const MaxDelta = (1 << 31) * time.Second

// ParseCacheControl parses one Cache-Control field value.
func ParseCacheControl(v string) CacheControl {
	var cc CacheControl
	cc.Parse(v)
	return cc
}

// Parse adds the directives of one Cache-Control field value to cc; call it
// once per field line. The first occurrence of a valued directive wins (RFC
// 9111 4.2.1). Names are case-insensitive; values may be tokens or quoted
// strings. A malformed directive is ignored and parsing goes on with the next
// one, except that a no-store, no-cache or private among its words still
// counts. Parse does not allocate.
func (cc *CacheControl) Parse(v string) {
	for i := 0; ; {
		for i < len(v) && (v[i] == ',' || isOWS(v[i])) {
			i++
		}
		if i >= len(v) {
			return
		}
		start := i
		for i < len(v) && isTChar(v[i]) {
			i++
		}
		name := v[start:i]
		var (
			value, hasValue = "", false
			ok              = name != ""
		)
		i = skipOWS(v, i)
		if ok && i < len(v) && v[i] == '=' {
			i = skipOWS(v, i+1)
			value, i, ok = parseValue(v, i)
			hasValue = true
			i = skipOWS(v, i)
		}
		if i < len(v) && v[i] != ',' {
			ok = false
			i = skipDirective(v, i)
		}
		if ok {
			cc.apply(name, value, hasValue)
		} else {
			cc.applyRestrictive(v[start:i])
		}
	}
}

// applyRestrictive sets the directives that forbid storing (no-store,
// no-cache, private) named by any token, outside quoted strings, of the
// malformed directive d: ignoring them would be unsafe, as in
// "private; max-age=600" or `no-store;`.
func (cc *CacheControl) applyRestrictive(d string) {
	for i, quoted := 0, false; i < len(d); {
		switch c := d[i]; {
		case quoted && c == '\\':
			i += 2
		case c == '"':
			quoted = !quoted
			i++
		case !quoted && isTChar(c):
			j := i
			for j < len(d) && isTChar(d[j]) {
				j++
			}
			switch tok := d[i:j]; {
			case strings.EqualFold(tok, "no-store"):
				cc.NoStore = true
			case strings.EqualFold(tok, "no-cache"):
				cc.NoCache = true
			case strings.EqualFold(tok, "private"):
				cc.Private = true
			}
			i = j
		default:
			i++
		}
	}
}

// parseValue reads a token or a quoted string at v[i:]. A quoted value is
// returned without its quotes, escapes left in place.
func parseValue(v string, i int) (value string, next int, ok bool) {
	if i < len(v) && v[i] == '"' {
		for j := i + 1; j < len(v); j++ {
			switch v[j] {
			case '\\':
				j++
			case '"':
				return v[i+1 : j], j + 1, true
			}
		}
		return "", len(v), false // unterminated
	}
	start := i
	for i < len(v) && isTChar(v[i]) {
		i++
	}
	return v[start:i], i, i > start
}

// skipDirective skips the rest of a malformed directive: up to the next comma
// outside a quoted string.
func skipDirective(v string, i int) int {
	for quoted := false; i < len(v); i++ {
		switch c := v[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == ',':
			return i
		}
	}
	return len(v)
}

func (cc *CacheControl) apply(name, value string, hasValue bool) {
	flag := func(f *bool) {
		if !hasValue { // these take no argument; one with an argument is malformed
			*f = true
		}
	}
	// A lifetime that is missing or not a number of seconds ("max-age=-1") counts as 0:
	// RFC 9111 4.2.1 encourages caches to take invalid freshness information as stale.
	seconds := func(has *bool, d *time.Duration) {
		if *has {
			return
		}
		n, ok := parseDeltaSeconds(value)
		if !hasValue || !ok {
			n = 0
		}
		*has, *d = true, n
	}
	switch {
	case strings.EqualFold(name, "no-store"):
		cc.NoStore = true // honored even when malformed: ignoring it would be unsafe
	case strings.EqualFold(name, "no-cache"):
		cc.NoCache = true
	case strings.EqualFold(name, "private"):
		cc.Private = true
	case strings.EqualFold(name, "public"):
		flag(&cc.Public)
	case strings.EqualFold(name, "must-revalidate"):
		flag(&cc.MustRevalidate)
	case strings.EqualFold(name, "must-understand"):
		flag(&cc.MustUnderstand)
	case strings.EqualFold(name, "proxy-revalidate"):
		flag(&cc.ProxyRevalidate)
	case strings.EqualFold(name, "immutable"):
		flag(&cc.Immutable)
	case strings.EqualFold(name, "no-transform"):
		flag(&cc.NoTransform)
	case strings.EqualFold(name, "max-age"):
		seconds(&cc.HasMaxAge, &cc.MaxAge)
	case strings.EqualFold(name, "s-maxage"):
		seconds(&cc.HasSMaxAge, &cc.SMaxAge)
	case strings.EqualFold(name, "stale-while-revalidate"):
		seconds(&cc.HasStaleWhileRevalidate, &cc.StaleWhileRevalidate)
	case strings.EqualFold(name, "stale-if-error"):
		seconds(&cc.HasStaleIfError, &cc.StaleIfError)
	}
}

// String formats cc as a Cache-Control value in a fixed directive order;
// ParseCacheControl(cc.String()) == cc for any parsed cc.
func (cc CacheControl) String() string {
	var b []byte
	add := func(on bool, s string) {
		if on {
			if len(b) > 0 {
				b = append(b, ", "...)
			}
			b = append(b, s...)
		}
	}
	addSeconds := func(on bool, s string, d time.Duration) {
		add(on, s)
		if on {
			b = append(b, '=')
			b = strconv.AppendInt(b, int64(d/time.Second), 10)
		}
	}
	add(cc.NoStore, "no-store")
	add(cc.NoCache, "no-cache")
	add(cc.Private, "private")
	add(cc.Public, "public")
	add(cc.MustRevalidate, "must-revalidate")
	add(cc.ProxyRevalidate, "proxy-revalidate")
	add(cc.Immutable, "immutable")
	add(cc.NoTransform, "no-transform")
	add(cc.MustUnderstand, "must-understand")
	addSeconds(cc.HasMaxAge, "max-age", cc.MaxAge)
	addSeconds(cc.HasSMaxAge, "s-maxage", cc.SMaxAge)
	addSeconds(cc.HasStaleWhileRevalidate, "stale-while-revalidate", cc.StaleWhileRevalidate)
	addSeconds(cc.HasStaleIfError, "stale-if-error", cc.StaleIfError)
	return string(b)
}

// parseDeltaSeconds parses delta-seconds (1*DIGIT, RFC 9111 1.2.2),
// saturating at MaxDelta.
func parseDeltaSeconds(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < 1<<31 {
			n = n*10 + int64(c-'0')
		}
	}
	return time.Duration(min(n, 1<<31)) * time.Second, true
}

func isOWS(c byte) bool { return c == ' ' || c == '\t' }

func skipOWS(v string, i int) int {
	for i < len(v) && isOWS(v[i]) {
		i++
	}
	return i
}

// isTChar reports whether c may appear in a token (RFC 9110 5.6.2).
func isTChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
