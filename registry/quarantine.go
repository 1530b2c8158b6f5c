package registry

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// TrustReport is what bringing the versions held in line with the fleet key changed (see
// Store.SetTrust), each version named "fn:3 (published on node2)".
type TrustReport struct {
	// Signed are versions this node held unsigned, or signed by another key, and signed now
	// with the fleet's private key: the code was here and matched its sha256.
	Signed []string
	// Quarantined are versions the fleet key does not verify and this node cannot sign.
	Quarantined []string
	// Released are versions back from quarantine: they verify now, or the node has no
	// fleet key any more.
	Released []string
}

// Quarantine. A version the fleet key does not verify (published before the node had the
// key, or signed by a key since rotated, or a key mistyped on this node) may not run, and no
// peer of a signing fleet accepts it. Kept in the replicated state it would hold this node's
// registry digest apart from its peers' for good, each pulling from the other forever;
// deleted, it would be lost for good, although a node holding the private key could sign it
// and a corrected key would verify it. So applyTrust moves it out of the replicated buckets
// into bQuar: it is neither run, nor offered to peers, nor counted in the digest, and a
// number whose winner it was falls to a signed version published under the same number on
// another node, if any. A node holding the private key signs such versions instead (the
// signed record beats the unsigned one everywhere, see replaces), and applyTrust releases
// them from quarantine when the key verifies them, or when the node has no fleet key.

// applyTrust signs (with the private key), quarantines (without it) the versions held that
// the fleet key does not verify, and releases the quarantined ones that may run again, in one
// audited change that peers receive like any other (the signed records included).
func (s *Store) applyTrust() (TrustReport, error) {
	pub, priv, _ := s.gate.keys()
	s.write.Lock()
	defer s.write.Unlock()
	var rep TrustReport
	var released []string // sums of the released versions, for gc: one a deletion covers is not stored again
	_, err := s.update("fleet", func(c *change) (AuditEntry, error) {
		m := &merger{tx: c.tx, rev: c.stamp.Revision}
		// signed returns v signed with the private key, or false when this node cannot sign
		// it: no private key, or its code is not here (or does not match its sha256).
		signed := func(v Version) (Version, bool) {
			if priv == nil {
				return v, false
			}
			if _, err := s.blobs.get(v.Code.SHA256); err != nil {
				return v, false
			}
			man, err := s.gate.sign(v, s.now())
			if err != nil || man == nil {
				return v, false
			}
			v.Manifest, v.Revision = man, c.stamp.Revision
			return v, true
		}
		if pub != nil {
			// Every candidate first: quarantining a number's winner settles the number, which
			// moves a version shadowed under it into the winner's bucket.
			var bad []Version
			keep := func(v Version) {
				if !s.gate.verified(v) {
					bad = append(bad, v)
				}
			}
			if err := forEach(c.tx.Bucket(bVersions), keep); err != nil {
				return AuditEntry{}, err
			}
			if err := forEach(c.tx.Bucket(bShadow), keep); err != nil {
				return AuditEntry{}, err
			}
			for _, v := range bad {
				bk, key, err := versionPlace(c.tx, v)
				if err != nil {
					return AuditEntry{}, err
				}
				if sv, ok := signed(v); ok {
					if err := putJSON(c.tx.Bucket(bk), key, sv); err != nil {
						return AuditEntry{}, err
					}
					rep.Signed = append(rep.Signed, versionLabel(v))
					continue
				}
				if err := c.tx.Bucket(bk).Delete(key); err != nil {
					return AuditEntry{}, err
				}
				v.Revision = 0
				if err := putJSON(c.tx.Bucket(bQuar), shadowKey(v.Function, v.Number, v.Node), v); err != nil {
					return AuditEntry{}, err
				}
				if err := m.settle(v.Function, v.Number, nil); err != nil {
					return AuditEntry{}, err
				}
				rep.Quarantined = append(rep.Quarantined, versionLabel(v))
			}
		}
		var held []Version
		if err := forEach(c.tx.Bucket(bQuar), func(v Version) { held = append(held, v) }); err != nil {
			return AuditEntry{}, err
		}
		for _, v := range held {
			if pub != nil && !s.gate.verified(v) {
				sv, ok := signed(v)
				if !ok {
					continue
				}
				v = sv
				rep.Signed = append(rep.Signed, versionLabel(v))
			} else {
				rep.Released = append(rep.Released, versionLabel(v))
			}
			if err := c.tx.Bucket(bQuar).Delete(shadowKey(v.Function, v.Number, v.Node)); err != nil {
				return AuditEntry{}, err
			}
			if err := m.mark(v.Function, v.Number, Stamp{}); err != nil {
				return AuditEntry{}, err
			}
			if err := m.settle(v.Function, v.Number, &v); err != nil {
				return AuditEntry{}, err
			}
			released = append(released, v.Code.SHA256)
		}
		if len(rep.Signed)+len(rep.Quarantined)+len(rep.Released) == 0 {
			return AuditEntry{}, errUnchanged
		}
		return AuditEntry{Action: "trust", Target: "versions", Detail: rep.String()}, nil
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return TrustReport{}, fmt.Errorf("registry: applying the fleet key to the versions held: %w", err)
	}
	slices.Sort(rep.Signed)
	slices.Sort(rep.Quarantined)
	slices.Sort(rep.Released)
	s.gc(released...)
	if err := s.rememberQuarantine(); err != nil {
		return TrustReport{}, err
	}
	return rep, nil
}

// rememberQuarantine notes, for explain, why each quarantined version is not here.
func (s *Store) rememberQuarantine() error {
	s.gate.forgetAll()
	err := s.db.View(func(tx *bolt.Tx) error {
		return forEach(tx.Bucket(bQuar), func(v Version) {
			s.gate.remember(v.Function+":"+strconv.Itoa(v.Number), "it is not signed by the fleet key (published on node "+v.Node+
				"), so this node keeps it in quarantine: it neither runs it nor offers it to peers until a node with "+
				"fleet_private_key_file signs it (or this node gets that key)")
		})
	})
	if err != nil {
		return fmt.Errorf("registry: reading the quarantine: %w", err)
	}
	return nil
}

// versionPlace returns where version v (its function, number and node) is stored now: the
// number's winner, or shadowed.
func versionPlace(tx *bolt.Tx, v Version) (bucket, key []byte, err error) {
	var w Version
	if _, err := getJSON(tx.Bucket(bVersions), versionKey(v.Function, v.Number), &w); err != nil {
		return nil, nil, err
	}
	if w.Node == v.Node {
		return bVersions, versionKey(v.Function, v.Number), nil
	}
	return bShadow, shadowKey(v.Function, v.Number, v.Node), nil
}

func versionLabel(v Version) string {
	return v.Function + ":" + strconv.Itoa(v.Number) + " (published on " + v.Node + ")"
}

// String lists the report's versions by what happened to them.
func (r TrustReport) String() string {
	var parts []string
	for _, p := range []struct {
		what string
		vs   []string
	}{{"signed with the fleet key", r.Signed}, {"quarantined: not signed by the fleet key", r.Quarantined},
		{"released from quarantine", r.Released}} {
		if len(p.vs) > 0 {
			parts = append(parts, p.what+": "+strings.Join(p.vs, ", "))
		}
	}
	return strings.Join(parts, "; ")
}
