package cluster

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestPurgeHandler(t *testing.T) {
	var got []string
	purge := func(p string) (int, error) {
		if p == "/boom" {
			return 0, errors.New("cluster: boom")
		}
		got = append(got, p)
		return 3, nil
	}
	h := PurgeHandler(purge, true)
	tests := []struct {
		name, auth, body string
		status           int
		contains         string
	}{
		{"ok", "Bearer tok", `{"pattern":"/images/*"}`, 200, `"purged":3`},
		{"soft", "Bearer tok", `{"pattern":"/a","soft":true}`, 501, "not supported yet"},
		{"bad pattern", "Bearer tok", `{"pattern":"images"}`, 400, "invalid pattern"},
		{"empty", "Bearer tok", `{}`, 400, "pattern"},
		{"not json", "Bearer tok", `/a`, 400, "JSON"},
		{"purge fails", "Bearer tok", `{"pattern":"/boom"}`, 500, "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/v1/cache/purge", strings.NewReader(tt.body))
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.contains) {
				t.Fatalf("got %d %s, want %d containing %q", rec.Code, rec.Body, tt.status, tt.contains)
			}
		})
	}
	if len(got) != 1 || got[0] != "/images/*" {
		t.Fatalf("purged %v, want only /images/*", got)
	}
}

func TestMembersRoute(t *testing.T) {
	nodes := startFleet(t, 3, nodeOpts{admin: true})
	nodes[0].set("k", "v")
	waitFor(t, 3*time.Second, "members in sync", func() bool {
		ms := nodes[1].c.Members()
		return converged(nodes, "k", "v") && len(ms) == 3 && ms[0].InSync && ms[1].InSync && ms[2].InSync
	})
	resp, err := http.Get(nodes[1].admin.URL + "/v1/cluster/members")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Self    string   `json:"self"`
		Members []Member `json:"members"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.Self != "n001" || len(body.Members) != 3 {
		t.Fatalf("got %+v", body)
	}
	for _, m := range body.Members {
		if m.State != StateAlive || m.Admin == "" || len(m.Digest) != 64 {
			t.Errorf("member %+v: want alive, an admin URL and a 32-byte digest", m)
		}
		if m.Local != (m.Name == "n001") {
			t.Errorf("member %s: Local = %v", m.Name, m.Local)
		}
	}
	http.DefaultClient.CloseIdleConnections()
}
