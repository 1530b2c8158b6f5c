package edge

import (
	"net/http"
	"testing"
)

// TestRFC9111Section3StoresBodylessResponses is RFC 9111 section 3: a response without a body
// (204 No Content) is stored and reused like any other when its headers allow it.
func TestRFC9111Section3StoresBodylessResponses(t *testing.T) {
	tests := []struct {
		name   string
		status int
	}{
		{"204 with max-age", http.StatusNoContent},
		{"200 with max-age", http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=3600")
				w.WriteHeader(tc.status)
			})
			n := startQuickStart(t, o.URL)
			n.get(t, "/a").expect(t, tc.status, "Miss from verge")
			n.get(t, "/a").expect(t, tc.status, "Hit from verge")
			if got := o.hits.Load(); got != 1 {
				t.Fatalf("origin saw %d requests, want 1", got)
			}
		})
	}
}
