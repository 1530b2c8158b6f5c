package origin

import (
	"slices"
	"testing"

	"github.com/valyala/fasthttp"
)

func TestIsHopByHop(t *testing.T) {
	for name, want := range map[string]bool{
		"Connection": true, "connection": true, "KEEP-ALIVE": true, "Proxy-Connection": true,
		"Proxy-Authenticate": true, "proxy-authorization": true, "TE": true, "te": true,
		"Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
		"Trailers": false, "Content-Length": false, "Host": false, "": false, "Connectio": false,
		"Authorization": false, "X-Forwarded-For": false,
	} {
		if got := IsHopByHop(name); got != want {
			t.Errorf("IsHopByHop(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestStripHopByHopRequest(t *testing.T) {
	for _, normalize := range []bool{true, false} {
		var h fasthttp.RequestHeader
		if !normalize {
			h.DisableNormalizing()
		}
		h.SetMethod("GET")
		h.SetRequestURI("/")
		h.SetHost("example.com")
		for _, kv := range [][2]string{
			{"connection", "close, x-a , X-B"}, {"x-a", "1"}, {"X-B", "2"}, {"x-c", "3"},
			{"keep-alive", "5"}, {"te", "trailers"}, {"upgrade", "websocket"}, {"proxy-authorization", "x"},
		} {
			h.Add(kv[0], kv[1])
		}
		StripHopByHopRequest(&h)
		var names []string
		for k := range h.All() {
			names = append(names, string(k))
		}
		want := []string{"Host", "X-C"}
		if !normalize {
			want = []string{"Host", "x-c"}
		}
		slices.Sort(names)
		if !slices.Equal(names, want) || h.ConnectionClose() {
			t.Errorf("normalize=%v: left %q (close=%v), want %q", normalize, names, h.ConnectionClose(), want)
		}
	}
}

func TestViaNames(t *testing.T) {
	for _, tc := range []struct {
		via  string
		name string
		want bool
	}{
		{"1.1 verge", "verge", true},
		{"1.0 fred, 1.1 Verge (Verge/1.0)", "verge", true},
		{"1.1 vergex, 1.1 xverge", "verge", false},
		{"verge", "verge", false}, // malformed entry: no received-by
		{"", "verge", false},
		{" ,, 2 edge-1 ,", "edge-1", true},
	} {
		if got := viaNames([]byte(tc.via), tc.name); got != tc.want {
			t.Errorf("viaNames(%q, %q) = %v, want %v", tc.via, tc.name, got, tc.want)
		}
	}
}
