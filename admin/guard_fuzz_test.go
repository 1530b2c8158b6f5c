package admin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzParseTokens: admin_tokens and VERGE_ADMIN_TOKENS never panic the parser, and every
// token it returns has a name and a secret without the separators (corpus:
// testdata/fuzz/FuzzParseTokens).
func FuzzParseTokens(f *testing.F) {
	for _, s := range []string{"ci=abc, def ,ops=x", "", ",,", "=x", "a=", "a=b=c", "tok"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks, err := ParseTokens(s)
		if err != nil {
			return
		}
		for _, tk := range toks {
			if tk.Name == "" || tk.Secret == "" || strings.Contains(tk.Secret, ",") || strings.Contains(tk.Name, "=") {
				t.Fatalf("ParseTokens(%q) returned %+v", s, tk)
			}
		}
	})
}

// FuzzGuardHosts: any admin_hosts entry and any Host and Origin headers go through ParseHosts
// and the guard without a panic; an accepted entry is canonical and admits itself as Host and
// as Origin; a refused request is never served (corpus: testdata/fuzz/FuzzGuardHosts).
func FuzzGuardHosts(f *testing.F) {
	for _, s := range [][3]string{
		{"admin.example", "admin.example:8081", "https://admin.example"},
		{"*", "evil.example", "null"},
		{"10.0.0.1", "[::1]:8081", "http://[::1]"},
		{"x.example.", "X.EXAMPLE.", "http://x.example:1/path"},
		{"", "", "%zz"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, entry, host, origin string) {
		hosts, err := ParseHosts([]string{entry})
		if err != nil {
			hosts = nil
		}
		wrap, err := Guard(GuardOptions{Hosts: hosts, Listen: "127.0.0.1:8081"})
		if err != nil {
			t.Fatalf("Guard refused what ParseHosts accepted (%q): %v", hosts, err)
		}
		g := wrap(http.NotFoundHandler()).(*guard)
		for _, h := range hosts {
			if h != canonicalHost(h) || !g.hostAllowed(h) {
				t.Fatalf("entry %q: %q is not canonical or not admitted", entry, h)
			}
		}
		served := false
		h := wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served = true }))
		req := httptest.NewRequest(http.MethodGet, "/v1/functions", nil)
		req.Host = host
		req.Header.Set("Origin", origin)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if served != (rec.Code == http.StatusOK) {
			t.Fatalf("Host %q Origin %q: served %v with status %d", host, origin, served, rec.Code)
		}
		if served && !g.hostAllowed(host) {
			t.Fatalf("Host %q was served but is not allowed", host)
		}
	})
}
