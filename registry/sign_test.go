package registry_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"slices"
	"strings"
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

// TestSigningVerifyOnlyNodeRefusesPublish: a node with the fleet key but not the signing key
// refuses to publish (403 at the admin API), saying where to publish from: its peers would
// drop the unsigned version, and the registries would never agree again. Its $LATEST, a
// draft that never leaves it to run, still runs locally.
func TestSigningVerifyOnlyNodeRefusesPublish(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(nil)
	v := newNode(t, "V", registry.Options{FleetKey: pub})
	putCode(t, v, "fn", src("local"))
	before := v.r.Digest()
	if _, _, err := v.s.Publish("t", "fn", ""); !errors.Is(err, registry.ErrForbidden) || !strings.Contains(err.Error(), "fleet private key") {
		t.Fatalf("publish on a node that cannot sign: %v", err)
	}
	st := state(t, v)
	if len(st.Versions["fn"]) != 0 || !bytes.Equal(v.r.Digest(), before) {
		t.Fatalf("a refused publish left versions %+v", st.Versions["fn"])
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

// TestRefusedVersionIsNamed: a node of a signing fleet that refused a peer's unsigned version
// says so when an alias or an association points at it, rather than that it is not found.
func TestRefusedVersionIsNamed(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(nil)
	p := newNode(t, "P", registry.Options{})
	v := newNode(t, "V", registry.Options{FleetKey: pub})
	putCode(t, p, "fn", src("unsigned"))
	publish(t, p, "fn")
	if _, err := p.s.PutAlias("t", "fn", "live", registry.AliasSpec{Version: 1}); err != nil {
		t.Fatal(err)
	}
	v.merge(t, p.take()...)
	want := "node P published it unsigned (it has no fleet_private_key_file)"
	_, err := v.s.Associate("t", registry.Association{Behavior: registry.DefaultBehavior, Event: "viewer-response", Function: "fn", Qualifier: "live"})
	if !errors.Is(err, registry.ErrNotFound) || !strings.Contains(err.Error(), "alias fn:live points at version fn:1, which this node refused: "+want) {
		t.Fatalf("associate through the alias: %v", err)
	}
	_, err = v.s.PutAlias("t", "fn", "next", registry.AliasSpec{Version: 1})
	if !errors.Is(err, registry.ErrNotFound) || !strings.Contains(err.Error(), "version fn:1 is not on this node, which refused it: "+want) {
		t.Fatalf("alias to the version: %v", err)
	}
}

// TestUnsignedVersionsDropped: a node that held an unsigned version when it got the fleet
// key (published before, or by a verge that let a node without the private key publish)
// drops it, so that its registry and its peers' (which refuse that version) agree; a signed
// version shadowed under the same number takes the number.
func TestUnsignedVersionsDropped(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	signer := newNode(t, "P", registry.Options{SigningKey: priv})
	old := newNode(t, "V", registry.Options{})
	putCode(t, old, "fn", src("unsigned"))
	publish(t, old, "fn") // fn:1, unsigned, the number's winner (published first)
	putCode(t, old, "solo", src("unsigned too"))
	publish(t, old, "solo")
	putCode(t, signer, "fn", src("signed"))
	publish(t, signer, "fn") // fn:1 too, signed
	old.merge(t, signer.snapshot(t))
	dropped, err := old.s.SetTrust(registry.Trust{FleetKey: pub})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"fn:1 (published on V)", "solo:1 (published on V)"}; !slices.Equal(dropped, want) {
		t.Fatalf("dropped %q, want %q", dropped, want)
	}
	st := state(t, old)
	if v := st.Versions["fn"][1]; v.Node != "P" || v.Manifest == nil || len(st.Shadowed["fn"]) != 0 || len(st.Versions["solo"]) != 0 {
		t.Fatalf("versions %+v, shadowed %+v", st.Versions, st.Shadowed)
	}
	signer.merge(t, old.snapshot(t))
	old.merge(t, signer.snapshot(t))
	converged(t, signer, old)
}
