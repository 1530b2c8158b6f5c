package cache

import (
	"bytes"
	"encoding/binary"
)

// Request is what key building and Vary matching read from a viewer request.
// Implementations must not allocate; returned slices are valid until the next
// call on the same Request, and the cache never retains them.
type Request interface {
	Host() []byte
	Path() []byte
	RawQuery() []byte          // without '?'
	Header(name string) []byte // case-insensitive name; all values joined by ", " is fine; nil if absent
	Cookie(name string) []byte // nil if absent
}

// Cache keys are binary and self-delimiting, so two different selections can
// never produce the same key, whatever bytes the request carries:
//
//	key     = version str(lower(host)) str(path) [query] [headers] [cookies]
//	query   = 'Q' str(raw query)                      QueryAll
//	        | 'q' *(item str(name) value) end         QueryAllow, QueryDeny
//	headers = 'h' *(item str(lower(name)) value) end  Policy.Headers in order
//	cookies = 'c' *(item str(name) value) end         Policy.Cookies in order
//	vary    = key 'v' *(item str(lower(name)) value) end
//	value   = absent | present str(bytes)
//	str(b)  = uvarint(len(b)) b
//
// A section is present only when the policy selects it and has its own tag,
// so a query parameter can never be read as a header or cookie (nor a raw
// query as selected parameters). Absent and empty values differ ("?a" is not
// "?a=", a missing header is not an empty one). Policies that select the same
// parts give the same keys, so behaviors may share objects.
const (
	keyVersion      = '1'
	item, end       = 1, 0
	absent, present = 0, 1
	tagQueryAll     = 'Q'
	tagQuerySelect  = 'q'
	tagHeaders      = 'h'
	tagCookies      = 'c'
	tagVary         = 'v'
)

// AppendKey appends the cache key for r to dst and returns the extended
// slice: the lower-cased host, the path, then the query parameters, headers
// and cookies the policy selects (see the layout above). It makes no
// allocations when dst has room. Safe for concurrent use; r is not retained.
func (p *Policy) AppendKey(dst []byte, r Request) []byte {
	dst = append(dst, keyVersion)
	dst = appendStrLower(dst, r.Host())
	dst = appendStr(dst, r.Path())
	switch p.QueryStrings {
	case QueryAll:
		dst = append(dst, tagQueryAll)
		dst = appendStr(dst, r.RawQuery())
	case QueryAllow:
		dst = append(dst, tagQuerySelect)
		q := r.RawQuery()
		for _, want := range p.QueryNames {
			for rest := q; len(rest) > 0; {
				var name, value []byte
				var hasValue bool
				name, value, hasValue, rest = NextParam(rest)
				if string(name) == want {
					dst = appendParam(dst, name, value, hasValue)
				}
			}
		}
		dst = append(dst, end)
	case QueryDeny:
		dst = append(dst, tagQuerySelect)
		for rest := r.RawQuery(); len(rest) > 0; {
			var name, value []byte
			var hasValue bool
			name, value, hasValue, rest = NextParam(rest)
			if p.KeepsParam(name, hasValue) {
				dst = appendParam(dst, name, value, hasValue)
			}
		}
		dst = append(dst, end)
	}
	if len(p.Headers) > 0 {
		dst = append(dst, tagHeaders)
		for _, name := range p.Headers {
			dst = append(dst, item)
			dst = appendStrLower(dst, name)
			dst = appendValue(dst, r.Header(name), false)
		}
		dst = append(dst, end)
	}
	if len(p.Cookies) > 0 {
		dst = append(dst, tagCookies)
		for _, name := range p.Cookies {
			dst = append(dst, item)
			dst = appendStr(dst, name)
			dst = appendValue(dst, r.Cookie(name), false)
		}
		dst = append(dst, end)
	}
	return dst
}

// AppendVaryKey appends base followed by a secondary key for the response's
// Vary header names to dst, and returns the extended slice. Header values
// are normalized: whitespace around list commas and at the ends is removed
// (RFC 9111 4.1). It makes no allocations when dst has room. base must not
// overlap dst's spare capacity.
func AppendVaryKey(dst, base []byte, vary []string, r Request) []byte {
	dst = append(dst, base...)
	dst = append(dst, tagVary)
	for _, name := range vary {
		dst = append(dst, item)
		dst = appendStrLower(dst, name)
		dst = appendValue(dst, r.Header(name), true)
	}
	return append(dst, end)
}

// KeepsParam reports whether the query parameter named name (raw, still
// percent-encoded; hasValue: it had an '=') is selected by p's QueryStrings
// mode: in the key, or, for an origin request policy, forwarded. An empty
// parameter ("&&") is never kept by QueryDeny.
func (p *Policy) KeepsParam(name []byte, hasValue bool) bool {
	switch p.QueryStrings {
	case QueryAll:
		return true
	case QueryAllow:
		return contains(p.QueryNames, name)
	case QueryDeny:
		return (len(name) > 0 || hasValue) && !contains(p.QueryNames, name)
	}
	return false
}

// NextParam splits the first parameter off a raw query string: its name,
// its value and whether it had an '=', and the rest after the '&'.
func NextParam(q []byte) (name, value []byte, hasValue bool, rest []byte) {
	param := q
	if i := bytes.IndexByte(q, '&'); i >= 0 {
		param, rest = q[:i], q[i+1:]
	}
	if i := bytes.IndexByte(param, '='); i >= 0 {
		return param[:i], param[i+1:], true, rest
	}
	return param, nil, false, rest
}

func appendParam(dst, name, value []byte, hasValue bool) []byte {
	dst = append(dst, item)
	dst = appendStr(dst, name)
	if !hasValue {
		return append(dst, absent)
	}
	dst = append(dst, present)
	return appendStr(dst, value)
}

func contains(list []string, b []byte) bool {
	for _, s := range list {
		if s == string(b) {
			return true
		}
	}
	return false
}

// appendValue appends a header or cookie value: absent for nil, else present
// and the (optionally list-normalized) bytes.
func appendValue(dst, v []byte, normalize bool) []byte {
	if v == nil {
		return append(dst, absent)
	}
	dst = append(dst, present)
	if !normalize {
		return appendStr(dst, v)
	}
	n := 0
	for rest, more := v, true; more; {
		var elem []byte
		elem, rest, more = nextElem(rest)
		n += len(elem)
		if more {
			n++
		}
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	for rest, more := v, true; more; {
		var elem []byte
		elem, rest, more = nextElem(rest)
		dst = append(dst, elem...)
		if more {
			dst = append(dst, ',')
		}
	}
	return dst
}

// nextElem splits the first comma-separated element, trimmed of whitespace,
// off a list value; more reports whether a comma followed it.
func nextElem(v []byte) (elem, rest []byte, more bool) {
	elem = v
	if i := bytes.IndexByte(v, ','); i >= 0 {
		elem, rest, more = v[:i], v[i+1:], true
	}
	return bytes.Trim(elem, " \t"), rest, more
}

func appendStr[S ~string | ~[]byte](dst []byte, s S) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// appendStrLower is appendStr with ASCII letters lower-cased.
func appendStrLower[S ~string | ~[]byte](dst []byte, s S) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
