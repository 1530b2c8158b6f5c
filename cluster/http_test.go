package cluster

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vergecdn/verge/cache"
	"github.com/vergecdn/verge/internal/poll"
)

func TestPurgeHandler(t *testing.T) {
	var got []cache.Purge
	purge := func(p cache.Purge) (int, error) {
		if p.Pattern == "/boom" {
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
		{"soft, one host", "Bearer tok", `{"pattern":"/a","soft":true,"host":"Example.com"}`, 200, `"soft":true`},
		{"unknown field", "Bearer tok", `{"pattern":"/a","sofft":true}`, 400, "JSON"},
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
	want := []cache.Purge{{Pattern: "/images/*"}, {Pattern: "/a", Soft: true, Host: "Example.com"}}
	if !slices.Equal(got, want) {
		t.Fatalf("purged %+v, want %+v", got, want)
	}
}

func TestMembersRoute(t *testing.T) {
	nodes := startFleet(t, 3, nodeOpts{admin: true})
	nodes[0].set("k", "v")
	poll.Until(t, 3*time.Second, "members in sync", func() bool {
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
