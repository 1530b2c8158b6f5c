package edge

import (
	"bytes"
	"testing"

	"github.com/valyala/fasthttp"
)

func TestNormalizeHost(t *testing.T) {
	tests := []struct {
		host string
		tls  bool
		want string
	}{
		{"example.com", false, "example.com"},
		{"Example.COM", false, "example.com"},
		{"example.com.", false, "example.com"},
		{"example.com:80", false, "example.com"},
		{"example.com.:80", false, "example.com"},
		{"example.com:", false, "example.com"},
		{"example.com:443", false, "example.com:443"},
		{"example.com:443", true, "example.com"},
		{"example.com:80", true, "example.com:80"},
		{"example.com:8080", false, "example.com:8080"},
		{"[::1]:80", false, "[::1]"},
		{"[::1]", false, "[::1]"},
		{".", false, "."},
	}
	for _, tt := range tests {
		var r fasthttp.Request
		r.Header.SetHost(tt.host)
		r.SetRequestURI("/p")
		normalizeHost(&r, tt.tls)
		if got := string(r.Host()); got != tt.want || string(r.Header.Host()) != tt.want {
			t.Errorf("normalizeHost(%q, tls %v) = %q (header %q), want %q", tt.host, tt.tls, got, r.Header.Host(), tt.want)
		}
	}
}

// FuzzNormalizeHost: the result is lower case, has no final dot (but for "."), no default
// port, and normalizing it again changes nothing.
func FuzzNormalizeHost(f *testing.F) {
	for _, h := range []string{"example.com", "Example.COM.:80", "[::1]:443", "a.:", "x:80:80", "..:80"} {
		f.Add(h, false)
		f.Add(h, true)
	}
	f.Fuzz(func(t *testing.T, host string, tls bool) {
		var r fasthttp.Request
		r.Header.SetHost(host)
		r.SetRequestURI("/")
		normalizeHost(&r, tls)
		got := append([]byte(nil), r.Host()...)
		if hasUpperASCII(got) {
			t.Fatalf("%q: upper case left in %q", host, got)
		}
		if len(got) > 1 && got[len(got)-1] == '.' {
			t.Fatalf("%q: final dot left in %q", host, got)
		}
		normalizeHost(&r, tls)
		if !bytes.Equal(r.Host(), got) {
			t.Fatalf("%q: normalized %q, then %q", host, got, r.Host())
		}
	})
}
