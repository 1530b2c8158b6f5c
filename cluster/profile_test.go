package cluster

import (
	"testing"
	"time"
)

func TestProfiles(t *testing.T) {
	tests := []struct {
		profile string
		probe   time.Duration
		gossip  time.Duration
	}{
		{"", time.Second, 200 * time.Millisecond},
		{"lan", time.Second, 200 * time.Millisecond},
		{"wan", 5 * time.Second, 500 * time.Millisecond},
		{"local", time.Second, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		mc, err := Config{NodeName: "n", BindAddr: "127.0.0.1:0", Profile: tt.profile}.memberlistConfig()
		if err != nil {
			t.Fatalf("%q: %v", tt.profile, err)
		}
		if mc.ProbeInterval != tt.probe || mc.GossipInterval != tt.gossip || mc.GossipNodes != 4 {
			t.Errorf("%q: probe %v gossip %v nodes %d", tt.profile, mc.ProbeInterval, mc.GossipInterval, mc.GossipNodes)
		}
	}
	if _, err := (Config{NodeName: "n", BindAddr: "127.0.0.1:0", Profile: "metro"}).memberlistConfig(); err == nil {
		t.Error("an unknown profile was accepted")
	}
}
