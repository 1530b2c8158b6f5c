package cache

import (
	"reflect"
	"testing"
)

// TestUpdateHeaders is RFC 9111 4.3.4 and 3.2: a 304 replaces the stored fields it carries,
// but not Content-Length, the body's encoding or Vary.
func TestUpdateHeaders(t *testing.T) {
	tests := []struct {
		name                string
		stored, notModified []string
		want                []string
	}{
		{"new fields added, old replaced",
			[]string{"Content-Type: text/plain", "Cache-Control: max-age=1", "ETag: \"a\"", "X-Old: 1"},
			[]string{"Cache-Control: max-age=60", "X-New: 2"},
			[]string{"Content-Type: text/plain", "ETag: \"a\"", "X-Old: 1", "Cache-Control: max-age=60", "X-New: 2"}},
		{"every line of a replaced field goes",
			[]string{"Link: <a>", "Link: <b>"}, []string{"link: <c>"}, []string{"link: <c>"}},
		{"Content-Length, Content-Encoding, Content-Range and Vary are kept",
			[]string{"Content-Length: 5", "Content-Encoding: gzip", "Vary: Accept"},
			[]string{"Content-Length: 0", "content-encoding: br", "Content-Range: bytes 0-1/2", "Vary: *"},
			[]string{"Content-Length: 5", "Content-Encoding: gzip", "Vary: Accept"}},
		{"an empty 304 changes nothing", []string{"A: 1"}, nil, []string{"A: 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stored := hdrs(tt.stored...)
			got := UpdateHeaders(stored, hdrs(tt.notModified...))
			if want := hdrs(tt.want...); !reflect.DeepEqual(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
			if !reflect.DeepEqual(stored, hdrs(tt.stored...)) {
				t.Fatal("the stored fields were modified")
			}
		})
	}
}
