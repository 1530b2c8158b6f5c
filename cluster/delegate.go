package cluster

import (
	"bytes"
	"time"

	"github.com/hashicorp/memberlist"
)

// delegate adapts Cluster to memberlist's callbacks. memberlist calls the Delegate methods
// concurrently, and the EventDelegate methods one at a time while it holds its node lock: none of
// them may call back into memberlist, and NotifyMsg and GetBroadcasts must never block.
type delegate struct {
	c *Cluster
}

var (
	_ memberlist.Delegate      = (*delegate)(nil)
	_ memberlist.EventDelegate = (*delegate)(nil)
	_ memberlist.PingDelegate  = (*delegate)(nil)
)

// NodeMeta returns our admin URL (at most 259 bytes, under memberlist's 512). The format has room
// for a digest, which we leave empty (see digestLoop).
func (d *delegate) NodeMeta(limit int) []byte {
	b, err := nodeMeta{AdminURL: d.c.cfg.AdminURL}.encode()
	if err != nil || len(b) > limit {
		d.c.log.Error("node meta does not fit; advertising none", "bytes", len(b), "limit", limit)
		return nil
	}
	return b
}

// NotifyMsg hands a user message (at most 4 KiB; larger ones are dropped) to its worker through a bounded queue and never blocks: when
// the queue is full the message is dropped and counted (a dropped delta is healed by the digest
// pull; a dropped purge by the sender's reliable fan-out or a re-broadcast from another node).
// msg is copied, as memberlist reuses it.
func (d *delegate) NotifyMsg(msg []byte) {
	if len(msg) == 0 {
		return
	}
	if len(msg) > maxInboundMessage {
		d.c.met.dropped.WithLabelValues("oversized").Inc()
		return
	}
	var q chan []byte
	switch msg[0] {
	case msgDigest:
		// Bounded work under a mutex that is never held across I/O: cheaper than a queue hop.
		if node, digest, err := decodeDigest(msg); err == nil {
			d.c.learnDigest(node, digest, time.Now())
		}
		return
	case msgLeave:
		if node, err := decodeLeave(msg); err == nil {
			d.c.learnLeaving(node)
		}
		return
	case msgDelta:
		q = d.c.inbox
	case msgPurge, msgPurgeEx:
		q = d.c.purges
	default:
		d.c.met.dropped.WithLabelValues("unknown").Inc()
		return
	}
	d.c.met.received.WithLabelValues(kindName(msg[0])).Inc()
	select {
	case q <- bytes.Clone(msg):
	default:
		d.c.met.dropped.WithLabelValues(kindName(msg[0])).Inc()
	}
}

// GetBroadcasts returns queued deltas and purges that fit in limit bytes and, for a while after
// our digest changed, a digest message, so that a peer that missed the change learns of it within
// a gossip round or two (see digestGossipWindow).
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte {
	bs := d.c.queue.GetBroadcasts(overhead, limit)
	msg := d.c.digestGossip(time.Now())
	if msg == nil {
		return bs
	}
	used := 0
	for _, b := range bs {
		used += overhead + len(b)
	}
	if used+overhead+len(msg) <= limit {
		bs = append(bs, msg)
	}
	return bs
}

// LocalState returns our State snapshot for a push/pull, or nil when it fails or exceeds
// Config.MaxStateBytes (the exchange then carries membership only).
func (d *delegate) LocalState(join bool) []byte {
	snap, err := d.c.state.Snapshot()
	if err != nil {
		d.c.log.Error("snapshot for push/pull", "error", err.Error())
		return nil
	}
	if len(snap)+1 > d.c.cfg.MaxStateBytes {
		d.c.log.Error("snapshot exceeds the state bound; not sent", "bytes", len(snap), "limit", d.c.cfg.MaxStateBytes)
		return nil
	}
	return append([]byte{stateVersion}, snap...)
}

// MergeRemoteState merges a peer's snapshot from a push/pull. It runs on the goroutine of that
// exchange (not the packet loop), so it merges synchronously: when a pull returns, its state is
// ours.
func (d *delegate) MergeRemoteState(buf []byte, join bool) {
	if len(buf) == 0 {
		return
	}
	if buf[0] != stateVersion || len(buf) > d.c.cfg.MaxStateBytes {
		d.c.log.Warn("remote state refused", "bytes", len(buf), "version", buf[0])
		return
	}
	if err := d.c.state.Merge(buf[1:]); err != nil {
		d.c.log.Warn("merge remote state", "error", err.Error())
		return
	}
	d.c.met.merges.WithLabelValues("snapshot").Inc()
	d.c.kickDigest()
}

// AckPayload puts our current digest in every probe ack we send, so whoever probes us learns it
// within a probe round, whatever our node meta says.
func (d *delegate) AckPayload() []byte { return d.c.currentDigest() }

// NotifyPingComplete learns the probed peer's digest from its ack. It runs on memberlist's probe
// goroutine and only reads other.Name (the rest of *other may change concurrently).
func (d *delegate) NotifyPingComplete(other *memberlist.Node, _ time.Duration, payload []byte) {
	if len(payload) <= maxDigest {
		d.c.learnDigest(other.Name, payload, time.Now())
	}
}

// NotifyJoin records a member that became alive (ourselves included).
func (d *delegate) NotifyJoin(n *memberlist.Node) { d.c.observe(n, StateAlive) }

// NotifyUpdate records a member's new metadata (its digest).
func (d *delegate) NotifyUpdate(n *memberlist.Node) { d.c.observe(n, StateAlive) }

// NotifyLeave records a member that died or left. memberlist does not tell which (the
// node it passes keeps State alive), so a member that said it is leaving (a leave message,
// see Close) is recorded as left, any other as dead.
func (d *delegate) NotifyLeave(n *memberlist.Node) {
	d.c.mu.Lock()
	p := d.c.peers[n.Name]
	left := p != nil && p.leaving
	d.c.mu.Unlock()
	s := StateDead
	if left {
		s = StateLeft
	}
	d.c.observe(n, s)
}

// learnLeaving records that node announced its leave: when memberlist reports it gone, it
// left; if it already did (the leave message came second), it is shown as left now.
func (c *Cluster) learnLeaving(node string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.peers[node]
	if p == nil || p.local {
		return
	}
	p.leaving = true
	if p.state == StateDead {
		p.state, p.changed = StateLeft, time.Now()
		c.met.observeMembers(c.peers)
	}
}

// observe updates the peer table from a memberlist event. It must not call memberlist.
func (c *Cluster) observe(n *memberlist.Node, s MemberState) {
	meta, err := decodeMeta(n.Meta)
	if err != nil && len(n.Meta) > 0 {
		c.log.Debug("ignoring node meta", "node", n.Name, "error", err.Error())
	}
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.peers[n.Name]
	if p == nil {
		p = &peer{name: n.Name, local: n.Name == c.cfg.NodeName}
		c.peers[n.Name] = p
	}
	if p.state != s || (len(meta.Digest) > 0 && !bytes.Equal(p.digest, meta.Digest)) {
		p.changed = now
	}
	p.addr, p.state, p.meta = n.Address(), s, meta
	if s == StateAlive {
		p.leaving = false // back, after a restart
	}
	if len(meta.Digest) > 0 {
		p.digest = meta.Digest
	}
	var alive int32
	for _, q := range c.peers {
		if q.state == StateAlive {
			alive++
		}
	}
	c.alive.Store(alive)
	c.met.observeMembers(c.peers)
}

// kindName names a message type for metrics.
func kindName(t byte) string {
	switch t {
	case msgDelta:
		return "delta"
	case msgPurge, msgPurgeEx:
		return "purge"
	}
	return "unknown"
}
