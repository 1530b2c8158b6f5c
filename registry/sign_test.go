package registry_test

import (
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/vergecdn/verge/internal/poll"
	"github.com/vergecdn/verge/registry"
)

func TestSigning(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	_, otherPriv, _ := ed25519.GenerateKey(nil)
	tests := []struct {
		name      string
		publisher registry.Options
		skew      time.Duration // how far the verifier's clock is ahead
		accepted  bool
	}{
		{"signed by the fleet key", registry.Options{SigningKey: priv, ManifestTTL: time.Hour}, 0, true},
		{"unsigned", registry.Options{}, 0, false},
		{"signed by another key", registry.Options{SigningKey: otherPriv}, 0, false},
		{"replayed after its manifest expired", registry.Options{SigningKey: priv, ManifestTTL: time.Hour}, 2 * time.Hour, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newNode(t, "P", tc.publisher)
			v := newNode(t, "V", registry.Options{FleetKey: pub})
			v.clk.Set(t0.Add(tc.skew))
			putCode(t, p, "fn", src("signed?"))
			pv := publish(t, p, "fn")
			if (pv.Manifest != nil) != (tc.publisher.SigningKey != nil) {
				t.Fatalf("manifest %+v", pv.Manifest)
			}
			v.merge(t, p.take()...)
			got, ok := state(t, v).Versions["fn"][1]
			if ok != tc.accepted {
				t.Fatalf("accepted %v (%+v), want %v", ok, got, tc.accepted)
			}
			if !ok {
				return
			}
			v.fetchFrom(p)
			st := state(t, v)
			r, err := st.Resolve("fn", "1")
			if err != nil {
				t.Fatal(err)
			}
			poll.Until(t, 5*time.Second, "signed version runnable", func() bool { return v.s.Runnable(r.Primary) == nil })
			// $LATEST written elsewhere never runs in a signing fleet.
			rl, _ := st.Resolve("fn", registry.Latest)
			if err := v.s.Runnable(rl.Primary); !errors.Is(err, registry.ErrNotReady) {
				t.Fatalf("remote $LATEST runnable in a signing fleet: %v", err)
			}
		})
	}
}

func TestSigningLocalUnsignedVersionDoesNotRun(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(nil)
	v := newNode(t, "V", registry.Options{FleetKey: pub})
	putCode(t, v, "fn", src("local"))
	publish(t, v, "fn")
	st := state(t, v)
	r, _ := st.Resolve("fn", "1")
	if err := v.s.Runnable(r.Primary); !errors.Is(err, registry.ErrNotReady) {
		t.Fatalf("unsigned local version runnable: %v", err)
	}
	rl, _ := st.Resolve("fn", registry.Latest)
	if err := v.s.Runnable(rl.Primary); err != nil {
		t.Fatalf("local $LATEST: %v", err)
	}
}

func TestSigningKeyMustMatchFleetKey(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(nil)
	_, priv, _ := ed25519.GenerateKey(nil)
	_, err := registry.Open(registry.Options{Dir: t.TempDir(), FleetKey: pub, SigningKey: priv})
	if !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("mismatched keys: %v", err)
	}
}
