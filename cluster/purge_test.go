package cluster

import (
	"testing"
	"time"

	"github.com/vergecdn/verge/cache"
	"github.com/vergecdn/verge/internal/poll"
)

func TestPurgeReachesEveryNodeOnce(t *testing.T) {
	nodes := startFleet(t, 4, nodeOpts{})
	if _, err := nodes[1].c.Purge(cache.Purge{Pattern: "/images/*"}); err != nil {
		t.Fatal(err)
	}
	if _, err := nodes[2].c.Purge(cache.Purge{Pattern: "tag:news"}); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 3*time.Second, "purges everywhere", func() bool {
		for _, n := range nodes {
			if n.purges("/images/*") == 0 || n.purges("tag:news") == 0 {
				return false
			}
		}
		return true
	})
	time.Sleep(500 * time.Millisecond) // let re-broadcasts and reliable sends finish
	for _, n := range nodes {
		if a, b := n.purges("/images/*"), n.purges("tag:news"); a != 1 || b != 1 {
			t.Errorf("%s purged /images/* %d times and tag:news %d times, want once each", n.name, a, b)
		}
	}
}

// TestNotifyMsgNeverBlocks: with the purge consumer stuck, a flood of messages still returns from
// NotifyMsg at once (excess is dropped and counted), and gossip keeps working.
func TestNotifyMsgNeverBlocks(t *testing.T) {
	nodes := startFleet(t, 3, nodeOpts{})
	stuck := nodes[0]
	release := make(chan struct{})
	stuck.mu.Lock()
	stuck.block = release
	stuck.mu.Unlock()
	defer close(release)

	d := &delegate{c: stuck.c}
	start := time.Now()
	for i := range 5000 {
		var id [purgeIDSize]byte
		id[0], id[1] = byte(i), byte(i>>8)
		d.NotifyMsg(encodePurge(id, cache.Purge{Pattern: "/flood"}))
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("5000 NotifyMsg calls took %v with a stuck consumer", el)
	}
	// Deltas have their own queue and worker: they still flow.
	nodes[1].set("still", "flowing")
	poll.Until(t, 3*time.Second, "a delta reaches the node whose purge worker is stuck", func() bool {
		return converged(nodes, "still", "flowing")
	})
}
