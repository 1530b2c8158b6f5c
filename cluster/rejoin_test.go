package cluster

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/vergecdn/verge/internal/poll"
	"github.com/vergecdn/verge/internal/syncbuf"
)

// logLines collects a logger's JSON records.
type logLines struct{ syncbuf.Buffer }

func (l *logLines) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// lines returns the records logged so far, raw.
func (l *logLines) lines() []string {
	return strings.Split(strings.TrimSpace(l.String()), "\n")
}

// find returns the first record at level whose message contains msg, or nil.
func (l *logLines) find(level, msg string) map[string]any {
	for _, line := range l.lines() {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["level"] == level && strings.Contains(rec["msg"].(string), msg) {
			return rec
		}
	}
	return nil
}

// TestRejoinSaysWhatIsTrue: a node whose seed left, while it is in the fleet with another
// member, does not warn that no seed or peer is reachable (it says so at debug level); a node
// whose gossip key differs from its seed's says the key did not match.
func TestRejoinSaysWhatIsTrue(t *testing.T) {
	t.Run("seed left, in the fleet", func(t *testing.T) {
		var logs logLines
		seed := startNode(t, "n0", nil, nodeOpts{})
		addr := []string{seed.c.Addr()}
		nodes := []*testNode{seed}
		for _, name := range []string{"n1", "n2"} {
			nodes = append(nodes, startNode(t, name, addr, nodeOpts{rejoin: 50 * time.Millisecond, log: logs.logger()}))
		}
		poll.Until(t, 5*time.Second, "all members alive", func() bool { return allAlive(nodes, 3) })
		seed.close()
		poll.Until(t, 5*time.Second, "a rejoin round without the seed", func() bool {
			return logs.find("DEBUG", "rejoin: ") != nil || logs.find("WARN", "rejoin: ") != nil
		})
		if rec := logs.find("WARN", "rejoin"); rec != nil {
			t.Fatalf("a node in the fleet warned: %v", rec)
		}
		if logs.find("DEBUG", "rejoin: no dead peer or absent seed answered; still in the fleet") == nil {
			t.Fatalf("no debug line for the round: %q", logs.lines())
		}
	})
	t.Run("wrong gossip key", func(t *testing.T) {
		var seedLogs, logs logLines
		seed := startNode(t, "k0", nil, nodeOpts{log: seedLogs.logger()})
		startNode(t, "k1", []string{seed.c.Addr()}, nodeOpts{key: "b3RoZXItdGVzdC1rZXkxMg==", rejoin: 50 * time.Millisecond, log: logs.logger()})
		poll.Until(t, 5*time.Second, "a failed join", func() bool { return logs.find("WARN", "rejoin") != nil })
		if rec := logs.find("WARN", "rejoin"); !strings.Contains(rec["msg"].(string), "the gossip key did not match") {
			t.Fatalf("logged %v, want the key named", rec)
		}
		poll.Until(t, 5*time.Second, "the seed's memberlist logs the undecryptable join", func() bool {
			return seedLogs.find("ERROR", "no installed keys could decrypt") != nil
		})
		// One component per record: memberlist's lines are memberlist's, not cluster's too.
		for _, line := range append(seedLogs.lines(), logs.lines()...) {
			if n := strings.Count(line, `"component":`); n != 1 {
				t.Fatalf("%d component keys in %s", n, line)
			}
		}
		if rec := seedLogs.find("ERROR", "no installed keys could decrypt"); rec["component"] != "memberlist" {
			t.Fatalf("memberlist's line: %v", rec)
		}
	})
}
