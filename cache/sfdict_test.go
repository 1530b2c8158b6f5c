package cache

import (
	"testing"
	"time"
)

// TestRFC9213Section2_1InvalidTargetedFieldIsIgnored is RFC 9213 2.1: a CDN-Cache-Control the
// cache cannot parse as a Structured Field Dictionary, or whose lifetimes are not Integers, is
// ignored as if absent, and Cache-Control decides.
func TestRFC9213Section2_1InvalidTargetedFieldIsIgnored(t *testing.T) {
	tests := []struct {
		name     string
		cdn      []string // CDN-Cache-Control lines
		targeted bool
		maxAge   time.Duration // with targeted
	}{
		{"integer max-age", []string{"max-age=600"}, true, 10 * time.Minute},
		{"flags and parameters", []string{"max-age=600, no-transform;a=1, x=?1, y=(a 1 \"s\"), z=:aGk=:, w=1.5"}, true, 10 * time.Minute},
		{"two valid lines", []string{"max-age=600", "must-revalidate"}, true, 10 * time.Minute},
		{"not a dictionary", []string{"max-age=600, &&&&&"}, false, 0},
		{"string where an integer belongs", []string{`max-age="600"`}, false, 0},
		{"decimal where an integer belongs", []string{"s-maxage=6.5"}, false, 0},
		{"token where an integer belongs", []string{"stale-if-error=abc"}, false, 0},
		{"upper-case key", []string{"Max-Age=600"}, false, 0},
		{"trailing comma", []string{"max-age=600,"}, false, 0},
		{"empty", []string{""}, false, 0},
		{"one bad line spoils the field", []string{"max-age=600", "max-age=\"1\""}, false, 0},
		{"space before equals", []string{"max-age =600"}, false, 0},
		{"unterminated string", []string{`x="abc`}, false, 0},
		{"integer too long", []string{"max-age=1234567890123456"}, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := []Header{{Name: "Cache-Control", Value: "no-store"}}
			for _, v := range tc.cdn {
				hs = append(hs, Header{Name: "CDN-Cache-Control", Value: v})
			}
			cc, targeted := Directives(hs)
			if targeted != tc.targeted {
				t.Fatalf("targeted = %v, want %v", targeted, tc.targeted)
			}
			if !targeted && !cc.NoStore {
				t.Fatalf("Cache-Control's no-store lost: %+v", cc)
			}
			if targeted && (cc.MaxAge != tc.maxAge || cc.NoStore) {
				t.Fatalf("got %+v, want max-age %v and no no-store", cc, tc.maxAge)
			}
		})
	}
}

func FuzzValidTargeted(f *testing.F) {
	for _, s := range []string{"max-age=600", "max-age=600, &&", `max-age="1"`, "a;b=?0, c=(1 2);d", "x=:aGk=:", "", "-1.123", "*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ok := validTargeted(s)
		// A valid dictionary stays valid with a valid member added, and never with a
		// trailing comma.
		if ok && !validTargeted(s+", zz=1") {
			t.Fatalf("%q valid but not with a member added", s)
		}
		if validTargeted(s + ",") {
			t.Fatalf("%q with a trailing comma is valid", s)
		}
	})
}
