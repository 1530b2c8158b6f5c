package registry_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"reflect"
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

// TestTrustQuarantinesUnsignedVersions: a node that holds an unsigned version when it gets
// the fleet's public key only (published before signing was turned on, or a mistyped key)
// keeps it, out of the replicated state: it neither runs it nor offers it, so that its
// registry and its peers' (which refuse that version) agree; a signed version shadowed under
// the same number takes the number. Given the right key, or none, it gets the version back.
func TestTrustQuarantinesUnsignedVersions(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	signer := newNode(t, "P", registry.Options{SigningKey: priv})
	old := newNode(t, "V", registry.Options{})
	putCode(t, old, "fn", src("unsigned"))
	publish(t, old, "fn") // fn:1, unsigned, the number's winner (published first)
	putCode(t, old, "solo", src("unsigned too"))
	publish(t, old, "solo")
	if _, err := old.s.PutAlias("t", "solo", "live", registry.AliasSpec{Version: 1}); err != nil {
		t.Fatal(err)
	}
	putCode(t, signer, "fn", src("signed"))
	publish(t, signer, "fn") // fn:1 too, signed
	old.merge(t, signer.snapshot(t))
	before := state(t, old)
	rep, err := old.s.SetTrust(registry.Trust{FleetKey: pub})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"fn:1 (published on V)", "solo:1 (published on V)"}; !slices.Equal(rep.Quarantined, want) || len(rep.Signed)+len(rep.Released) != 0 {
		t.Fatalf("trust: %+v, want quarantined %q", rep, want)
	}
	st := state(t, old)
	if v := st.Versions["fn"][1]; v.Node != "P" || v.Manifest == nil || len(st.Shadowed["fn"]) != 0 || len(st.Versions["solo"]) != 0 {
		t.Fatalf("versions %+v, shadowed %+v", st.Versions, st.Shadowed)
	}
	if _, err := st.Resolve("solo", "live"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("alias to a quarantined version: %v", err)
	}
	_, err = old.s.PutAlias("t", "solo", "next", registry.AliasSpec{Version: 1})
	if !errors.Is(err, registry.ErrNotFound) || !strings.Contains(err.Error(), "this node keeps it in quarantine") {
		t.Fatalf("alias to a quarantined version: %v", err)
	}
	signer.merge(t, old.snapshot(t))
	old.merge(t, signer.snapshot(t))
	converged(t, signer, old)
	// A wrong key, then none: the versions come back as they were (nothing was lost).
	otherPub, _, _ := ed25519.GenerateKey(nil)
	if rep, err = old.s.SetTrust(registry.Trust{FleetKey: otherPub}); err != nil || len(rep.Quarantined) != 1 || rep.Quarantined[0] != "fn:1 (published on P)" {
		t.Fatalf("another key: %+v, %v", rep, err)
	}
	if rep, err = old.s.SetTrust(registry.Trust{}); err != nil || len(rep.Released) != 3 {
		t.Fatalf("no key: %+v, %v", rep, err)
	}
	after := state(t, old)
	for _, fn := range []string{"fn", "solo"} {
		if !reflect.DeepEqual(stripRevisions(after.Versions[fn]), stripRevisions(before.Versions[fn])) {
			t.Fatalf("%s: versions %+v after, %+v before", fn, after.Versions[fn], before.Versions[fn])
		}
	}
	if r, err := after.Resolve("solo", "live"); err != nil || r.Primary.Node != "V" {
		t.Fatalf("alias after release: %+v, %v", r, err)
	}
}

func stripRevisions(vs map[int]registry.Version) map[int]registry.Version {
	out := map[int]registry.Version{}
	for n, v := range vs {
		v.Revision = 0
		out[n] = v
	}
	return out
}

// TestTrustSignsUnsignedVersions: a node that gets the fleet's private key signs the
// versions it holds unsigned (or signed by another key: a rotation) instead of dropping
// them, and its peers get the signed records, from its broadcast as from its snapshot.
func TestTrustSignsUnsignedVersions(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	_, oldPriv, _ := ed25519.GenerateKey(nil)
	tests := []struct {
		name   string
		before registry.Options
	}{
		{"unsigned", registry.Options{}},
		{"signed by the previous key", registry.Options{SigningKey: oldPriv}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, "N", tc.before)
			putCode(t, n, "fn", src("to sign"))
			pv := publish(t, n, "fn")
			if _, err := n.s.PutAlias("t", "fn", "live", registry.AliasSpec{Version: 1}); err != nil {
				t.Fatal(err)
			}
			// A verify-only peer that held the version before it got the key.
			peer := newNode(t, "Q", registry.Options{})
			peer.merge(t, n.take()...)
			if rep, err := peer.s.SetTrust(registry.Trust{FleetKey: pub}); err != nil || len(rep.Quarantined) != 1 {
				t.Fatalf("peer: %+v, %v", rep, err)
			}
			n.clk.Set(t0.Add(48 * time.Hour))
			rep, err := n.s.SetTrust(registry.Trust{SigningKey: priv, ManifestTTL: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"fn:1 (published on N)"}; !slices.Equal(rep.Signed, want) || len(rep.Quarantined)+len(rep.Released) != 0 {
				t.Fatalf("trust: %+v, want signed %q", rep, want)
			}
			st := state(t, n)
			v := st.Versions["fn"][1]
			if v.Manifest == nil || v.Code != pv.Code || v.Created != pv.Created || v.Node != "N" {
				t.Fatalf("version %+v, published %+v", v, pv)
			}
			r, err := st.Resolve("fn", "live")
			if err != nil || n.s.Runnable(r.Primary) != nil {
				t.Fatalf("alias: %+v, %v, runnable %v", r, err, n.s.Runnable(r.Primary))
			}
			// The broadcast reaches a verifying peer: the manifest verifies, and has not
			// expired (it counts from the signing, not from the old publish).
			peer.clk.Set(t0.Add(48 * time.Hour))
			peer.merge(t, n.take()...)
			if got, ok := state(t, peer).Versions["fn"][1]; !ok || got.Manifest == nil {
				t.Fatalf("peer: %+v", state(t, peer).Versions)
			}
			// It takes the signed record out of quarantine's hands: nothing is left there.
			if rep, err := peer.s.SetTrust(registry.Trust{}); err != nil || len(rep.Released) != 0 {
				t.Fatalf("peer's quarantine after the signed record came: %+v, %v", rep, err)
			}
			fresh := newNode(t, "R", registry.Options{FleetKey: pub})
			fresh.clk.Set(t0.Add(48 * time.Hour))
			fresh.merge(t, n.snapshot(t))
			converged(t, n, peer, fresh)
		})
	}
}

// TestSignedRecordReplacesUnsigned: a node without a fleet key that holds a version unsigned
// takes the signed record of the same version (same publish) from a peer that signed it,
// whatever order they arrive in, so that the fleet converges on the signed one.
func TestSignedRecordReplacesUnsigned(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	n := newNode(t, "N", registry.Options{})
	putCode(t, n, "fn", src("to sign"))
	publish(t, n, "fn")
	unsigned := n.snapshot(t)
	if _, err := n.s.SetTrust(registry.Trust{SigningKey: priv}); err != nil {
		t.Fatal(err)
	}
	signed := n.snapshot(t)
	for _, order := range [][][]byte{{unsigned, signed}, {signed, unsigned}} {
		p := newNode(t, "P", registry.Options{})
		p.merge(t, order...)
		if v := state(t, p).Versions["fn"][1]; v.Manifest == nil {
			t.Fatalf("kept the unsigned record %+v", v)
		}
		converged(t, n, p)
	}
}

// TestTrustQuarantinesEveryUnsignedCandidate: two unsigned versions under one number (the
// winner and the one it shadows) are both quarantined; the shadowed one does not slip into
// the number when the winner leaves.
func TestTrustQuarantinesEveryUnsignedCandidate(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(nil)
	v := newNode(t, "V", registry.Options{})
	p := newNode(t, "P", registry.Options{})
	for _, n := range []*node{v, p} {
		putCode(t, n, "fn", src("unsigned on "+n.name))
		publish(t, n, "fn")
	}
	v.merge(t, p.snapshot(t))
	if st := state(t, v); len(st.Versions["fn"]) != 1 || len(st.Shadowed["fn"]) != 1 {
		t.Fatalf("setup: versions %+v, shadowed %+v", st.Versions, st.Shadowed)
	}
	rep, err := v.s.SetTrust(registry.Trust{FleetKey: pub})
	if want := []string{"fn:1 (published on P)", "fn:1 (published on V)"}; err != nil || !slices.Equal(rep.Quarantined, want) {
		t.Fatalf("trust: %+v, %v; want quarantined %q", rep, err, want)
	}
	if st := state(t, v); len(st.Versions["fn"]) != 0 || len(st.Shadowed["fn"]) != 0 {
		t.Fatalf("left in the replicated state: versions %+v, shadowed %+v", st.Versions, st.Shadowed)
	}
	fresh := newNode(t, "R", registry.Options{FleetKey: pub})
	fresh.merge(t, v.snapshot(t))
	converged(t, v, fresh)
}
