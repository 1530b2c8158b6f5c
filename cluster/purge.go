package cluster

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/vergecdn/verge/cache"
)

// purgeMemory is how long a purge id is remembered for deduplication: far longer than a
// broadcast lives (a few seconds) and a reliable send takes (TCPTimeout).
const purgeMemory = 10 * time.Minute

// Purge runs p (see cache.Purge: a pattern, optionally one host, optionally soft) on every
// node's cache, this one included, and returns how many objects this node purged. Every node
// runs the purge exactly once: the message carries a random id that nodes deduplicate. The
// message spreads as a broadcast that every receiver re-broadcasts, and, as a backstop, the
// sender also sends it over TCP to every alive member in the background.
func (c *Cluster) Purge(p cache.Purge) (int, error) {
	if len(p.Pattern) > maxPurgePattern || len(p.Host) > 255 {
		return 0, fmt.Errorf("cluster: purge pattern longer than %d bytes, or host longer than 255", maxPurgePattern)
	}
	if _, err := p.Parse(); err != nil {
		return 0, fmt.Errorf("cluster: %w", err)
	}
	select {
	case <-c.stop:
		return 0, errors.New("cluster: purge after Close")
	default:
	}
	var id [purgeIDSize]byte
	_, _ = rand.Read(id[:])
	c.firstSighting(id)
	msg := encodePurge(id, p)
	c.queue.QueueBroadcast(&broadcast{name: "p/" + string(id[:]), msg: msg})
	n := c.runPurge(p)

	targets := c.aliveRemotes()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.sendReliable(targets, msg)
	}()
	return n, nil
}

// runPurge calls the purge function given in Deps, if any.
func (c *Cluster) runPurge(p cache.Purge) int {
	c.met.purges.Inc()
	if c.purge == nil {
		return 0
	}
	return c.purge(p)
}

// firstSighting records id and reports whether this is the first time this node sees it.
func (c *Cluster) firstSighting(id [purgeIDSize]byte) bool {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[id]; ok {
		return false
	}
	if len(c.seen) >= 1024 {
		for k, t := range c.seen {
			if now.Sub(t) > purgeMemory {
				delete(c.seen, k)
			}
		}
	}
	c.seen[id] = now
	return true
}

// purgeLoop runs received purges one at a time, each id once, and re-broadcasts new ones. A slow
// purge function delays only later purges, never memberlist (NotifyMsg drops when this queue is
// full).
func (c *Cluster) purgeLoop() {
	for {
		select {
		case <-c.stop:
			return
		case msg := <-c.purges:
			id, p, err := decodePurge(msg)
			if err != nil {
				c.met.dropped.WithLabelValues("purge").Inc()
				continue
			}
			if !c.firstSighting(id) {
				continue
			}
			c.queue.QueueBroadcast(&broadcast{name: "p/" + string(id[:]), msg: msg})
			n := c.runPurge(p)
			c.log.Info("purged", "pattern", p.Pattern, "host", p.Host, "soft", p.Soft, "objects", n)
		}
	}
}

// aliveRemotes returns the alive members other than this node, from the peer table (reading
// memberlist's own nodes would race with its updates).
func (c *Cluster) aliveRemotes() []*memberlist.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*memberlist.Node
	for _, p := range c.peers {
		host, port, err := splitHostPort(p.addr)
		if p.local || p.state != StateAlive || err != nil {
			continue
		}
		out = append(out, &memberlist.Node{Name: p.name, Addr: net.ParseIP(host), Port: uint16(port)})
	}
	return out
}

// sendReliable sends msg over TCP to each node, 8 at a time, giving up when the Cluster stops.
func (c *Cluster) sendReliable(nodes []*memberlist.Node, msg []byte) {
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, n := range nodes {
		select {
		case sem <- struct{}{}:
		case <-c.stop:
			wg.Wait()
			return
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := c.ml.SendReliable(n, msg); err != nil {
				c.log.Debug("reliable purge send", "node", n.Name, "error", err.Error())
			}
		})
	}
	wg.Wait()
}
