package cache

import (
	"errors"
	"fmt"
	"time"
)

// QueryMode says which query string parameters go into the cache key.
type QueryMode uint8

const (
	QueryNone  QueryMode = iota // no parameters (the default)
	QueryAll                    // the whole raw query string, as sent (order matters)
	QueryAllow                  // only the parameters named in Policy.QueryNames
	QueryDeny                   // all parameters except those named in Policy.QueryNames
)

var queryModeNames = [...]string{"none", "all", "allow", "deny"}

// String returns the mode's configuration name: none, all, allow or deny.
func (m QueryMode) String() string {
	if int(m) < len(queryModeNames) {
		return queryModeNames[m]
	}
	return fmt.Sprintf("QueryMode(%d)", uint8(m))
}

// MarshalText implements encoding.TextMarshaler.
func (m QueryMode) MarshalText() ([]byte, error) {
	if int(m) >= len(queryModeNames) {
		return nil, fmt.Errorf("cache: invalid query mode %d", uint8(m))
	}
	return []byte(m.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler, so configuration files
// can say none, all, allow or deny.
func (m *QueryMode) UnmarshalText(b []byte) error {
	for i, name := range queryModeNames {
		if string(b) == name {
			*m = QueryMode(i)
			return nil
		}
	}
	return fmt.Errorf("cache: unknown query mode %q (want none, all, allow or deny)", b)
}

// Policy is a behavior's cache policy: what goes into the cache key and how
// long responses are kept. A Policy is read-only once in use and is then safe
// for concurrent use. The zero Policy keys on host and path and caches
// nothing (MaxTTL 0), like CloudFront's CachingDisabled.
type Policy struct {
	// MinTTL is the least time a stored response stays fresh, whatever the
	// origin's explicit freshness says (no-store, private and no-cache still
	// win). Default 0.
	MinTTL time.Duration
	// DefaultTTL is the freshness lifetime of a response without explicit
	// freshness, for heuristically cacheable statuses. Default 0 (not stored).
	DefaultTTL time.Duration
	// Heuristic, when DefaultTTL is 0, gives a response without explicit freshness but with a
	// Last-Modified a tenth of its age as freshness, at most MaxHeuristic (RFC 9111 4.2.2).
	// Default false: such a response is not stored.
	Heuristic bool
	// MaxTTL caps every freshness lifetime. Default 0: nothing is stored.
	MaxTTL time.Duration
	// StaleIfError is how long past its freshness a stored object may answer when the
	// origin fails (a 5xx, refused, timeout), whether or not the object said stale-if-error;
	// must-revalidate, proxy-revalidate and no-cache still forbid it. Default 0.
	StaleIfError time.Duration

	// QueryStrings selects the query parameters in the key. Default QueryNone.
	QueryStrings QueryMode
	// QueryNames are the parameter names for QueryAllow and QueryDeny,
	// compared byte for byte with the raw (still percent-encoded) names.
	QueryNames []string
	// Headers are request header names in the key, case-insensitive.
	Headers []string
	// Cookies are cookie names in the key, case-sensitive (RFC 6265).
	Cookies []string
}

// Validate reports configuration mistakes: negative TTLs, TTLs out of order
// (MinTTL <= DefaultTTL <= MaxTTL), an unknown query mode, QueryNames with a
// mode that ignores them, and empty names.
func (p *Policy) Validate() error {
	var errs []error
	if p.MinTTL < 0 || p.DefaultTTL < 0 || p.MaxTTL < 0 {
		errs = append(errs, errors.New("TTLs must not be negative"))
	}
	if p.MinTTL > p.DefaultTTL || p.DefaultTTL > p.MaxTTL {
		errs = append(errs, fmt.Errorf("want MinTTL <= DefaultTTL <= MaxTTL, have %v, %v, %v",
			p.MinTTL, p.DefaultTTL, p.MaxTTL))
	}
	switch p.QueryStrings {
	case QueryNone, QueryAll:
		if len(p.QueryNames) > 0 {
			errs = append(errs, fmt.Errorf("QueryNames need query mode allow or deny, have %v", p.QueryStrings))
		}
	case QueryAllow, QueryDeny:
	default:
		errs = append(errs, fmt.Errorf("unknown query mode %v", p.QueryStrings))
	}
	for _, list := range [][]string{p.QueryNames, p.Headers, p.Cookies} {
		for _, name := range list {
			if name == "" {
				errs = append(errs, errors.New("empty name in QueryNames, Headers or Cookies"))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cache: policy: %w", err)
	}
	return nil
}
