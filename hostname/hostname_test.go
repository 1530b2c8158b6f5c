package hostname

import (
	"bytes"
	"testing"
)

func TestTrim(t *testing.T) {
	for _, tt := range []struct{ host, def, want string }{
		{"example.com", ":80", "example.com"},
		{"example.com:80", ":80", "example.com"},
		{"example.com:443", ":80", "example.com:443"},
		{"example.com:443", ":443", "example.com"},
		{"example.com.", ":80", "example.com"},
		{"example.com.:80", ":80", "example.com"},
		{"example.com:80.", ":80", "example.com"},
		{"example.com:", ":443", "example.com"},
		{"[::1]:80", ":80", "[::1]"},
		{"[::1]", ":80", "[::1]"},
		{"::1", ":80", "::1"}, // not bracketed: its last ":1" is no port
		{".", ":80", "."},
		{"", ":80", ""},
	} {
		if got := string(Trim([]byte(tt.host), tt.def)); got != tt.want {
			t.Errorf("Trim(%q, %q) = %q, want %q", tt.host, tt.def, got, tt.want)
		}
	}
}

// FuzzTrim: the result is a prefix of the host, and trimming it again changes nothing.
func FuzzTrim(f *testing.F) {
	for _, s := range []string{"a.:80.", "[::1]:443", "x:", "..", ":80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		for _, def := range []string{":80", ":443"} {
			got := Trim([]byte(host), def)
			if !bytes.HasPrefix([]byte(host), got) {
				t.Fatalf("Trim(%q) = %q, not a prefix", host, got)
			}
			if again := Trim(bytes.Clone(got), def); !bytes.Equal(again, got) {
				t.Fatalf("Trim(%q) = %q, then %q", host, got, again)
			}
		}
	})
}
