package cache

import (
	"testing"
	"time"
)

// TestParseHTTPDate is RFC 9110 5.6.7: the three formats, and nothing else; names in any case.
func TestParseHTTPDate(t *testing.T) {
	want := time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)
	tests := []struct {
		in string
		ok bool
	}{
		{"Sun, 06 Nov 1994 08:49:37 GMT", true},
		{"  Sun, 06 Nov 1994 08:49:37 GMT\t", true},
		{"Sunday, 06-Nov-94 08:49:37 GMT", true},
		{"Sun Nov  6 08:49:37 1994", true},
		{"Sun, 6 Nov 1994 08:49:37 GMT", false},
		{"Sun, 06 Nov 1994 08:49:37 UTC", false},
		{"Sun, 06 nov 1994 08:49:37 GMT", true},
		{"SUN, 06 NOV 1994 08:49:37 gmt", true},
		{"sunday, 06-nov-94 08:49:37 Gmt", true},
		{"sun nov  6 08:49:37 1994", true},
		{"Sun, 06 Nvo 1994 08:49:37 GMT", false},
		{"Sun, 06 Nov 1994 8:49:37 GMT", false},
		{"Sun, 06 Nov 1994 08:49:37 +0000", false},
		{"Sun, 06 Nov 1994 08:49:37 GMT+1", false},
		{"Sun, 31 Feb 1994 08:49:37 GMT", false},
		{"Sun, 06 Nov 1994 24:49:37 GMT", false},
		{"Xyz, 06 Nov 1994 08:49:37 GMT", false},
		{"Sun, 06-Nov-94 08:49:37 GMT", false},
		{"Sunday, 06 Nov 1994 08:49:37 GMT", false},
		{"Sun Nov 06 08:49:37 1994", true},
		{"0", false},
		{"-1", false},
		{"", false},
		{"784111777", false},
		{"1994-11-06T08:49:37Z", false},
	}
	for _, tt := range tests {
		got, ok := parseHTTPDate(tt.in, now)
		if ok != tt.ok || ok && !got.Equal(want) {
			t.Errorf("parseHTTPDate(%q) = %v, %v; want ok %v", tt.in, got, ok, tt.ok)
		}
	}
}

// TestRFC850Year is RFC 9110 5.6.7: a two-digit year more than 50 years ahead is in the past.
func TestRFC850Year(t *testing.T) {
	for _, tt := range []struct {
		in   string
		year int
	}{
		{"Monday, 01-Jan-24 00:00:00 GMT", 2024},
		{"Friday, 01-Jan-76 00:00:00 GMT", 2076},
		{"Sunday, 01-Jan-77 00:00:00 GMT", 1977},
		{"Thursday, 01-Jan-70 00:00:00 GMT", 2070},
	} {
		got, ok := parseHTTPDate(tt.in, now) // now is in 2026
		if !ok || got.Year() != tt.year {
			t.Errorf("parseHTTPDate(%q) = %v, %v; want year %d", tt.in, got, ok, tt.year)
		}
	}
}

// FuzzParseHTTPDate: whatever parses formats back (as IMF-fixdate) to a value that parses to
// the same time, and only the three lengths of the formats parse at all.
func FuzzParseHTTPDate(f *testing.F) {
	for _, s := range []string{"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
		"Sun Nov  6 08:49:37 1994", "0", "Wed, 31 Dec 9999 23:59:60 GMT", "Sat, 29 Feb 2020 00:00:00 GMT"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseHTTPDate(s, now)
		if !ok {
			return
		}
		again, ok := parseHTTPDate(httpDate(got), now)
		if !ok || !again.Equal(got) {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, got, httpDate(got), again, ok)
		}
	})
}
