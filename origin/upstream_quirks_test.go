package origin

import (
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestFetchIdleBytesNotTakenAsNextResponse: an origin that sends more than its Content-Length,
// the excess arriving a moment later, leaves bytes on an idle keep-alive connection. The next
// fetch must not read them as its own response (a desync that lets one URL's answer be served,
// and cached, for another).
func TestFetchIdleBytesNotTakenAsNextResponse(t *testing.T) {
	sent := make(chan struct{})
	srv := newRawServer(t, func(c net.Conn, r rawRequest) bool {
		if strings.Contains(r.Line, "/first") {
			writeResponse(c, 200, nil, "hello")
			time.Sleep(30 * time.Millisecond) // after the client has read its answer
			io.WriteString(c, "HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nContent-Length: 8\r\n\r\nsmuggled")
			close(sent)
			return true
		}
		writeResponse(c, 200, nil, "real")
		return true
	})
	o := newOrigin(t, Config{URL: srv.url()})
	if b := string(fetch(t, o, newRequest("GET", "/first"), Viewer{}).Body()); b != "hello" {
		t.Fatalf("first: %q", b)
	}
	<-sent
	time.Sleep(20 * time.Millisecond) // loopback delivers it: the excess waits on the idle connection
	if b := string(fetch(t, o, newRequest("GET", "/second"), Viewer{}).Body()); b != "real" {
		t.Fatalf("second fetch got %q, want %q: it read the previous response's excess bytes", b, "real")
	}
}

// TestFetchNoInventedContentType: a response without Content-Type must stay without one.
func TestFetchNoInventedContentType(t *testing.T) {
	for _, st := range []int{200, 204, 302, 304} {
		body := "x"
		if st == 204 || st == 304 {
			body = ""
		}
		srv := newRawServer(t, answer(st, body))
		o := newOrigin(t, Config{URL: srv.url()})
		resp := fetch(t, o, newRequest("GET", "/"), Viewer{})
		for k, v := range resp.Header.All() {
			if strings.EqualFold(string(k), "Content-Type") {
				t.Errorf("status %d: the origin sent no Content-Type, Fetch returned %q", st, v)
			}
		}
	}
}

// TestFetchKeepsOrderOfRepeatedFields: RFC 9110 5.3, a proxy must not reorder the lines of a
// repeated field. Removing hop-by-hop fields (Connection: keep-alive, Keep-Alive, as browsers and
// Apache send them) must leave the other lines in order, in both directions.
func TestFetchKeepsOrderOfRepeatedFields(t *testing.T) {
	srv := newRawServer(t, answer(401, "no", "Connection: keep-alive", "Keep-Alive: timeout=5, max=100",
		"WWW-Authenticate: Negotiate", "WWW-Authenticate: Basic realm=\"x\""))
	o := newOrigin(t, Config{URL: srv.url()})
	req := newRequest("GET", "/", "Connection: keep-alive", "Accept-Language: da", "Accept-Language: en-gb")
	req.Header.DisableNormalizing()
	resp := fetch(t, o, req, Viewer{IP: "192.0.2.1"})
	if got := only(t, srv).values("Accept-Language"); !slices.Equal(got, []string{"da", "en-gb"}) {
		t.Errorf("origin got Accept-Language %q, want [da en-gb]", got)
	}
	var auth []string
	for k, v := range resp.Header.All() {
		if strings.EqualFold(string(k), "WWW-Authenticate") {
			auth = append(auth, string(v))
		}
	}
	if want := []string{"Negotiate", `Basic realm="x"`}; !slices.Equal(auth, want) {
		t.Errorf("response WWW-Authenticate %q, want %q", auth, want)
	}
}
