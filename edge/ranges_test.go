package edge

import (
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRangesFromTheCache is RFC 9110 14: ranges of a stored object are answered by the cache,
// and a range miss fetches the whole object once.
func TestRangesFromTheCache(t *testing.T) {
	const body = "0123456789abcdef" // 16 bytes
	o := staticOrigin(t, body, "Cache-Control", "max-age=60", "ETag", `"e1"`, "Last-Modified", lastModified, "Content-Type", "text/plain")
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
	// The first, a miss, is answered with its range from the whole object fetched.
	r := n.get(t, "/r", "Range", "bytes=2-5")
	r.expect(t, 206, "Miss from verge")
	if r.body != "2345" || r.Header.Get("Content-Range") != "bytes 2-5/16" || o.lastRequest().Header.Get("Range") != "" {
		t.Fatalf("range miss: %q %q, origin Range %q", r.body, r.Header.Get("Content-Range"), o.lastRequest().Header.Get("Range"))
	}
	tests := []struct {
		name    string
		headers []string
		status  int
		body    string
		crange  string
	}{
		{"RFC 9110 14.1.2: a single range", []string{"Range", "bytes=0-3"}, 206, "0123", "bytes 0-3/16"},
		{"RFC 9110 14.1.2: an open range", []string{"Range", "bytes=12-"}, 206, "cdef", "bytes 12-15/16"},
		{"RFC 9110 14.1.2: a suffix range", []string{"Range", "bytes=-3"}, 206, "def", "bytes 13-15/16"},
		{"RFC 9110 14.1.2: a suffix longer than the body", []string{"Range", "bytes=-100"}, 206, body, "bytes 0-15/16"},
		{"RFC 9110 14.1.2: a last position past the end", []string{"Range", "bytes=14-99"}, 206, "ef", "bytes 14-15/16"},
		{"RFC 9110 15.5.17: unsatisfiable", []string{"Range", "bytes=16-20"}, 416, "", "bytes */16"},
		{"RFC 9110 14.2: an unknown unit is ignored", []string{"Range", "items=0-1"}, 200, body, ""},
		{"RFC 9110 14.2: a malformed range is ignored", []string{"Range", "bytes=5-2"}, 200, body, ""},
		{"RFC 9110 13.1.5: If-Range with the ETag", []string{"Range", "bytes=0-0", "If-Range", `"e1"`}, 206, "0", "bytes 0-0/16"},
		{"RFC 9110 13.1.5: If-Range with another ETag", []string{"Range", "bytes=0-0", "If-Range", `"e0"`}, 200, body, ""},
		{"RFC 9110 13.1.5: If-Range with a weak ETag", []string{"Range", "bytes=0-0", "If-Range", `W/"e1"`}, 200, body, ""},
		{"RFC 9110 13.1.5: If-Range with the date", []string{"Range", "bytes=1-1", "If-Range", lastModified}, 206, "1", "bytes 1-1/16"},
		{"RFC 9110 13.1.5: If-Range with another date", []string{"Range", "bytes=1-1", "If-Range", "Mon, 23 Nov 2026 09:00:00 GMT"}, 200, body, ""},
		{"RFC 9110 13.2.2: If-None-Match before Range", []string{"Range", "bytes=1-1", "If-None-Match", `"e1"`}, 304, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := n.get(t, "/r", tt.headers...)
			r.expect(t, tt.status, "Hit from verge")
			if r.body != tt.body || r.Header.Get("Content-Range") != tt.crange {
				t.Fatalf("body %q Content-Range %q, want %q %q", r.body, r.Header.Get("Content-Range"), tt.body, tt.crange)
			}
		})
	}
	t.Run("RFC 9110 14.6: several ranges as multipart/byteranges", func(t *testing.T) {
		r := n.get(t, "/r", "Range", "bytes=0-1, 14-")
		r.expect(t, 206, "Hit from verge")
		mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/byteranges" {
			t.Fatalf("Content-Type %q: %v", r.Header.Get("Content-Type"), err)
		}
		mr := multipart.NewReader(strings.NewReader(r.body), params["boundary"])
		for _, want := range []struct{ body, crange string }{{"01", "bytes 0-1/16"}, {"ef", "bytes 14-15/16"}} {
			p, err := mr.NextPart()
			if err != nil {
				t.Fatal(err)
			}
			got := new(strings.Builder)
			if _, err := io.Copy(got, p); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.body || p.Header.Get("Content-Range") != want.crange || p.Header.Get("Content-Type") != "text/plain" {
				t.Fatalf("part %q %v, want %q %q", got, p.Header, want.body, want.crange)
			}
		}
		if _, err := mr.NextPart(); err == nil {
			t.Fatal("a third part")
		}
	})
	if o.hits.Load() != 1 {
		t.Fatalf("origin hits %d, want 1", o.hits.Load())
	}
}

// TestRangeOfATooLargeObject: a range of an object larger than max_object_size passes through.
func TestRangeOfATooLargeObject(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if rng := r.Header.Get("Range"); rng != "" {
			w.Header().Set("Content-Range", "bytes 0-1/4096")
			w.WriteHeader(http.StatusPartialContent)
			io.WriteString(w, "ab")
			return
		}
		io.WriteString(w, strings.Repeat("a", 4096))
	})
	// max_object_size 256: the whole object is larger.
	n := startNode(t, "cache: {max_object_size: 256}\norigins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
	r := n.get(t, "/big", "Range", "bytes=0-1")
	r.expect(t, 206, "Miss from verge")
	if r.body != "ab" || o.lastRequest().Header.Get("Range") != "bytes=0-1" {
		t.Fatalf("got %q, origin Range %q", r.body, o.lastRequest().Header.Get("Range"))
	}
}

// FuzzParseRange: whatever parses gives ranges within the body, first <= last, at most
// maxRanges of them.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-1", "bytes=-5", "bytes=3-", "bytes=0-1,5-9, -2", "bytes=0-,0-,0-", "BYTES = 1-2", "bytes=", "bytes=9-1", "bytes=99999999999999999999999-"} {
		f.Add(s, int64(10))
	}
	f.Fuzz(func(t *testing.T, v string, size int64) {
		if size < 0 {
			return // a body has a size
		}
		ranges, ok := parseRange([]byte(v), size)
		if !ok {
			return
		}
		if len(ranges) > maxRanges {
			t.Fatalf("%d ranges", len(ranges))
		}
		total := int64(0)
		for _, r := range ranges {
			if r.first < 0 || r.first > r.last || r.last >= size {
				t.Fatalf("%q on %d bytes: range %+v", v, size, r)
			}
			total += r.last - r.first + 1
		}
		if len(ranges) > 1 && total > size {
			t.Fatalf("%q on %d bytes: %d bytes of parts", v, size, total)
		}
	})
}

// RFC 9110 14.2: several ranges that overlap, or add up to more than the object, are ignored
// (the whole object is the answer), so that one request cannot make the edge build a
// multipart body of many copies of a large object.
func TestParseRangeRefusesAmplification(t *testing.T) {
	tests := []struct {
		v  string
		ok bool
	}{
		{"bytes=0-,0-,0-,0-", false},
		{"bytes=0-5,3-8", false},
		{"bytes=0-4,-6", false}, // the suffix overlaps the first range
		{"bytes=0-1,5-9", true},
		{"bytes=0-", true},
		{"bytes=8-9,0-1", true},
	}
	for _, tt := range tests {
		if _, ok := parseRange([]byte(tt.v), 10); ok != tt.ok {
			t.Errorf("parseRange(%q) ok = %v, want %v", tt.v, ok, tt.ok)
		}
	}
}

// TestRangeOfAnUncacheableObject: once a key's answers proved uncacheable, a range request
// for it asks the origin for the range alone instead of the whole object again.
func TestRangeOfAnUncacheableObject(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		http.ServeContent(w, r, "", time.Time{}, strings.NewReader("0123456789"))
	})
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
	if r := n.get(t, "/u", "Range", "bytes=0-1"); r.StatusCode != 206 || r.body != "01" {
		t.Fatalf("first: %d %q", r.StatusCode, r.body)
	}
	r := n.get(t, "/u", "Range", "bytes=2-3")
	if r.StatusCode != 206 || r.body != "23" || o.lastRequest().Header.Get("Range") != "bytes=2-3" {
		t.Fatalf("second: %d %q, origin Range %q", r.StatusCode, r.body, o.lastRequest().Header.Get("Range"))
	}
}
