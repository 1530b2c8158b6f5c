package edge

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/vergecdn/verge/hooks"
)

// TestRefusedBeforeAnyWork: a request over CloudFront's URI limit gets a 414 before any
// function runs (not a validation error blamed on a function that changed nothing), and one the
// server cannot read gets its 4xx with X-Cache, a count and no function or origin reached.
func TestRefusedBeforeAnyWork(t *testing.T) {
	o := staticOrigin(t, "body", "Cache-Control", "max-age=60")
	rec := &recorder{}
	n := startNode(t, allStagesYAML, o.URL, map[string]hooks.Function{"rec": rec})
	tests := []struct {
		name   string
		head   string // the request line and fields, without the final CRLF
		status int
		stages string // the stages that ran
	}{
		{"URI at the limit", "GET /" + strings.Repeat("a", 8000) + "?" + strings.Repeat("q", 190) + " HTTP/1.1\r\nHost: t", 200,
			"viewer-request,origin-request,origin-response,viewer-response"},
		{"URI one byte over", "GET /" + strings.Repeat("a", 8000) + "?" + strings.Repeat("q", 191) + " HTTP/1.1\r\nHost: t", 414, ""},
		{"path over", "GET /" + strings.Repeat("b", 9000) + " HTTP/1.1\r\nHost: t", 414, ""},
		{"head over the read buffer", "GET /" + strings.Repeat("c", 17<<10) + " HTTP/1.1\r\nHost: t", 431, ""},
		{"field without a colon", "GET /x HTTP/1.1\r\nHost: t\r\nBroken", 400, ""},
		{"body over max_request_body_size", "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 17000000", 413, ""},
	}
	counted := map[int]float64{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rawDial(t, n.Addr())
			if _, err := c.Write([]byte(tt.head + "\r\nConnection: close\r\n\r\n")); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status || resp.Header.Get("X-Cache") == "" {
				t.Fatalf("got %d, X-Cache %q; want %d with an X-Cache", resp.StatusCode, resp.Header.Get("X-Cache"), tt.status)
			}
			if tt.status != 200 && resp.Header.Get("X-Cache") != "Error from verge" {
				t.Fatalf("X-Cache %q", resp.Header.Get("X-Cache"))
			}
			if got := rec.take(); got != tt.stages {
				t.Fatalf("stages %q, want %q", got, tt.stages)
			}
			if tt.status != 200 {
				counted[tt.status]++
			}
		})
	}
	for status, want := range counted {
		series := `verge_http_requests_total{cache="error",status="` + strconv.Itoa(status) + `"}`
		if got := n.metric(t, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if o.hits.Load() != 1 {
		t.Errorf("origin reached %d times, want once (the request within the limit)", o.hits.Load())
	}
}
