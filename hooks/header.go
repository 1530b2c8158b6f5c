package hooks

import (
	"slices"
	"strings"
)

// Header is one header line. Name keeps the case it arrived with (or the case a function gave it).
type Header struct {
	Name  string
	Value string
}

// Headers is an ordered list of header lines; a name may repeat (two Cookie lines stay two
// entries). Lookups ignore case. The zero value is an empty list.
type Headers []Header

// Get returns the first value of name, or "".
func (h Headers) Get(name string) string {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Has reports whether name is present.
func (h Headers) Has(name string) bool {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// Values returns every value of name in order, or nil.
func (h Headers) Values(name string) []string {
	var vs []string
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			vs = append(vs, f.Value)
		}
	}
	return vs
}

// Add appends a header line.
func (h *Headers) Add(name, value string) { *h = append(*h, Header{name, value}) }

// Set replaces every line of name with one line holding value, at the position of the first.
func (h *Headers) Set(name, value string) {
	out := (*h)[:0]
	done := false
	for _, f := range *h {
		if !strings.EqualFold(f.Name, name) {
			out = append(out, f)
			continue
		}
		if !done {
			out = append(out, Header{f.Name, value})
			done = true
		}
	}
	if !done {
		out = append(out, Header{name, value})
	}
	*h = out
}

// Del removes every line of name.
func (h *Headers) Del(name string) {
	out := (*h)[:0]
	for _, f := range *h {
		if !strings.EqualFold(f.Name, name) {
			out = append(out, f)
		}
	}
	clear((*h)[len(out):])
	*h = out
}

// Clone returns a copy that shares no backing array with h.
func (h Headers) Clone() Headers {
	if h == nil {
		return nil
	}
	return append(Headers(make([]Header, 0, len(h))), h...)
}

// AppendedTo returns the lines h has after those of in, when h is in with lines appended (what
// most functions return); ok is false when h changed, deleted or reordered any line of in.
func (h Headers) AppendedTo(in Headers) (added Headers, ok bool) {
	if len(h) < len(in) || !slices.Equal(in, h[:len(in)]) {
		return nil, false
	}
	return h[len(in):], true
}

// Size is the number of bytes the headers take on the wire ("Name: Value\r\n" per line).
func (h Headers) Size() int {
	n := 0
	for _, f := range h {
		n += len(f.Name) + len(f.Value) + 4
	}
	return n
}

// CanonicalName writes a header name the way Lambda@Edge fills in a missing key:
// Title-Case-With-Hyphens ("x-forwarded-for" becomes "X-Forwarded-For").
func CanonicalName(name string) string {
	b := []byte(name)
	upper := true
	for i, c := range b {
		switch {
		case upper && 'a' <= c && c <= 'z':
			b[i] = c - 'a' + 'A'
		case !upper && 'A' <= c && c <= 'Z':
			b[i] = c - 'A' + 'a'
		}
		upper = c == '-'
	}
	return string(b)
}
