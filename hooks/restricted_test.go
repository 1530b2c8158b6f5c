package hooks

import (
	"strings"
	"testing"
)

func TestIsDisallowed(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"Connection", true}, {"connection", true}, {"EXPECT", true}, {"X-Cache", true},
		{"x-amzn-lambda-integration-tag", true}, {"X-Amz-Cf-Id", true}, {"x-amz-cf-", true},
		{"X-Edge-" + strings.Repeat("Long-", 40), true}, {"x-edge-location", true},
		{"Content-Type", false}, {"X-Cached", false}, {"x-amz-c", false}, {"", false},
		{"X-Edge", false}, {strings.Repeat("x", maxDisallowedLen+1), false}, {"Hösts", false},
	} {
		if got := IsDisallowed(tc.name); got != tc.want {
			t.Errorf("IsDisallowed(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
	for name := range disallowed {
		if !IsDisallowed(name) || !IsDisallowed(strings.ToUpper(name)) {
			t.Errorf("%q: IsDisallowed does not find it", name)
		}
		if len(name) > maxDisallowedLen {
			t.Errorf("%q is longer than maxDisallowedLen (%d)", name, maxDisallowedLen)
		}
		if name != strings.ToLower(name) {
			t.Errorf("%q: the table must be lower case", name)
		}
	}
	if n := testing.AllocsPerRun(100, func() { IsDisallowed("Access-Control-Allow-Origin") }); n != 0 {
		t.Errorf("IsDisallowed allocates %v times", n)
	}
}
