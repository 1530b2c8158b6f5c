package cluster

import (
	"cmp"
	"encoding/hex"
	"slices"
	"time"
)

// MemberState is a member's state as this node sees it.
type MemberState string

// Member states. memberlist does not expose its suspicion of a node without a data race, so a
// suspect node shows as alive until it is declared dead.
const (
	StateAlive   MemberState = "alive"
	StateSuspect MemberState = "suspect"
	StateDead    MemberState = "dead"
	StateLeft    MemberState = "left"
)

// Member is one node of the fleet, for `verge cluster members`.
type Member struct {
	Name   string      `json:"name"`
	Addr   string      `json:"addr"`             // gossip host:port
	State  MemberState `json:"state"`            // alive, suspect, dead or left
	Digest string      `json:"digest"`           // hex of the State digest it advertises
	Admin  string      `json:"admin,omitempty"`  // admin API base URL
	Local  bool        `json:"local,omitempty"`  // this node
	Since  time.Time   `json:"since"`            // when State or Digest last changed
	InSync bool        `json:"inSync,omitempty"` // same digest as this node
}

// Members returns every member this node knows, itself included, sorted by name. Dead and left
// members stay listed for Config.DeadPeerRetention.
func (c *Cluster) Members() []Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Member, 0, len(c.peers))
	for _, p := range c.peers {
		digest := p.digest
		if p.local {
			digest = c.digest
		}
		out = append(out, Member{
			Name: p.name, Addr: p.addr, State: p.state, Digest: hex.EncodeToString(digest),
			Admin: p.meta.AdminURL, Local: p.local, Since: p.changed,
			InSync: p.state == StateAlive && string(digest) == string(c.digest),
		})
	}
	slices.SortFunc(out, func(a, b Member) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Digest returns the hex of this node's State digest, as Members shows it.
func (c *Cluster) Digest() string { return hex.EncodeToString(c.currentDigest()) }
