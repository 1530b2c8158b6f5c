package cache

import (
	"bytes"
	"testing"
)

// TestAppendKeyPolicy checks, per policy, which pairs of requests share a key.
func TestAppendKeyPolicy(t *testing.T) {
	none := &Policy{}
	all := &Policy{QueryStrings: QueryAll}
	allow := &Policy{QueryStrings: QueryAllow, QueryNames: []string{"a", "c"}}
	deny := &Policy{QueryStrings: QueryDeny, QueryNames: []string{"utm"}}
	headers := &Policy{Headers: []string{"X-Device", "accept-language"}}
	cookies := &Policy{Cookies: []string{"session"}}
	tests := []struct {
		name   string
		policy *Policy
		a, b   *fakeRequest
		same   bool
	}{
		{"host lower-cased", none, newReq("Example.COM/x"), newReq("example.com/x"), true},
		{"hosts differ", none, newReq("a.com/x"), newReq("b.com/x"), false},
		{"host port kept", none, newReq("a.com:8080/x"), newReq("a.com/x"), false},
		{"path case-sensitive", none, newReq("a.com/X"), newReq("a.com/x"), false},
		{"paths differ", none, newReq("a.com/x"), newReq("a.com/x/"), false},

		{"none ignores query", none, newReq("a.com/x?a=1"), newReq("a.com/x?a=2"), true},
		{"none ignores headers", none, newReq("a.com/x", "X-Device: m"), newReq("a.com/x"), true},

		{"all: values differ", all, newReq("a.com/x?a=1"), newReq("a.com/x?a=2"), false},
		{"all: same query", all, newReq("a.com/x?a=1&b=2"), newReq("a.com/x?a=1&b=2"), true},
		{"all: order matters", all, newReq("a.com/x?a=1&b=2"), newReq("a.com/x?b=2&a=1"), false},
		{"all: empty is no query", all, newReq("a.com/x?"), newReq("a.com/x"), true},

		{"allow: other names ignored", allow, newReq("a.com/x?a=1&b=2"), newReq("a.com/x?a=1&b=3"), true},
		{"allow: allowed value differs", allow, newReq("a.com/x?a=1"), newReq("a.com/x?a=2"), false},
		{"allow: request order ignored", allow, newReq("a.com/x?c=3&b=2&a=1"), newReq("a.com/x?a=1&c=3"), true},
		{"allow: a vs a=", allow, newReq("a.com/x?a"), newReq("a.com/x?a="), false},
		{"allow: absent vs empty", allow, newReq("a.com/x?a="), newReq("a.com/x"), false},
		{"allow: repeats in order", allow, newReq("a.com/x?a=1&a=2"), newReq("a.com/x?a=2&a=1"), false},
		{"allow: names are case-sensitive", allow, newReq("a.com/x?A=1"), newReq("a.com/x"), true},
		{"allow: value with =", allow, newReq("a.com/x?a=1=2"), newReq("a.com/x?a=1"), false},
		{"allow: empty params ignored", allow, newReq("a.com/x?&&a=1&"), newReq("a.com/x?a=1"), true},

		{"deny: denied ignored", deny, newReq("a.com/x?a=1&utm=x"), newReq("a.com/x?a=1&utm=y"), true},
		{"deny: denied absent", deny, newReq("a.com/x?utm=x&a=1"), newReq("a.com/x?a=1"), true},
		{"deny: others differ", deny, newReq("a.com/x?a=1"), newReq("a.com/x?a=2"), false},
		{"deny: extra param", deny, newReq("a.com/x?a=1&c=1"), newReq("a.com/x?a=1"), false},

		{"headers: name case-insensitive", headers, newReq("a.com/x", "x-device: m"), newReq("a.com/x", "X-DEVICE: m"), true},
		{"headers: values differ", headers, newReq("a.com/x", "X-Device: m"), newReq("a.com/x", "X-Device: d"), false},
		{"headers: absent vs empty", headers, newReq("a.com/x", "X-Device:"), newReq("a.com/x"), false},
		{"headers: other headers ignored", headers, newReq("a.com/x", "X-Other: 1"), newReq("a.com/x"), true},
		{"headers: second header counts", headers, newReq("a.com/x", "Accept-Language: en"), newReq("a.com/x", "Accept-Language: fr"), false},
		{"headers: values not swapped", headers, newReq("a.com/x", "X-Device: en", "Accept-Language: m"), newReq("a.com/x", "X-Device: m", "Accept-Language: en"), false},

		{"cookies: values differ", cookies, newReq("a.com/x", "Cookie: session=1"), newReq("a.com/x", "Cookie: session=2"), false},
		{"cookies: others ignored", cookies, newReq("a.com/x", "Cookie: session=1; theme=dark"), newReq("a.com/x", "Cookie: session=1"), true},
		{"cookies: absent vs empty", cookies, newReq("a.com/x", "Cookie: session="), newReq("a.com/x"), false},
		{"cookies: names case-sensitive", cookies, newReq("a.com/x", "Cookie: SESSION=1"), newReq("a.com/x"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ka := tt.policy.AppendKey(nil, tt.a)
			kb := tt.policy.AppendKey(nil, tt.b)
			if same := bytes.Equal(ka, kb); same != tt.same {
				t.Fatalf("same key = %v, want %v\n a: %s\n b: %s", same, tt.same, decodeKey(t, ka), decodeKey(t, kb))
			}
		})
	}
}

// TestAppendKeyLayout pins the decoded layout of a key using every section.
func TestAppendKeyLayout(t *testing.T) {
	p := &Policy{
		QueryStrings: QueryAllow, QueryNames: []string{"b", "a"},
		Headers: []string{"X-Device"}, Cookies: []string{"s", "t"},
	}
	r := newReq("WWW.A.com/p/q?a=1&b&c=3&a=2", "x-device: mobile", "Cookie: s=")
	got := decodeKey(t, p.AppendKey(nil, r))
	want := `host="www.a.com" path="/p/q" q[ "b" "a"="1" "a"="2" ] h[ "x-device"="mobile" ] c[ "s"="" "t" ]`
	if got != want {
		t.Fatalf("key\n got %s\nwant %s", got, want)
	}
	all := &Policy{QueryStrings: QueryAll}
	if got, want := decodeKey(t, all.AppendKey(nil, r)), `host="www.a.com" path="/p/q" Q="a=1&b&c=3&a=2"`; got != want {
		t.Fatalf("key\n got %s\nwant %s", got, want)
	}
}

// TestAppendKeyUnambiguous builds keys for requests that a naive
// concatenation would confuse and checks they are all different and all
// decode back to their parts.
func TestAppendKeyUnambiguous(t *testing.T) {
	p := &Policy{QueryStrings: QueryDeny, Headers: []string{"H", "I"}, Cookies: []string{"c", "d"}}
	reqs := []*fakeRequest{
		newReq("a.com/x"),
		{host: []byte("a.com/"), path: []byte("x")},
		{host: []byte("a.com"), path: []byte("/x?")},
		newReq("a.com/x?="),
		newReq("a.com/x?y"),
		{host: []byte("a.com"), path: []byte("/x?y")},
		newReq("a.com/x?y=1&z=2"),
		newReq("a.com/x?y=1%26z=2"),
		newReq("a.com/x?y=1&z"),
		newReq("a.com/x?y=1z"),
		newReq("a.com/x", "H: 1"),
		newReq("a.com/x", "I: 1"),
		newReq("a.com/x", "H:"),
		newReq("a.com/x", "H: 1", "I: 2"),
		newReq("a.com/x", "H: 1\x01\x01I\x012"),
		newReq("a.com/x", "H: 1\x00"),
		newReq("a.com/x", "Cookie: c=1"),
		newReq("a.com/x", "Cookie: d=1"),
		newReq("a.com/x", "Cookie: c=1; d=2"),
		newReq("a.com/x", "H: 1", "Cookie: c=1"),
		{host: []byte("a.com"), path: []byte("/x\x01")},
		{host: []byte("a.com\x01"), path: []byte("/x")},
		{host: []byte(""), path: []byte("")},
		{host: []byte("\x05a.com"), path: []byte("/x")},
	}
	seen := map[string]int{}
	for i, r := range reqs {
		k := p.AppendKey(nil, r)
		decodeKey(t, k) // must parse cleanly
		if j, dup := seen[string(k)]; dup {
			t.Errorf("requests %d and %d share key %q", j, i, k)
		}
		seen[string(k)] = i
	}
	// Keys under different policies differ too.
	r := newReq("a.com/x?q=1", "H: 1")
	keys := map[string]string{}
	for name, pol := range map[string]*Policy{
		"none": {}, "all": {QueryStrings: QueryAll}, "allow": {QueryStrings: QueryAllow},
		"deny": {QueryStrings: QueryDeny}, "header": {Headers: []string{"H"}}, "cookie": {Cookies: []string{"H"}},
	} {
		k := string(pol.AppendKey(nil, r))
		if other, dup := keys[k]; dup {
			t.Errorf("policies %s and %s give the same key", other, name)
		}
		keys[k] = name
	}
}

// FuzzAppendKey checks that every key decodes, and that the decoded parts are
// exactly the request's: a key determines its request's selected parts.
func FuzzAppendKey(f *testing.F) {
	f.Add("a.com", "/x", "a=1&b=2", "m", "s1")
	f.Add("A.COM", "/x?y", "", "", "")
	f.Add("\x00", "\x01\x02", "&=&", "\x00\x01", "=")
	p := &Policy{QueryStrings: QueryDeny, Headers: []string{"H"}, Cookies: []string{"c"}}
	f.Fuzz(func(t *testing.T, host, path, query, hdr, cookie string) {
		r := &fakeRequest{host: []byte(host), path: []byte(path), query: []byte(query),
			headers: []field{{"H", []byte(hdr)}}, cookies: []field{{"c", []byte(cookie)}}}
		r2 := &fakeRequest{host: asciiLower(host), path: []byte(path), query: []byte(query),
			headers: []field{{"h", []byte(hdr)}}, cookies: []field{{"c", []byte(cookie)}}}
		k := p.AppendKey(nil, r)
		decodeKey(t, k)
		if k2 := p.AppendKey(nil, r2); !bytes.Equal(k, k2) {
			t.Fatalf("host case or header-name case changed the key")
		}
		r2.path = append(r2.path, 'x')
		if k2 := p.AppendKey(nil, r2); bytes.Equal(k, k2) {
			t.Fatalf("different paths, same key")
		}
	})
}

// asciiLower lower-cases ASCII letters only, as hosts (IDNA A-labels) need.
func asciiLower(s string) []byte {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return b
}

func TestAppendVaryKey(t *testing.T) {
	base := (&Policy{}).AppendKey(nil, newReq("a.com/x"))
	vary := []string{"accept-encoding", "x-device"}
	key := func(r *fakeRequest, vary ...string) string {
		k := AppendVaryKey(nil, base, vary, r)
		if !bytes.HasPrefix(k, base) {
			t.Fatalf("vary key %q does not start with its base", k)
		}
		decodeKey(t, k)
		return string(k)
	}
	tests := []struct {
		name string
		a, b *fakeRequest
		same bool
	}{
		{"same values", newReq("a.com/x", "Accept-Encoding: gzip"), newReq("a.com/y", "accept-encoding: gzip"), true},
		{"values differ", newReq("a.com/x", "Accept-Encoding: gzip"), newReq("a.com/x", "Accept-Encoding: br"), false},
		{"list whitespace normalized", newReq("a.com/x", "Accept-Encoding:  gzip ,br\t"), newReq("a.com/x", "Accept-Encoding: gzip, br"), true},
		{"inner whitespace kept", newReq("a.com/x", "Accept-Encoding: g zip"), newReq("a.com/x", "Accept-Encoding: gzip"), false},
		{"list order kept", newReq("a.com/x", "Accept-Encoding: br, gzip"), newReq("a.com/x", "Accept-Encoding: gzip, br"), false},
		{"absent vs empty", newReq("a.com/x", "Accept-Encoding:"), newReq("a.com/x"), false},
		{"second name counts", newReq("a.com/x", "X-Device: m"), newReq("a.com/x", "X-Device: d"), false},
		{"unlisted header ignored", newReq("a.com/x", "X-Other: 1"), newReq("a.com/x"), true},
	}
	for _, tt := range tests {
		if same := key(tt.a, vary...) == key(tt.b, vary...); same != tt.same {
			t.Errorf("%s: same vary key = %v, want %v", tt.name, same, tt.same)
		}
	}
	r := newReq("a.com/x", "Accept-Encoding: gzip")
	if key(r, "accept-encoding") == key(r, "Accept-Encoding", "x-device") {
		t.Error("different Vary lists give the same key")
	}
	if key(r, "accept-encoding") != key(r, "ACCEPT-ENCODING") {
		t.Error("Vary names are not case-insensitive")
	}
	if key(r) == string(base) {
		t.Error("a vary key equals its base key")
	}
}

func TestKeyAllocs(t *testing.T) {
	p := &Policy{
		QueryStrings: QueryAllow, QueryNames: []string{"a", "b"},
		Headers: []string{"Accept-Language", "X-Device"}, Cookies: []string{"session"},
	}
	deny := &Policy{QueryStrings: QueryDeny, QueryNames: []string{"utm_source"}}
	r := newReq("Www.Example.com/images/cat.jpg?b=2&utm_source=x&a=1",
		"Accept-Language: en-GB", "Accept-Encoding: gzip, br", "Cookie: session=abc; theme=dark")
	buf := make([]byte, 0, 512)
	vary := []string{"accept-encoding"}
	for name, fn := range map[string]func(){
		"AppendKey allow": func() { buf = p.AppendKey(buf[:0], r) },
		"AppendKey deny":  func() { buf = deny.AppendKey(buf[:0], r) },
		"AppendVaryKey":   func() { buf = AppendVaryKey(buf[:0], []byte("base"), vary, r) },
	} {
		if n := testing.AllocsPerRun(1000, fn); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", name, n)
		}
	}
}
