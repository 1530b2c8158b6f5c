package cluster

import (
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// TestPullTarget: only a peer advertising a digest we never held, settled and not pulled
// within a probe interval, is pulled; a peer whose digest we have not learned is not.
func TestPullTarget(t *testing.T) {
	now := time.Now()
	long := now.Add(-time.Minute)
	ours, theirs := []byte("ours"), []byte("theirs")
	tests := []struct {
		name string
		p    peer
		want bool
	}{
		{"unknown digest, settled", peer{digest: theirs, changed: long}, true},
		{"digest not learned yet", peer{changed: long}, false},
		{"our own digest", peer{digest: ours, changed: long}, false},
		{"unknown digest, still settling", peer{digest: theirs, changed: now.Add(-10 * time.Millisecond)}, false},
		{"pulled within a probe interval", peer{digest: theirs, changed: long, pulled: now.Add(-100 * time.Millisecond)}, false},
		{"not alive", peer{digest: theirs, changed: long, state: StateSuspect}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.p
			p.name, p.addr = "b", "127.0.0.1:7946"
			if p.state == "" {
				p.state = StateAlive
			}
			c := &Cluster{mc: &memberlist.Config{ProbeInterval: time.Second}, peers: map[string]*peer{"b": &p},
				history: [][]byte{ours}, localChange: long}
			got := c.pullTarget(now, time.Second)
			if (got != "") != tt.want {
				t.Fatalf("pullTarget = %q, want a pull: %v", got, tt.want)
			}
			if tt.want && got != "b/127.0.0.1:7946" {
				t.Fatalf("pullTarget = %q, want b/127.0.0.1:7946", got)
			}
		})
	}
}
