package cache

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

// fakeRequest is a hand-written Request. It allocates nothing when read.
type fakeRequest struct {
	host, path, query []byte
	headers           []field // names compared case-insensitively
	cookies           []field
}

type field struct {
	name  string
	value []byte
}

var _ Request = (*fakeRequest)(nil)

// newReq builds a request from a URL-ish "host/path?query" and "Name: value"
// header lines; a "Cookie: a=1; b=2" line fills the cookies instead.
func newReq(url string, lines ...string) *fakeRequest {
	r := &fakeRequest{}
	hostPath, query, hasQuery := strings.Cut(url, "?")
	if hasQuery {
		r.query = []byte(query)
	}
	host, path, _ := strings.Cut(hostPath, "/")
	r.host, r.path = []byte(host), []byte("/"+path)
	for _, l := range lines {
		name, value, _ := strings.Cut(l, ":")
		value = strings.TrimPrefix(value, " ")
		if strings.EqualFold(name, "Cookie") {
			for c := range strings.SplitSeq(value, ";") {
				n, v, _ := strings.Cut(strings.TrimSpace(c), "=")
				r.cookies = append(r.cookies, field{n, []byte(v)})
			}
			continue
		}
		r.headers = append(r.headers, field{name, []byte(value)})
	}
	return r
}

func (r *fakeRequest) Host() []byte     { return r.host }
func (r *fakeRequest) Path() []byte     { return r.path }
func (r *fakeRequest) RawQuery() []byte { return r.query }

func (r *fakeRequest) Header(name string) []byte {
	for _, h := range r.headers {
		if strings.EqualFold(h.name, name) {
			return h.value
		}
	}
	return nil
}

func (r *fakeRequest) Cookie(name string) []byte {
	for _, c := range r.cookies {
		if c.name == name {
			return c.value
		}
	}
	return nil
}

// decodeKey parses a key built by AppendKey (and AppendVaryKey) back into a
// readable form, failing the test if the key does not follow the layout.
// That the layout decodes without ambiguity is what makes keys unique.
func decodeKey(t testing.TB, key []byte) string {
	t.Helper()
	var b strings.Builder
	fail := func(msg string) string {
		t.Fatalf("decodeKey %q: %s", key, msg)
		return ""
	}
	str := func() (string, bool) {
		n, w := binary.Uvarint(key)
		if w <= 0 || uint64(len(key)-w) < n {
			return "", false
		}
		s := string(key[w : w+int(n)])
		key = key[w+int(n):]
		return s, true
	}
	if len(key) == 0 || key[0] != keyVersion {
		return fail("bad version")
	}
	key = key[1:]
	host, ok1 := str()
	path, ok2 := str()
	if !ok1 || !ok2 {
		return fail("bad host or path")
	}
	fmt.Fprintf(&b, "host=%q path=%q", host, path)
	for len(key) > 0 {
		tag := key[0]
		key = key[1:]
		if tag == tagQueryAll {
			q, ok := str()
			if !ok {
				return fail("bad raw query")
			}
			fmt.Fprintf(&b, " Q=%q", q)
			continue
		}
		fmt.Fprintf(&b, " %c[", tag)
		for {
			if len(key) == 0 {
				return fail("unterminated section")
			}
			if key[0] == end {
				key = key[1:]
				break
			}
			if key[0] != item {
				return fail("bad item marker")
			}
			key = key[1:]
			name, ok := str()
			if !ok || len(key) == 0 {
				return fail("bad item name")
			}
			pres := key[0]
			key = key[1:]
			switch pres {
			case absent:
				fmt.Fprintf(&b, " %q", name)
			case present:
				v, ok := str()
				if !ok {
					return fail("bad value")
				}
				fmt.Fprintf(&b, " %q=%q", name, v)
			default:
				return fail("bad presence byte")
			}
		}
		b.WriteString(" ]")
	}
	return b.String()
}
