package registry

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Manifest is what a fleet's private key signs for a published version: the function, the
// number, the code's sha256, the runtime and an expiry. With a fleet public key configured
// (Options.FleetKey) a node accepts from peers, and runs, only versions whose manifest it
// verifies, so a peer holding the gossip key but not the signing key cannot push code.
type Manifest struct {
	Function string `json:"function"`
	Number   int    `json:"number"`
	SHA256   string `json:"sha256"`
	Runtime  string `json:"runtime"`
	// Expires is when the manifest stops being accepted by nodes that do not hold the
	// version yet (zero: never). Nodes that hold it keep running it.
	Expires   time.Time `json:"expires,omitzero"`
	Signature []byte    `json:"signature"`
}

// signedBytes is the message the signature covers.
func (m *Manifest) signedBytes() []byte {
	var b bytes.Buffer
	b.WriteString("verge-manifest-v1\n")
	for _, f := range []string{m.Function, strconv.Itoa(m.Number), m.SHA256, m.Runtime, strconv.FormatInt(expiresNs(m.Expires), 10)} {
		b.WriteString(f)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func expiresNs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// matches reports whether m describes v.
func (m *Manifest) matches(fn string, n int, code Code, runtime string) bool {
	return m != nil && m.Function == fn && m.Number == n && m.SHA256 == code.SHA256 && m.Runtime == runtime
}

// gate decides what may enter and run: signatures and blobs held. Without trust (no fleet
// key) it accepts everything and signs nothing. Safe for concurrent use.
type gate struct {
	trust atomic.Pointer[Trust]
	now   func() time.Time
	blobs *blobs

	mu      sync.Mutex
	refused map[string]string // "function:number" -> why accept refused it (at most maxRefused)
}

// maxRefused bounds the refusals a gate remembers.
const maxRefused = 1024

// Trust is a fleet's signing configuration (see Manifest).
type Trust struct {
	// FleetKey, when set, is the fleet's ed25519 public key: only versions whose manifest it
	// verifies enter the registry from peers or run here (see Store.Runnable).
	FleetKey ed25519.PublicKey
	// SigningKey, when set, signs the manifest of every version published on this node; its
	// public half must be FleetKey (which defaults to it).
	SigningKey ed25519.PrivateKey
	// ManifestTTL is how long after its publish a signed manifest may still be introduced to
	// a node that does not hold the version (0: forever); a replay older than that is refused.
	ManifestTTL time.Duration
}

func (g *gate) init(o Options, bl *blobs) error {
	g.now, g.blobs = o.Now, bl
	if o.FleetKey == nil && o.SigningKey == nil {
		return nil
	}
	return g.set(Trust{FleetKey: o.FleetKey, SigningKey: o.SigningKey, ManifestTTL: o.ManifestTTL})
}

func (g *gate) set(t Trust) error {
	if t.SigningKey != nil {
		if len(t.SigningKey) != ed25519.PrivateKeySize {
			return fmt.Errorf("registry: signing key is %d bytes, want %d: %w", len(t.SigningKey), ed25519.PrivateKeySize, ErrInvalid)
		}
		pub := t.SigningKey.Public().(ed25519.PublicKey)
		if t.FleetKey == nil {
			t.FleetKey = pub
		}
		if !t.FleetKey.Equal(pub) {
			return fmt.Errorf("registry: the signing key does not match the fleet key: %w", ErrInvalid)
		}
	}
	if t.FleetKey != nil && len(t.FleetKey) != ed25519.PublicKeySize {
		return fmt.Errorf("registry: fleet key is %d bytes, want %d: %w", len(t.FleetKey), ed25519.PublicKeySize, ErrInvalid)
	}
	g.trust.Store(&t)
	return nil
}

func (g *gate) keys() (ed25519.PublicKey, ed25519.PrivateKey, time.Duration) {
	if t := g.trust.Load(); t != nil {
		return t.FleetKey, t.SigningKey, t.ManifestTTL
	}
	return nil, nil, 0
}

// SetTrust sets the fleet's signing configuration (Options.FleetKey and friends) on an open
// Store, before replication starts, and brings the versions held in line with it (see
// applyTrust): it signs, quarantines or releases versions, never deletes one. Safe for
// concurrent use.
func (s *Store) SetTrust(t Trust) (TrustReport, error) {
	if err := s.gate.set(t); err != nil {
		return TrustReport{}, err
	}
	return s.applyTrust()
}

// sign returns v's signed manifest, expiring ManifestTTL after from, or nil outside a
// signing fleet. A node that verifies
// (a fleet key) but cannot sign (no signing key) refuses: its peers would drop the unsigned
// version, so that it would hold a version no other node holds, and the fleet's digests would
// never agree again.
func (g *gate) sign(v Version, from time.Time) (*Manifest, error) {
	pub, priv, ttl := g.keys()
	if priv == nil {
		if pub != nil {
			return nil, fmt.Errorf("registry: %s: this node cannot sign versions (it has the fleet's public key, "+
				"not its private key: fleet_private_key_file), and the fleet runs and replicates signed versions only; "+
				"publish from a node that holds the fleet private key: %w", v.Function, ErrForbidden)
		}
		return nil, nil
	}
	m := &Manifest{Function: v.Function, Number: v.Number, SHA256: v.Code.SHA256, Runtime: v.Runtime}
	if ttl > 0 {
		m.Expires = from.Add(ttl)
	}
	m.Signature = ed25519.Sign(priv, m.signedBytes())
	return m, nil
}

// verify checks that m is a valid signature of the fleet key over the version described.
func (g *gate) verify(m *Manifest, fn string, n int, code Code, runtime string) error {
	pub, _, _ := g.keys()
	if pub == nil {
		return nil
	}
	if !m.matches(fn, n, code, runtime) {
		return fmt.Errorf("registry: %s:%d has no manifest signed for it: %w", fn, n, ErrInvalid)
	}
	if !ed25519.Verify(pub, m.signedBytes(), m.Signature) {
		return fmt.Errorf("registry: %s:%d: bad manifest signature: %w", fn, n, ErrInvalid)
	}
	return nil
}

// verified reports whether v's manifest verifies with the fleet key (true without one).
func (g *gate) verified(v Version) bool {
	return g.verify(v.Manifest, v.Function, v.Number, v.Code, v.Runtime) == nil
}

// accept decides whether a remote version may enter the registry: with a fleet key, only
// with a valid, unexpired manifest. It remembers why it refused one (see refusal).
func (g *gate) accept(v Version) error {
	if pub, _, _ := g.keys(); pub == nil {
		return nil
	}
	var why string
	switch {
	case v.Manifest == nil:
		why = fmt.Sprintf("node %s published it unsigned (it has no fleet_private_key_file), and this fleet runs signed versions only", v.Node)
	case g.verify(v.Manifest, v.Function, v.Number, v.Code, v.Runtime) != nil:
		why = fmt.Sprintf("its signature (published on node %s) does not verify with fleet_public_key", v.Node)
	case !v.Manifest.Expires.IsZero() && g.now().After(v.Manifest.Expires):
		why = fmt.Sprintf("its signed manifest expired at %s, before this node received it", v.Manifest.Expires.Format(time.RFC3339))
	default:
		return nil
	}
	key := v.Function + ":" + strconv.Itoa(v.Number)
	g.remember(key, why)
	return fmt.Errorf("registry: version %s: %s: %w", key, why, ErrInvalid)
}

// remember notes why this node refused (or dropped) version key ("fn:3"), for explain.
func (g *gate) remember(key, why string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.refused[key]; !ok && len(g.refused) >= maxRefused {
		clear(g.refused) // a fleet refusing that many versions has its cause in its logs
	}
	if g.refused == nil {
		g.refused = map[string]string{}
	}
	g.refused[key] = why
}

// forgetAll forgets every refusal: the fleet key changed.
func (g *gate) forgetAll() {
	g.mu.Lock()
	clear(g.refused)
	g.mu.Unlock()
}

// explain adds to a missing version's error why this node refused that version from a peer,
// when it did.
func (g *gate) explain(err error) error {
	var mv *missingVersionError
	if !errors.As(err, &mv) {
		return err
	}
	g.mu.Lock()
	mv.refused = g.refused[mv.function+":"+strconv.Itoa(mv.number)]
	g.mu.Unlock()
	return err
}

// runnable reports why t may not run here, or nil: its blob must be held (and verify), and
// with a fleet key a version needs a valid manifest and $LATEST must have been written on
// this node.
func (g *gate) runnable(t Target, self string) error {
	if pub, _, _ := g.keys(); pub != nil {
		if t.Version == Latest {
			if t.Node != self {
				return fmt.Errorf("registry: %s:$LATEST was written on node %s; a signing fleet runs only signed versions from peers: %w", t.Function, t.Node, ErrNotReady)
			}
		} else if n, _ := VersionNumber(t.Version); g.verify(t.Manifest, t.Function, n, t.Code, t.Runtime) != nil {
			return fmt.Errorf("registry: %s:%s is not signed by the fleet key: %w", t.Function, t.Version, ErrNotReady)
		}
	}
	if !g.blobs.has(t.Code.SHA256) {
		return fmt.Errorf("registry: the code of %s:%s (sha256 %s) is not here yet: %w", t.Function, t.Version, t.Code.SHA256, ErrNotReady)
	}
	return nil
}
