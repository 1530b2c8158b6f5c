package registry_test

import (
	"errors"
	"testing"

	"github.com/vergecdn/verge/registry"
)

// TestRuntimeNames checks that uploads accept AWS's runtime names and the older alias, store
// the canonical name, and refuse anything else.
func TestRuntimeNames(t *testing.T) {
	s := open(t, t.TempDir())
	const src = "function handler(event) { return event.request }"
	for in, want := range map[string]string{
		"":                     registry.RuntimeLambdaEdge,
		"cloudfront-js-1.0":    registry.RuntimeCloudFrontJS1,
		"cloudfront-js-2.0":    registry.RuntimeCloudFrontJS2,
		"cloudfront-functions": registry.RuntimeCloudFrontJS2,
	} {
		f, err := s.PutCode("t", "f"+string(rune('a'+len(in))), registry.Upload{Runtime: in, Package: []byte(src)})
		if err != nil || f.Runtime != want {
			t.Fatalf("%q: runtime %q, err %v; want %q", in, f.Runtime, err, want)
		}
	}
	if _, err := s.PutCode("t", "bad", registry.Upload{Runtime: "cloudfront-js-9", Package: []byte(src)}); !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("unknown runtime: %v", err)
	}
}
