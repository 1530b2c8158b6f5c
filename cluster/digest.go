package cluster

import (
	"bytes"
	"slices"
	"time"
)

// digestHistory is how many of our past digests we remember: a peer advertising one of them is
// behind us and will pull from someone itself, so we do not pull from it.
const digestHistory = 64

// digestLoop follows the State's digest, checking every gossip interval and whenever kicked.
// Peers learn our current digest from the digest message we piggyback on gossip for five gossip
// intervals after it changes (digestGossip), and from every probe ack we send (AckPayload).
// The digest is deliberately not in our node meta: a meta change is an alive message that
// memberlist re-broadcasts from every node ahead of user messages, so N nodes changing digest at
// once would crowd the deltas out of the gossip packets for seconds (measured at 100 nodes).
func (c *Cluster) digestLoop() {
	t := time.NewTicker(c.mc.GossipInterval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		case <-c.kick:
		}
		d := c.state.Digest()
		c.mu.Lock()
		changed := !bytes.Equal(d, c.digest)
		if changed {
			c.digest, c.localChange = d, time.Now()
			c.history = append(c.history, d)
			if len(c.history) > digestHistory {
				c.history = slices.Delete(c.history, 0, len(c.history)-digestHistory)
			}
		}
		c.mu.Unlock()
		if changed {
			c.met.digestChanges.Inc()
		}
	}
}

// digestGossipWindow is how long, in gossip intervals, a node piggybacks its digest on every
// gossip packet after the digest changed. Outside that window peers learn it from probe acks
// only (it is not in node meta: see digestLoop), so a fleet at rest sends nothing extra.
const digestGossipWindow = 5

// digestGossip returns the digest message to piggyback on a gossip packet now, or nil.
func (c *Cluster) digestGossip(now time.Time) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.localChange) > digestGossipWindow*c.mc.GossipInterval {
		return nil
	}
	return encodeDigest(c.cfg.NodeName, c.digest)
}

// knownDigestLocked reports whether d is our digest now or was recently. The caller holds c.mu.
func (c *Cluster) knownDigestLocked(d []byte) bool {
	return slices.ContainsFunc(c.history, func(h []byte) bool { return bytes.Equal(h, d) })
}

// currentDigest returns our State's digest as digestLoop last saw it.
func (c *Cluster) currentDigest() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.digest
}

// learnDigest records a peer's digest (from a digest message or a probe ack).
func (c *Cluster) learnDigest(name string, d []byte, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.peers[name]; p != nil && !bytes.Equal(p.digest, d) {
		p.digest, p.changed = bytes.Clone(d), now
	}
}
