package edge

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/vergecdn/verge/cache"
)

// echoOrigin answers every request with what it received that an origin could reflect, so
// that a stored answer shows whose request made it. Paths under /pub are "public,
// max-age=60", others "max-age=60"; a request with X-Big gets a 431 that says public too,
// as a misconfigured origin might.
func echoOrigin(t *testing.T) *testOrigin {
	return newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		cc := "max-age=60"
		if strings.HasPrefix(r.URL.Path, "/pub") {
			cc = "public, max-age=60"
		}
		w.Header().Set("Cache-Control", cc)
		if r.Header.Get("X-Big") != "" {
			w.Header().Set("Cache-Control", "public, max-age=60")
			w.WriteHeader(http.StatusRequestHeaderFieldsTooLarge)
			io.WriteString(w, "too large")
			return
		}
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s ?%s host=%s cookie=%s auth=%s xfh=%s xou=%s xrw=%s xmo=%s xfp=%s al=%s ua=%s body=%s",
			r.Method, r.URL.RawQuery, r.Host, r.Header.Get("Cookie"), r.Header.Get("Authorization"),
			r.Header.Get("X-Forwarded-Host"), r.Header.Get("X-Original-URL"), r.Header.Get("X-Rewrite-URL"),
			r.Header.Get("X-HTTP-Method-Override"), r.Header.Get("X-Forwarded-Proto"),
			r.Header.Get("Accept-Language"), r.Header.Get("User-Agent"), body)
	})
}

// step is one request of a forwarding case and what its answer must (not) contain.
type step struct {
	path    string
	headers []string // name, value pairs
	xcache  string   // "Hit", "Miss"
	status  int      // 0: 200
	has     []string // substrings of the body
	hasNot  []string
	body    string // a request body (sent with GET)
}

// TestOnlyKeyedInputReachesTheOrigin is the cache-poisoning boundary: what reaches the origin
// is what is keyed, so no stored answer carries what another viewer's request put in it.
// Cases with yaml "" run the --origin quick start; the others CloudFront's model.
func TestOnlyKeyedInputReachesTheOrigin(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string // the behavior list; "" for the quick start
		steps []step
	}{
		{"quick start: the whole query string is keyed", "", []step{
			{path: "/page?q=<script>", xcache: "Miss", has: []string{"?q=<script>"}},
			{path: "/page", xcache: "Miss", hasNot: []string{"script"}},
			{path: "/page?q=<script>", xcache: "Hit"},
		}},
		{"quick start: RFC 9111 3.5, Authorization is passed and not stored", "", []step{
			{path: "/a", headers: []string{"Authorization", "Bearer alice"}, xcache: "Miss", has: []string{"auth=Bearer alice"}},
			{path: "/a", xcache: "Miss", hasNot: []string{"alice"}},
			{path: "/a", xcache: "Hit", hasNot: []string{"alice"}},
			// A stored answer that is not public does not answer a request with credentials.
			{path: "/a", headers: []string{"Authorization", "Bearer bob"}, xcache: "Miss", has: []string{"auth=Bearer bob"}},
		}},
		{"quick start: Cookie is passed and not stored", "", []step{
			{path: "/page", headers: []string{"Cookie", "session=alice"}, xcache: "Miss", has: []string{"cookie=session=alice"}},
			{path: "/page", xcache: "Miss", hasNot: []string{"alice"}},
			{path: "/page", headers: []string{"Cookie", "session=bob"}, xcache: "Miss", has: []string{"cookie=session=bob"}},
			{path: "/page", xcache: "Hit", hasNot: []string{"alice", "bob"}},
		}},
		{"quick start: RFC 9111 3.5, a public answer is shared", "", []step{
			{path: "/pub", headers: []string{"Cookie", "session=alice", "Authorization", "Bearer alice"}, xcache: "Miss"},
			{path: "/pub", xcache: "Hit"},
			{path: "/pub", headers: []string{"Cookie", "session=bob"}, xcache: "Hit"},
		}},
		{"quick start: reflected headers are not passed on unkeyed", "", []step{
			{path: "/r", headers: []string{"X-Forwarded-Host", "evil.example", "X-Original-URL", "/admin",
				"X-Rewrite-URL", "/admin", "X-HTTP-Method-Override", "DELETE", "X-Forwarded-Proto", "https"},
				xcache: "Miss", has: []string{"GET ?", "xfh= ", "xou= ", "xrw= ", "xmo= ", "xfp=http "}},
		}},
		{"quick start: other headers reach the origin (its Vary decides)", "", []step{
			{path: "/al", headers: []string{"Accept-Language", "da", "User-Agent", "ua/1"}, xcache: "Miss", has: []string{"al=da", "ua=ua/1"}},
		}},
		{"quick start: errors a request provokes are not stored under the clean key", "", []step{
			{path: "/big", headers: []string{"X-Big", "x"}, status: 431, xcache: "Miss"},
			{path: "/big", xcache: "Miss", has: []string{"GET ?"}},
		}},
		{"quick start: a GET's body is not forwarded", "", []step{
			{path: "/body", body: "<script>", xcache: "Miss", hasNot: []string{"script"}},
		}},
		{"RFC 9110 7.2: hosts are one in any case, with or without default port or final dot", "", []step{
			{path: "/h", headers: []string{"Host", "Example.COM."}, xcache: "Miss"},
			{path: "/h", headers: []string{"Host", "example.com:80"}, xcache: "Hit"},
			{path: "/h", headers: []string{"Host", "example.com"}, xcache: "Hit"},
			{path: "/h", headers: []string{"Host", "example.com:8080"}, xcache: "Miss"},
		}},
		{"cloudfront: nothing outside the key is forwarded", `[{path: "*"}]`, []step{
			{path: "/page?q=<script>", xcache: "Miss", headers: []string{"Cookie", "session=alice", "Authorization", "Bearer alice",
				"Accept-Language", "da", "User-Agent", "ua/1", "X-Forwarded-Host", "evil.example"},
				has: []string{"GET ? ", "cookie= ", "auth= ", "al= ", "ua= ", "xfh= "}},
			{path: "/page", xcache: "Hit", hasNot: []string{"script", "alice"}},
		}},
		{"cloudfront: keyed parts are forwarded, and only they", `[{path: "*", cache: {query_strings: {allow: [v]}, cookies: [ab], headers: [Accept-Language, X-Forwarded-Host]}}]`, []step{
			{path: "/k?utm=1&v=2", headers: []string{"Cookie", "session=alice; ab=x", "Accept-Language", "da", "X-Forwarded-Host", "a.example"},
				xcache: "Miss", has: []string{"?v=2 ", "cookie=ab=x ", "al=da", "xfh=a.example"}},
			{path: "/k?v=2&utm=3", headers: []string{"Cookie", "ab=x", "Accept-Language", "da", "X-Forwarded-Host", "a.example"}, xcache: "Hit"},
			{path: "/k?v=2", headers: []string{"Cookie", "ab=x", "Accept-Language", "da", "X-Forwarded-Host", "b.example"}, xcache: "Miss", has: []string{"xfh=b.example"}},
		}},
		{"RFC 9110 5.3: every line of a keyed header is in the key", `[{path: "*", cache: {headers: [Accept-Language]}}]`, []step{
			{path: "/l", headers: []string{"Accept-Language", "da", "Accept-Language", "en"}, xcache: "Miss", has: []string{"al=da"}},
			{path: "/l", headers: []string{"Accept-Language", "da"}, xcache: "Miss"},
			{path: "/l", headers: []string{"Accept-Language", "da", "Accept-Language", "en"}, xcache: "Hit", has: []string{"al=da"}},
		}},
		{"cloudfront: origin_request cookies are forwarded, and bypass the cache", `[{path: "*", origin_request: {cookies: [session]}}]`, []step{
			{path: "/o", headers: []string{"Cookie", "session=alice; other=1"}, xcache: "Miss", has: []string{"cookie=session=alice "}},
			{path: "/o", headers: []string{"Cookie", "other=1"}, xcache: "Miss", has: []string{"cookie= "}},
			{path: "/o", headers: []string{"Cookie", "other=2"}, xcache: "Hit"},
			{path: "/o", headers: []string{"Cookie", "session=bob"}, xcache: "Miss", has: []string{"cookie=session=bob"}},
		}},
		{"cloudfront: origin_request query strings are forwarded, and bypass the cache", `[{path: "*", cache: {query_strings: {allow: [v]}}, origin_request: {query_strings: all}}]`, []step{
			{path: "/q?v=1&sid=alice", xcache: "Miss", has: []string{"?v=1&sid=alice"}},
			{path: "/q?v=1", xcache: "Miss", hasNot: []string{"alice"}},
			{path: "/q?v=1", xcache: "Hit"},
		}},
		{"cloudfront: origin_request headers are forwarded, and bypass the cache", `[{path: "*", origin_request: {headers: [Authorization]}}]`, []step{
			{path: "/pub", headers: []string{"Authorization", "Bearer alice"}, xcache: "Miss", has: []string{"auth=Bearer alice"}},
			{path: "/pub", xcache: "Hit"},
			{path: "/a", headers: []string{"Authorization", "Bearer alice"}, xcache: "Miss"},
			{path: "/a", xcache: "Miss", hasNot: []string{"alice"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := echoOrigin(t)
			var n *node
			if tt.yaml == "" {
				n = startQuickStart(t, o.URL)
			} else {
				n = startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: "+tt.yaml+"\n", o.URL, nil)
			}
			for i, s := range tt.steps {
				r := n.send(t, http.MethodGet, s.path, s.body, s.headers...)
				status := s.status
				if status == 0 {
					status = 200
				}
				if r.StatusCode != status || r.Header.Get("X-Cache") != s.xcache+" from verge" {
					t.Fatalf("step %d %s: got %d %q, want %d %q (body %q)", i, s.path, r.StatusCode, r.Header.Get("X-Cache"), status, s.xcache, r.body)
				}
				for _, want := range s.has {
					if !strings.Contains(r.body, want) {
						t.Errorf("step %d %s: body %q lacks %q", i, s.path, r.body, want)
					}
				}
				for _, bad := range s.hasNot {
					if strings.Contains(r.body, bad) {
						t.Errorf("step %d %s: body %q has %q", i, s.path, r.body, bad)
					}
				}
			}
		})
	}
}

// FuzzRestrict: a request restricted for the origin has the same cache key as the viewer's,
// and carries no query parameter the key leaves out: what reaches the origin is what is keyed.
func FuzzRestrict(f *testing.F) {
	f.Add("v=1&utm=2&&v", "ab=1; ab=2; s=x", "da", uint8(2))
	f.Add("a=%20&b", "", "", uint8(3))
	f.Add("", "ab", "x", uint8(1))
	f.Fuzz(func(t *testing.T, query, cookie, lang string, mode uint8) {
		var u fasthttp.URI
		if u.Parse(nil, []byte("/p?"+query)) != nil || strings.ContainsFunc(cookie+lang, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			t.Skip("the server refuses such a request (400)")
		}
		key := cache.Policy{QueryStrings: cache.QueryMode(mode % 4), Headers: []string{"Accept-Language"}, Cookies: []string{"ab"}}
		if key.QueryStrings == cache.QueryAllow || key.QueryStrings == cache.QueryDeny {
			key.QueryNames = []string{"v", "b"}
		}
		fw := newForwarding(&key, OriginRequestConfig{})
		var view fasthttp.Request
		view.Header.DisableNormalizing()
		view.SetRequestURI("/p?" + query)
		view.Header.SetHost("h.example")
		view.Header.Set("Cookie", cookie)
		view.Header.Set("Accept-Language", lang)
		view.Header.Set("X-Other", "1")
		want := key.AppendKey(nil, &viewerRequest{r: &view})
		var req fasthttp.Request
		view.CopyTo(&req)
		fw.restrict(&req, &view, false)
		if got := key.AppendKey(nil, &viewerRequest{r: &req}); !bytes.Equal(got, want) {
			t.Fatalf("key of the forwarded request %q differs:\n%q\n%q", req.RequestURI(), got, want)
		}
		for rest := req.URI().QueryString(); len(rest) > 0; {
			var name []byte
			var hasValue bool
			name, _, hasValue, rest = cache.NextParam(rest)
			if !key.KeepsParam(name, hasValue) {
				t.Fatalf("forwarded %q, which the key leaves out", name)
			}
		}
		if peekFold(&req.Header, "X-Other") != nil {
			t.Fatal("forwarded X-Other, which the key leaves out")
		}
	})
}

// Headers an origin may reflect into links and redirects never reach it unkeyed, whatever
// origin_request forwards, in any spelling a CGI-style server reads as the same header.
func TestReflectedHeadersNeverForwardedUnkeyed(t *testing.T) {
	f := newForwarding(&cache.Policy{Headers: []string{"X-Forwarded-Port"}}, OriginRequestConfig{Headers: NameList{All: true}})
	tests := []struct {
		name string
		want bool
	}{
		{"X-Forwarded-Host", false},
		{"x_forwarded_host", false},
		{"X_Forwarded-Host", false},
		{"Forwarded", false},
		{"X-Forwarded-Prefix", false},
		{"X-Forwarded-Scheme", false},
		{"X-Host", false},
		{"X-Original-Host", false},
		{"X-Forwarded-Port", true}, // in the key: every value has its own object
		{"Accept-Language", true},
		{"X-Custom", true},
	}
	for _, tt := range tests {
		if got := f.forwards([]byte(tt.name), false); got != tt.want {
			t.Errorf("forwards(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
