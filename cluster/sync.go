package cluster

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"time"
)

// mergeLoop merges gossiped deltas, one at a time, off memberlist's packet loop. A delta that
// changed our state is news: we re-broadcast it, so a delta spreads epidemically rather than
// only from its origin.
func (c *Cluster) mergeLoop() {
	for {
		select {
		case <-c.stop:
			return
		case msg := <-c.inbox:
			name, delta, err := decodeDelta(msg)
			if err != nil {
				c.met.dropped.WithLabelValues("delta").Inc()
				continue
			}
			before := c.state.Digest()
			if err := c.state.Merge(delta); err != nil {
				c.log.Warn("merge delta", "name", name, "error", err.Error())
				continue
			}
			c.met.merges.WithLabelValues("delta").Inc()
			if !bytes.Equal(before, c.state.Digest()) {
				c.queue.QueueBroadcast(&broadcast{name: "d/" + name, msg: msg})
				c.kickDigest()
			}
		}
	}
}

// reconcileLoop pulls state from a peer whose digest (from its meta or a probe ack) is not one we
// have held, with neither side changing for the settle delay: that peer holds a change we
// missed. (A peer advertising one of our past digests is behind us: it pulls, we do not.)
// A pull is a memberlist push/pull (a join to an existing member): both sides merge the other's
// snapshot. At most one pull runs at a time; the same peer is pulled at most once per probe
// interval.
func (c *Cluster) reconcileLoop() {
	t := time.NewTicker(max(c.mc.GossipInterval/2, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		settle := c.cfg.pullSettleDelay(c.mc, int(c.alive.Load()))
		target := c.pullTarget(time.Now(), settle)
		if target == "" {
			continue
		}
		c.met.pulls.Inc()
		if _, err := c.ml.Join([]string{target}); err != nil {
			c.log.Debug("pull", "peer", target, "error", err.Error())
		}
		c.kickDigest()
	}
}

// pullTarget picks the peer to pull from now ("name/host:port"), or "". A peer whose digest we
// have not learned yet is no reason to pull: its join already exchanged state with someone,
// and it advertises any change it makes (digest gossip, probe acks). Pulling such peers, once
// a probe interval each, kept a settled fleet of 100 nodes on one box doing 900 push/pulls a
// second, as a node learns most peers' digests only when it probes them.
func (c *Cluster) pullTarget(now time.Time, settle time.Duration) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var best *peer
	for _, p := range c.peers {
		if p.local || p.state != StateAlive || len(p.digest) == 0 || c.knownDigestLocked(p.digest) {
			continue
		}
		stable := p.changed
		if c.localChange.After(stable) {
			stable = c.localChange
		}
		if now.Sub(stable) < settle || now.Sub(p.pulled) < c.mc.ProbeInterval {
			continue
		}
		if best == nil || p.changed.Before(best.changed) {
			best = p
		}
	}
	if best == nil {
		return ""
	}
	best.pulled = now
	return best.name + "/" + best.addr
}

// rejoinLoop joins the seeds at start, then every RejoinInterval (±20%) rejoins the seeds and
// the known-but-dead peers that are not alive members. memberlist forgets dead nodes after
// GossipToTheDeadTime and never contacts them again, so without this a partition longer than
// that would never heal.
//
// A round that reached no one is retried sooner, after a second doubling up to RejoinInterval:
// nodes of a fleet started together often start before their seeds, and waiting a whole
// interval left them alone for 20 s.
//
// It logs what is true: "joined the fleet" at the first join that reached someone; for a
// round that reached no one, a warning when the node is alone (or the gossip key did not
// match, whatever else), and only a debug line when it is in the fleet with other members and
// merely a dead peer or a seed that left did not answer (a node stopped for good is retried
// until DeadPeerRetention); and, at info level, a rejoin after a warning.
func (c *Cluster) rejoinLoop() {
	joined, failing := false, false
	retry := min(time.Second, c.cfg.RejoinInterval)
	for {
		wait := c.cfg.RejoinInterval
		if targets := c.rejoinTargets(time.Now()); len(targets) > 0 {
			n, err := c.ml.Join(targets)
			alone := c.alive.Load() <= 1
			if err != nil && alone {
				wait, retry = retry, min(2*retry, c.cfg.RejoinInterval)
			}
			switch {
			case err != nil && keyMismatch(err):
				c.log.Warn("rejoin: the gossip key did not match: the seeds and peers reached cannot read this node's gossip, "+
					"or it theirs; every node needs the same cluster.secret_key (VERGE_GOSSIP_KEY)", "targets", targets, "in", wait.String(), "error", err.Error())
				failing = true
			case err != nil && alone:
				c.log.Warn("rejoin: no seed or peer reachable; retrying", "targets", targets, "in", wait.String(), "error", err.Error())
				failing = true
			case err != nil:
				c.log.Debug("rejoin: no dead peer or absent seed answered; still in the fleet", "alive", c.alive.Load(),
					"targets", targets, "in", wait.String(), "error", err.Error())
			case !joined:
				c.log.Info("joined the fleet", "reached", n, "targets", targets)
			case failing:
				c.log.Info("rejoined the fleet", "reached", n, "targets", targets)
			default:
				c.log.Debug("rejoined", "reached", n, "targets", targets)
			}
			if err == nil {
				joined, failing = true, false
				retry = min(time.Second, c.cfg.RejoinInterval)
			}
		}
		jitter := time.Duration(rand.Int64N(int64(wait)/5*2+1)) - wait/5
		select {
		case <-c.stop:
			return
		case <-time.After(wait + jitter):
		}
	}
}

// rejoinTargets returns at most 8 addresses to rejoin: seeds and dead peers, minus alive
// members and ourselves. It forgets peers dead or gone for longer than DeadPeerRetention.
func (c *Cluster) rejoinTargets(now time.Time) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	alive := map[string]bool{}
	var dead []string
	for name, p := range c.peers {
		switch {
		case p.state == StateAlive || p.local:
			alive[p.addr] = true
		case now.Sub(p.changed) > c.cfg.DeadPeerRetention:
			delete(c.peers, name)
		case p.state == StateDead:
			dead = append(dead, p.name+"/"+p.addr)
		}
	}
	var targets []string
	for _, s := range c.cfg.Seeds {
		if !alive[s] {
			targets = append(targets, s)
		}
	}
	targets = append(targets, dead...)
	rand.Shuffle(len(targets), func(i, j int) { targets[i], targets[j] = targets[j], targets[i] })
	return targets[:min(len(targets), 8)]
}

// keyMismatch reports whether a join failed because the two nodes' gossip keys differ (one has
// none, or another): memberlist says so only in its errors' text.
func keyMismatch(err error) bool {
	msg := err.Error()
	for _, s := range []string{
		"no installed keys could decrypt the message",
		"remote state is encrypted and encryption is not configured",
		"encryption is configured but remote state is not encrypted",
	} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
