package edge

import (
	"strings"
	"testing"
)

func TestConditionalHits(t *testing.T) {
	o := staticOrigin(t, "body", "Cache-Control", "max-age=60", "ETag", `"v1"`, "Last-Modified", "Mon, 23 Nov 2026 10:00:00 GMT")
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
	n.get(t, "/c").expect(t, 200, "Miss from verge")
	tests := []struct {
		name    string
		headers []string
		status  int
	}{
		{"matching etag", []string{"If-None-Match", `"v1"`}, 304},
		{"weak etag in a list", []string{"If-None-Match", `"x", W/"v1"`}, 304},
		{"star", []string{"If-None-Match", `*`}, 304},
		{"other etag", []string{"If-None-Match", `"v2"`}, 200},
		{"etag decides over date", []string{"If-None-Match", `"v2"`, "If-Modified-Since", "Tue, 24 Nov 2026 10:00:00 GMT"}, 200},
		{"not modified since", []string{"If-Modified-Since", "Mon, 23 Nov 2026 10:00:00 GMT"}, 304},
		{"modified since", []string{"If-Modified-Since", "Sun, 22 Nov 2026 10:00:00 GMT"}, 200},
		{"unconditional", nil, 200},
		{"lower-case if-none-match", []string{"if-none-match", `"v1"`}, 304},
		{"lower-case if-modified-since", []string{"if-modified-since", "Mon, 23 Nov 2026 10:00:00 GMT"}, 304},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := n.get(t, "/c", tt.headers...)
			r.expect(t, tt.status, "Hit from verge")
			if tt.status == 304 && (r.body != "" || r.Header.Get("ETag") != `"v1"` || r.Header.Get("Cache-Control") != "max-age=60") {
				t.Fatalf("304: body %q headers %v", r.body, r.Header)
			}
			if tt.status == 200 && r.body != "body" {
				t.Fatalf("200: body %q", r.body)
			}
		})
	}
	if o.hits.Load() != 1 {
		t.Fatalf("origin hits %d", o.hits.Load())
	}
}

// TestConditionalOnDate is RFC 9111 4.3.2: without Last-Modified, If-Modified-Since is
// compared with the stored response's Date.
func TestConditionalOnDate(t *testing.T) {
	o := staticOrigin(t, "body", "Cache-Control", "max-age=60", "Date", "Mon, 23 Nov 2026 12:00:00 GMT")
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
	n.get(t, "/d").expect(t, 200, "Miss from verge")
	n.get(t, "/d", "If-Modified-Since", "Mon, 23 Nov 2026 12:30:00 GMT").expect(t, 304, "Hit from verge")
	n.get(t, "/d", "If-Modified-Since", "Mon, 23 Nov 2026 11:00:00 GMT").expect(t, 200, "Hit from verge")
}

func FuzzETagList(f *testing.F) {
	for _, s := range []string{`"a"`, `W/"a", "b"`, `*`, `,,`, ``} {
		f.Add(s, `"a"`)
	}
	f.Fuzz(func(t *testing.T, list, etag string) {
		// Appending the tag itself to any list must make it match.
		if !etagListMatches([]byte(list+","+etag), etag) && etag != "" && !strings.Contains(etag, ",") && strings.TrimSpace(etag) == etag {
			t.Fatalf("%q does not match a list ending with it", etag)
		}
	})
}
