package cluster

import (
	"net"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/vergecdn/verge/cache"
	"github.com/vergecdn/verge/internal/poll"
)

// TestForgedPurgePacket: one unauthenticated UDP packet carrying a purge message, sent to a
// node's gossip port by someone outside the fleet, purges a node that gossips without a key
// (the attack issue 12 reported, which is why a node refuses a non-loopback gossip address
// without one) and does nothing to a node with the fleet's key.
func TestForgedPurgePacket(t *testing.T) {
	for _, tc := range []struct {
		name   string
		noKey  bool
		forged bool // the forged purge runs
	}{{"cleartext gossip", true, true}, {"gossip with a key", false, false}} {
		t.Run(tc.name, func(t *testing.T) {
			nodes := startFleet(t, 2, nodeOpts{noKey: tc.noKey})
			victim := nodes[0]
			var id [purgeIDSize]byte
			id[0] = 0xf0
			// memberlist's wire: its label header, then a user message (type 8) and our purge.
			pkt, err := memberlist.AddLabelHeaderToPacket(append([]byte{8}, encodePurge(id, cache.Purge{Pattern: "/forged"})...), "verge-test")
			if err != nil {
				t.Fatal(err)
			}
			conn, err := net.Dial("udp", victim.c.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Write(pkt); err != nil {
				t.Fatal(err)
			}
			// A genuine purge from the fleet, sent after the forged packet, marks when the
			// victim has handled what came before it.
			if _, err := nodes[1].c.Purge(cache.Purge{Pattern: "/marker"}); err != nil {
				t.Fatal(err)
			}
			poll.Until(t, 3*time.Second, "the fleet's purge on the victim", func() bool { return victim.purges("/marker") == 1 })
			if tc.forged {
				poll.Until(t, 3*time.Second, "the forged purge on the victim", func() bool { return victim.purges("/forged") == 1 })
			} else if n := victim.purges("/forged"); n != 0 {
				t.Fatalf("a forged packet purged a node that gossips with a key (%d times)", n)
			}
		})
	}
}
