package edge

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// rawExchange writes requests, as they are, on one new connection to addr and reads back
// responses until it has want final ones, each as "status X-Cache body" or, for an interim
// one, "status Link".
func rawExchange(t *testing.T, addr, requests string, want int) []string {
	t.Helper()
	c := rawDial(t, addr)
	if _, err := io.WriteString(c, requests); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var got []string
	for finals := 0; finals < want; {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		if resp.StatusCode < 200 {
			got = append(got, fmt.Sprintf("%d %s", resp.StatusCode, resp.Header.Get("Link")))
			continue
		}
		finals++
		got = append(got, fmt.Sprintf("%d %s %s", resp.StatusCode, resp.Header.Get("X-Cache"), body))
	}
	return got
}

// RFC 9110 15.2: the origin's interim responses reach the viewer ahead of the final one, and
// are never stored (RFC 9111 3: only final responses are). They are passed on only where the
// connection's order allows it (see interimWriter).
func TestInterimResponses(t *testing.T) {
	url := rawOrigin(t, "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"+
		"HTTP/1.1 102 Processing\r\n\r\n"+
		"HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: 2\r\n\r\nok")
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", url, nil)
	get := func(path, version string) string {
		return "GET " + path + " " + version + "\r\nHost: test\r\n\r\n"
	}
	for _, tc := range []struct {
		name     string
		requests string
		finals   int
		want     []string
	}{
		{"miss", get("/a", "HTTP/1.1"), 1,
			[]string{"103 </s.css>; rel=preload", "102 ", "200 Miss from verge ok"}},
		{"hit", get("/a", "HTTP/1.1"), 1,
			[]string{"200 Hit from verge ok"}},
		{"HTTP/1.0", get("/b", "HTTP/1.0"), 1,
			[]string{"200 Miss from verge ok"}},
		{"pipelined", get("/c", "HTTP/1.1") + get("/d", "HTTP/1.1"), 2,
			[]string{"103 </s.css>; rel=preload", "102 ", "200 Miss from verge ok", "200 Miss from verge ok"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := rawExchange(t, n.Addr(), tc.requests, tc.finals)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(tc.want, "\n\t"))
			}
		})
	}
}
