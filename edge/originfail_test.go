package edge

import (
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/vergecdn/verge/cache"
)

func TestOriginFailures(t *testing.T) {
	closedPort := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "http://" + addr
	}
	slow := func(t *testing.T) string {
		o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		})
		return o.URL
	}
	resetMidBody := func(t *testing.T) string {
		return resettingOrigin(t, "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: 1000\r\n\r\nonly part")
	}
	tests := []struct {
		name   string
		origin func(t *testing.T) string
		status int
	}{
		{"down", closedPort, 502},
		{"slow", slow, 504},
		{"reset mid-body", resetMidBody, 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := startNode(t, `
origins: [{id: o, url: ORIGIN, connect_timeout: 1s, read_timeout: 300ms}]
behaviors: [{path: "*", cache: {default_ttl: 60}}]
`, tt.origin(t), nil)
			start := time.Now()
			r := n.get(t, "/")
			r.expect(t, tt.status, "Error from verge")
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("the viewer waited %v", d)
			}
			if n.Store().Purge(cache.Purge{Pattern: "all"}) != 0 {
				t.Errorf("an origin failure was cached")
			}
		})
	}
}
