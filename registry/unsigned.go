package registry

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// dropUnsigned removes the published versions (winners and shadowed) whose manifest the fleet
// key does not verify: versions published before the node had the key, or while it had the
// public key only (by a verge that did not refuse that). No node of a signing fleet runs them
// and every peer refuses them, so keeping them would hold this node's registry digest apart
// from its peers' for good, each pulling from the other forever. A number whose winner goes
// falls to a signed version shadowed under it, if any. It returns the versions dropped
// ("fn:3 (published on node2)"), in one audited change.
func (s *Store) dropUnsigned() ([]string, error) {
	if pub, _, _ := s.gate.keys(); pub == nil {
		return nil, nil
	}
	s.write.Lock()
	defer s.write.Unlock()
	var dropped []string
	_, err := s.update("fleet", func(c *change) (AuditEntry, error) {
		var bad []Version
		keep := func(v Version) {
			if s.gate.verify(v.Manifest, v.Function, v.Number, v.Code, v.Runtime) != nil {
				bad = append(bad, v)
			}
		}
		if err := forEach(c.tx.Bucket(bVersions), keep); err != nil {
			return AuditEntry{}, err
		}
		if err := forEach(c.tx.Bucket(bShadow), keep); err != nil {
			return AuditEntry{}, err
		}
		if len(bad) == 0 {
			return AuditEntry{}, errUnchanged
		}
		m := &merger{tx: c.tx, rev: c.stamp.Revision}
		for _, v := range bad {
			vk := versionKey(v.Function, v.Number)
			var w Version
			if _, err := getJSON(c.tx.Bucket(bVersions), vk, &w); err != nil {
				return AuditEntry{}, err
			}
			if w.Node == v.Node {
				if err := c.tx.Bucket(bVersions).Delete(vk); err != nil {
					return AuditEntry{}, err
				}
			} else if err := c.tx.Bucket(bShadow).Delete(shadowKey(v.Function, v.Number, v.Node)); err != nil {
				return AuditEntry{}, err
			}
			if err := m.settle(v.Function, v.Number, nil); err != nil {
				return AuditEntry{}, err
			}
			key := v.Function + ":" + strconv.Itoa(v.Number)
			dropped = append(dropped, key+" (published on "+v.Node+")")
			s.gate.remember(key, "it is not signed by the fleet key (published on node "+v.Node+"), so this node dropped it when it got the key")
		}
		return AuditEntry{Action: "drop-unsigned", Target: strings.Join(dropped, ", "),
			Detail: "not signed by the fleet key: no node of the fleet runs or keeps them"}, nil
	})
	if errors.Is(err, errUnchanged) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registry: dropping unsigned versions: %w", err)
	}
	return dropped, nil
}
