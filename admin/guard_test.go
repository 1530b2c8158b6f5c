package admin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestGuard drives Guard's three steps with one request each: what reaches the handler, and
// as whom.
func TestGuard(t *testing.T) {
	tokens := []Token{{Name: "ci", Secret: "s3cret"}, {Name: "ops", Secret: "other"}}
	withTokens := GuardOptions{Tokens: tokens, Listen: "edge-1.internal:8081", Hosts: []string{"Admin.Example."},
		PeerToken: "fleet", PeerPath: "/v1/blobs/", Open: []string{"/v1/cluster/sync"}}
	open := GuardOptions{Listen: "127.0.0.1:8081"}
	metrics := withTokens
	metrics.MetricsAuth = true
	anyHost := GuardOptions{Hosts: []string{"*"}}
	tests := []struct {
		name           string
		o              GuardOptions
		method, target string
		header         map[string]string // "Host" sets the Host
		status         int
		who            string
	}{
		{"token", withTokens, "GET", "/v1/functions", map[string]string{"Authorization": "Bearer s3cret"}, 200, "ci"},
		{"second token", withTokens, "GET", "/v1/functions", map[string]string{"Authorization": "bearer other"}, 200, "ops"},
		{"no token", withTokens, "GET", "/v1/functions", nil, 401, ""},
		{"basic scheme", withTokens, "GET", "/v1/functions", map[string]string{"Authorization": "Basic s3cret"}, 401, ""},
		{"token prefix", withTokens, "GET", "/v1/functions", map[string]string{"Authorization": "Bearer s3cre"}, 401, ""},
		{"fleet on a blob", withTokens, "GET", "/v1/blobs/ab", map[string]string{"Authorization": "Bearer fleet"}, 200, "fleet"},
		{"fleet, HEAD on a blob", withTokens, "HEAD", "/v1/blobs/ab", map[string]string{"Authorization": "Bearer fleet"}, 200, "fleet"},
		{"fleet deletes", withTokens, "DELETE", "/v1/blobs/ab", map[string]string{"Authorization": "Bearer fleet"}, 401, ""},
		{"fleet elsewhere", withTokens, "GET", "/v1/blobsx", map[string]string{"Authorization": "Bearer fleet"}, 401, ""},
		{"fleet on members", withTokens, "GET", "/v1/cluster/members", map[string]string{"Authorization": "Bearer fleet"}, 401, ""},
		{"open path", withTokens, "GET", "/v1/cluster/sync?function=f", nil, 200, "anyone"},
		{"open path HEAD", withTokens, "HEAD", "/v1/cluster/sync", nil, 200, "anyone"},
		{"open path POST", withTokens, "POST", "/v1/cluster/sync", nil, 401, ""},
		{"open path is exact", withTokens, "GET", "/v1/cluster/sync/x", nil, 401, ""},
		{"open path, %2F for its slash", withTokens, "GET", "/v1/cluster%2Fsync", nil, 401, ""},
		{"open path, %2f for its slash", withTokens, "HEAD", "/v1/cluster%2fsync", nil, 401, ""},
		{"open path, a letter escaped", withTokens, "GET", "/v1/cluster/%73ync", nil, 401, ""},
		{"metrics, a letter escaped", withTokens, "GET", "/%6Detrics", nil, 401, ""},
		{"fleet on a blob, %2F in the prefix", withTokens, "GET", "/v1%2Fblobs/ab", map[string]string{"Authorization": "Bearer fleet"}, 401, ""},
		{"open path, rebound", withTokens, "GET", "/v1/cluster/sync", map[string]string{"Host": "evil.example"}, 421, ""},
		{"healthz, any host", withTokens, "GET", "/healthz", map[string]string{"Host": "evil.example"}, 200, ""},
		{"readyz HEAD", withTokens, "HEAD", "/readyz", nil, 200, ""},
		{"healthz, a letter escaped, any host", withTokens, "GET", "/%68ealthz", map[string]string{"Host": "evil.example"}, 421, ""},
		{"healthz POST is not open", withTokens, "POST", "/healthz", nil, 401, ""},
		{"metrics open", withTokens, "GET", "/metrics", nil, 200, "metrics"},
		{"metrics open, rebound", withTokens, "GET", "/metrics", map[string]string{"Host": "evil.example"}, 421, ""},
		{"metrics_auth", metrics, "GET", "/metrics", nil, 401, ""},
		{"metrics_auth with the token", metrics, "GET", "/metrics", map[string]string{"Authorization": "Bearer other"}, 200, "ops"},
		{"listen name", withTokens, "GET", "/v1/x", map[string]string{"Host": "EDGE-1.internal:8081", "Authorization": "Bearer s3cret"}, 200, "ci"},
		{"admin_hosts name", withTokens, "GET", "/v1/x", map[string]string{"Host": "admin.example.", "Authorization": "Bearer s3cret"}, 200, "ci"},
		{"IP literal", withTokens, "GET", "/v1/x", map[string]string{"Host": "10.1.2.3:8081", "Authorization": "Bearer s3cret"}, 200, "ci"},
		{"IPv6 literal", withTokens, "GET", "/v1/x", map[string]string{"Host": "[2001:db8::1]:8081", "Authorization": "Bearer s3cret"}, 200, "ci"},
		{"other name", withTokens, "GET", "/v1/x", map[string]string{"Host": "admin.example.evil.example", "Authorization": "Bearer s3cret"}, 421, ""},
		{"empty host", withTokens, "GET", "/v1/x", map[string]string{"Host": "", "Authorization": "Bearer s3cret"}, 421, ""},
		{"origin admin_hosts", withTokens, "POST", "/v1/x", map[string]string{"Origin": "https://admin.example", "Authorization": "Bearer s3cret"}, 200, "ci"},
		{"origin elsewhere", withTokens, "POST", "/v1/x", map[string]string{"Origin": "https://evil.example", "Authorization": "Bearer s3cret"}, 403, ""},
		{"origin on another IP", withTokens, "GET", "/v1/x", map[string]string{"Origin": "http://10.9.9.9", "Authorization": "Bearer s3cret"}, 403, ""},
		{"origin null", open, "GET", "/v1/x", map[string]string{"Origin": "null"}, 403, ""},
		{"origin loopback", open, "POST", "/v1/x", map[string]string{"Origin": "http://[::1]:3000"}, 200, "local"},
		{"sec-fetch-site same-origin", open, "POST", "/v1/x", map[string]string{"Sec-Fetch-Site": "same-origin"}, 200, "local"},
		{"sec-fetch-site none", open, "GET", "/v1/x", map[string]string{"Sec-Fetch-Site": "none"}, 200, "local"},
		{"sec-fetch-site cross-site", open, "GET", "/v1/x", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, ""},
		{"text/plain POST, no token", open, "POST", "/v1/x", map[string]string{"Content-Type": "Text/Plain ; charset=utf-8"}, 403, ""},
		{"text/plain PUT, no token", open, "PUT", "/v1/x", map[string]string{"Content-Type": "text/plain"}, 403, ""},
		{"text/plain GET, no token", open, "GET", "/v1/x", map[string]string{"Content-Type": "text/plain"}, 200, "local"},
		{"JSON POST, no token", open, "POST", "/v1/x", map[string]string{"Content-Type": "application/json"}, 200, "local"},
		{"raw PUT, no token", open, "PUT", "/v1/x", map[string]string{"Content-Type": "application/zip"}, 200, "local"},
		{"no Content-Type, no token", open, "POST", "/v1/x", nil, 200, "local"},
		{"text/plain POST with a token", withTokens, "POST", "/v1/x", map[string]string{"Content-Type": "text/plain", "Authorization": "Bearer s3cret"}, 200, "ci"},
		{"any host", anyHost, "GET", "/v1/x", map[string]string{"Host": "whatever.example"}, 200, "local"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wrap, err := Guard(tc.o)
			if err != nil {
				t.Fatal(err)
			}
			var who string
			h := wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				who, _ = r.Context().Value(whoKey{}).(string)
			}))
			req := httptest.NewRequest(tc.method, tc.target, nil)
			req.Host = "127.0.0.1:8081"
			for k, v := range tc.header {
				if k == "Host" {
					req.Host = v
				} else {
					req.Header.Set(k, v)
				}
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status || who != tc.who {
				t.Fatalf("status %d who %q, want %d %q: %s", rec.Code, who, tc.status, tc.who, rec.Body)
			}
			if rec.Code >= 400 && !strings.Contains(rec.Body.String(), `"error"`) {
				t.Fatalf("an error without a JSON reason: %s", rec.Body)
			}
		})
	}
}

func TestGuardRefusesBadOptions(t *testing.T) {
	for _, o := range []GuardOptions{
		{Hosts: []string{"http://x.example"}},
		{Hosts: []string{"x.example:8081"}},
		{Tokens: []Token{{Name: "a", Secret: ""}}},
		{Tokens: []Token{{Name: "a", Secret: "same"}}, PeerToken: "same", PeerPath: "/v1/blobs/"},
		{PeerToken: "fleet"},
	} {
		if _, err := Guard(o); err == nil {
			t.Errorf("Guard(%+v) accepted", o)
		}
	}
}
