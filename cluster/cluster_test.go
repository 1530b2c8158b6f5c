package cluster

import (
	"bytes"
	"testing"
	"time"

	"github.com/vergecdn/verge/internal/poll"
)

func TestChangeReachesAll(t *testing.T) {
	nodes := startFleet(t, 4, nodeOpts{})
	start := time.Now()
	nodes[1].set("alias/f/live", "v1")
	poll.Until(t, 3*time.Second, "v1 everywhere", func() bool { return converged(nodes, "alias/f/live", "v1") })
	t.Logf("converged in %v", time.Since(start))
	poll.Until(t, 3*time.Second, "equal advertised digests", func() bool { return digestsAgree(nodes) })
}

// TestDigestPull: a change that is never broadcast (a lost delta) still reaches every node within
// a few probe rounds, through the digest in node meta, long before push/pull (1 min in tests).
func TestDigestPull(t *testing.T) {
	nodes := startFleet(t, 3, nodeOpts{})
	nodes[2].st.Set("k", "silent")
	poll.Until(t, 3*time.Second, "silent change everywhere", func() bool { return converged(nodes, "k", "silent") })
}

func TestLateJoinerCatchesUp(t *testing.T) {
	nodes := startFleet(t, 3, nodeOpts{})
	for i := range 20 {
		nodes[i%3].set("fn/"+itoa(i), "code"+itoa(i))
	}
	late := startNode(t, "late", []string{nodes[1].c.Addr()}, nodeOpts{})
	if _, err := late.c.Join([]string{nodes[1].c.Addr()}); err != nil {
		t.Fatal(err)
	}
	all := append(nodes, late)
	poll.Until(t, 3*time.Second, "late joiner has every key", func() bool { return converged(all, "fn/019", "code019") && digestsAgree(all) })
}

func TestKilledNodeRestartsAndCatchesUp(t *testing.T) {
	nodes := startFleet(t, 3, nodeOpts{})
	victim := nodes[2]
	addr := victim.c.Addr()
	victim.kill()
	nodes[0].set("while-down", "yes")
	poll.Until(t, 3*time.Second, "others see the victim dead", func() bool {
		return countState(nodes[0].c.Members(), StateDead) == 1
	})
	back := startNode(t, victim.name, []string{nodes[0].c.Addr()}, nodeOpts{bind: addr})
	all := []*testNode{nodes[0], nodes[1], back}
	poll.Until(t, 5*time.Second, "restarted node catches up", func() bool { return converged(all, "while-down", "yes") })
	poll.Until(t, 5*time.Second, "restarted node alive everywhere", func() bool { return allAlive(all, 3) })
}

func TestConcurrentUpdatesConverge(t *testing.T) {
	nodes := startFleet(t, 4, nodeOpts{})
	for round := range 5 {
		done := make(chan struct{})
		go func() { nodes[0].set("alias/f/live", "a"+itoa(round)); close(done) }()
		nodes[3].set("alias/f/live", "b"+itoa(round))
		<-done
	}
	poll.Until(t, 3*time.Second, "one value everywhere", func() bool {
		v, _ := nodes[0].st.Get("alias/f/live")
		return converged(nodes, "alias/f/live", v) && digestsAgree(nodes)
	})
	v, _ := nodes[0].st.Get("alias/f/live")
	if v != "a004" && v != "b004" {
		t.Fatalf("converged on %q, want a last-round value", v)
	}
}

// digestsAgree reports whether every node's state has the same digest.
func digestsAgree(nodes []*testNode) bool {
	for _, n := range nodes[1:] {
		if !bytes.Equal(n.st.Digest(), nodes[0].st.Digest()) {
			return false
		}
	}
	return true
}

// TestClosedNodeShowsLeft: a node that Closes (serve's SIGTERM) is listed as left by the
// others; one that crashes, as dead (issue 16: a SIGTERM'd node showed as dead).
func TestClosedNodeShowsLeft(t *testing.T) {
	nodes := startFleet(t, 4, nodeOpts{})
	nodes[3].close()
	poll.Until(t, 3*time.Second, "the others see the closed node left", func() bool {
		return countState(nodes[0].c.Members(), StateLeft) == 1 && countState(nodes[1].c.Members(), StateLeft) == 1
	})
	nodes[2].kill()
	poll.Until(t, 3*time.Second, "the others see the killed node dead", func() bool {
		return countState(nodes[0].c.Members(), StateDead) == 1 && countState(nodes[0].c.Members(), StateLeft) == 1
	})
}

// TestLeaveReachesEveryPeer: a node that Closes is listed as left by every peer, also by one
// that none of its last gossip packets reached (they are lost here): it hears memberlist's
// leave relayed by the others, and must know by then that the node announced its leave.
func TestLeaveReachesEveryPeer(t *testing.T) {
	nodes := startFleet(t, 4, nodeOpts{})
	deaf := nodes[1].c.Addr()
	nodes[3].fault.muted.Store(&deaf)
	nodes[3].close()
	poll.Until(t, 3*time.Second, "every peer lists the closed node", func() bool {
		for _, n := range nodes[:3] {
			if countState(n.c.Members(), StateAlive) != 3 {
				return false
			}
		}
		return true
	})
	for _, n := range nodes[:3] {
		if got := countState(n.c.Members(), StateLeft); got != 1 {
			t.Errorf("%s lists %d left members, want 1: %+v", n.name, got, n.c.Members())
		}
	}
}

// TestCloseBoundedWithUnreachablePeers: a node whose peers all stopped answering over TCP (a
// dial hangs until memberlist's TCPTimeout) closes within about its leave timeout plus one
// TCP timeout, however many peers wait for one of the leave senders (16; 1 here, so that
// three peers make three rounds): the leave messages not under way when the leave timeout
// passes are given up.
func TestCloseBoundedWithUnreachablePeers(t *testing.T) {
	const peers = 3
	nodes := startFleet(t, peers+1, nodeOpts{leaveSenders: 1})
	leaving := nodes[peers]
	leaving.fault.stalled.Store(true)
	start := time.Now()
	leaving.close()
	took := time.Since(start)
	// Close waits LeaveTimeout for the announcements, then up to LeaveTimeout for
	// memberlist's leave, and for the sends under way (one TCPTimeout from their start).
	bound := 2*leaving.c.cfg.LeaveTimeout + time.Second + 500*time.Millisecond
	if took > bound {
		t.Fatalf("Close took %s with %d unreachable peers, want at most %s", took, peers, bound)
	}
	t.Logf("Close took %s with %d unreachable peers", took, peers)
}
