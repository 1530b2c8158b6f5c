package origin

import (
	"strings"
	"testing"
	"time"
)

func TestNewValidates(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // substring of the error
	}{
		{"no URL", Config{}, "URL is required"},
		{"bad scheme", Config{URL: "ftp://example.com"}, "scheme must be http or https"},
		{"no scheme", Config{URL: "example.com"}, "scheme must be http or https"},
		{"no host", Config{URL: "http:///path"}, "has no host"},
		{"user info", Config{URL: "http://u:p@example.com"}, "user info"},
		{"query", Config{URL: "http://example.com/?a=1"}, "query or fragment"},
		{"fragment", Config{URL: "http://example.com/#f"}, "query or fragment"},
		{"bad port", Config{URL: "http://example.com:0"}, "bad port"},
		{"unparsable", Config{URL: "http://exa mple.com"}, "bad URL"},
		{"negative connect timeout", Config{URL: "http://e.com", ConnectTimeout: -1}, "ConnectTimeout must be ≥ 0"},
		{"negative read timeout", Config{URL: "http://e.com", ReadTimeout: -time.Second}, "ReadTimeout must be ≥ 0"},
		{"negative keepalive", Config{URL: "http://e.com", KeepaliveTimeout: -1}, "KeepaliveTimeout must be ≥ 0"},
		{"negative max conns", Config{URL: "http://e.com", MaxConns: -1}, "MaxConns"},
		{"negative max bytes", Config{URL: "http://e.com", MaxResponseBytes: -1}, "MaxResponseBytes"},
		{"via name with space", Config{URL: "http://e.com", ViaName: "my cdn"}, "ViaName"},
		{"via name with comma", Config{URL: "http://e.com", ViaName: "a,b"}, "ViaName"},
		{"host header with space", Config{URL: "http://e.com", HostHeader: "a b"}, "HostHeader"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := New(tc.cfg)
			if err == nil {
				o.Close()
				t.Fatalf("New(%+v) succeeded", tc.cfg)
			}
			if !strings.HasPrefix(err.Error(), "origin: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want prefix \"origin: \" and %q", err, tc.want)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	for _, tc := range []struct {
		url, wantID, wantHost, wantAddr, wantBase string
	}{
		{"http://example.com", "example.com", "example.com", "example.com:80", ""},
		{"https://example.com:443/", "example.com", "example.com", "example.com:443", ""},
		{"HTTPS://example.com:8443/static/v1/", "example.com:8443", "example.com:8443", "example.com:8443", "/static/v1"},
		{"http://[::1]:8080/a%2Fb", "[::1]:8080", "[::1]:8080", "[::1]:8080", "/a%2Fb"},
	} {
		o, err := New(Config{URL: tc.url})
		if err != nil {
			t.Fatalf("New(%q): %v", tc.url, err)
		}
		cfg := o.Config()
		if o.ID() != tc.wantID || cfg.HostHeader != tc.wantHost || o.ep.addr != tc.wantAddr || o.ep.basePath != tc.wantBase {
			t.Errorf("%q: ID %q Host %q addr %q base %q, want %q %q %q %q", tc.url,
				o.ID(), cfg.HostHeader, o.ep.addr, o.ep.basePath, tc.wantID, tc.wantHost, tc.wantAddr, tc.wantBase)
		}
		o.Close()
	}

	o, _ := New(Config{URL: "http://e.com", ID: "api", HostHeader: "h.example"})
	defer o.Close()
	want := Config{
		ID: "api", URL: "http://e.com", HostHeader: "h.example",
		ConnectTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, KeepaliveTimeout: 5 * time.Second,
		MaxConns: 512, MaxResponseBytes: 256 << 20, ViaName: "verge",
	}
	if got := o.Config(); got != want {
		t.Errorf("Config() = %+v, want %+v", got, want)
	}
}
