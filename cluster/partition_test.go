package cluster

import (
	"testing"
	"time"

	"github.com/vergecdn/verge/internal/poll"
)

func TestPartitionHeals(t *testing.T) {
	tests := []struct {
		name  string
		apart time.Duration // how long the node stays cut off
	}{
		{"short", 300 * time.Millisecond},
		// Longer than GossipToTheDeadTime (1 s in tests): memberlist forgets the node, and only
		// the periodic rejoin brings it back.
		{"longer than GossipToTheDeadTime", 2500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := startFleet(t, 3, nodeOpts{rejoin: 300 * time.Millisecond})
			cut := nodes[2]
			cut.fault.isolated.Store(true)
			nodes[0].set("during", "partition")
			cut.set("island", "change")
			time.Sleep(tt.apart)
			if v, _ := cut.st.Get("during"); v != "" {
				t.Fatal("the isolated node received a change")
			}
			if tt.apart > time.Second {
				poll.Until(t, 3*time.Second, "the fleet declares the node dead", func() bool {
					return countState(nodes[0].c.Members(), StateDead) == 1 && countState(cut.c.Members(), StateDead) == 2
				})
				time.Sleep(1200 * time.Millisecond) // past GossipToTheDeadTime: memberlist forgets
			}
			cut.fault.isolated.Store(false)
			start := time.Now()
			poll.Until(t, 5*time.Second, "both sides' changes everywhere", func() bool {
				return converged(nodes, "during", "partition") && converged(nodes, "island", "change")
			})
			t.Logf("healed in %v", time.Since(start))
			poll.Until(t, 5*time.Second, "everyone alive again", func() bool { return allAlive(nodes, 3) })
		})
	}
}

// TestStartBeforeSeed: a node whose seed is not up yet joins it within a few seconds of the
// seed's start, not at the next RejoinInterval (10 s here).
func TestStartBeforeSeed(t *testing.T) {
	seed := startNode(t, "seed", nil, nodeOpts{})
	seed.fault.isolated.Store(true) // not up yet, as far as anyone can tell
	early := startNode(t, "early", []string{seed.c.Addr()}, nodeOpts{})
	time.Sleep(1200 * time.Millisecond)
	seed.fault.isolated.Store(false)
	start := time.Now()
	poll.Until(t, 5*time.Second, "the early node joined its seed", func() bool { return allAlive([]*testNode{seed, early}, 2) })
	t.Logf("joined %v after the seed came up", time.Since(start))
}
