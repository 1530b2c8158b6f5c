package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vergecdn/verge/admin"
	"github.com/vergecdn/verge/cluster"
	"github.com/vergecdn/verge/edge"
	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/registry"
)

// TestFnAliasWait: `verge fn alias --wait` against a node of a 3-node fleet returns once every
// node runs the alias move (holds the records and attached the new version), saying so;
// outside a fleet it says there is nothing to wait for; a fleet that does not converge in time
// is an error.
func TestFnAliasWait(t *testing.T) {
	lcA, flA, adminA := startFleetNode(t, fleetConfig{Gossip: "127.0.0.1:0"})
	var others []*lifecycle
	for range 2 {
		lc, _, _ := startFleetNode(t, fleetConfig{Gossip: "127.0.0.1:0", Seeds: []string{flA.c.Addr()}})
		others = append(others, lc)
	}
	lcSolo, _, adminSolo := startFleetNode(t, fleetConfig{})
	ran := map[*lifecycle]*attachments{}
	for _, lc := range append([]*lifecycle{lcA, lcSolo}, others...) {
		ran[lc] = &attachments{}
		if err := lc.act.Start(ran[lc]); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for alive(flA.c) != 3 {
		if time.Now().After(deadline) {
			t.Fatal("the fleet never formed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, reg := range []*registry.Store{lcA.reg, lcSolo.reg} {
		for v := range 2 {
			if _, err := reg.PutCode("t", "f", registry.Upload{Package: fmt.Appendf(nil, `exports.handler = async () => ({status: '200', body: 'v%d'})`, v+1)}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := reg.Publish("t", "f", ""); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := reg.PutAlias("t", "f", "live", registry.AliasSpec{Version: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Associate("t", registry.Association{Behavior: registry.DefaultBehavior, Event: "viewer-request", Function: "f", Qualifier: "live"}); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name  string
		args  []string
		out   string // the last line
		error string
	}{
		{"fleet", []string{"--admin", adminA, "--wait"}, "converged 3/3 nodes", ""},
		{"alone", []string{"--admin", adminSolo, "--wait"}, "converged 1/1 nodes (not in a fleet)", ""},
		{"too slow", []string{"--admin", adminA, "--wait", "--wait-timeout", "1ns"}, "", "did not converge within 1ns"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := fn(append([]string{"alias", "f", "live", "2", "--token", "fleet-token"}, c.args...)...)
			if c.error != "" {
				if err == nil || !strings.Contains(err.Error(), c.error) {
					t.Fatalf("err %v, want %q", err, c.error)
				}
				return
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if err != nil || lines[len(lines)-1] != c.out {
				t.Fatalf("output %q, err %v; want the last line %q", out, err, c.out)
			}
		})
	}
	// Converged means every node holds the move and runs version 2.
	for i, lc := range others {
		st, err := lc.reg.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		if a, ok := st.Aliases["f"]["live"]; !ok || a.Version != 2 {
			t.Errorf("node %d: alias %+v", i+1, a)
		}
		if body := ran[lc].answer(t, registry.DefaultBehavior, hooks.ViewerRequest); body != "v2" {
			t.Errorf("node %d answers %q, not version 2's v2", i+1, body)
		}
	}
}

// attachments is an activator's target that keeps the last table it was given.
type attachments struct {
	mu sync.Mutex
	t  edge.Attachments
}

func (a *attachments) SetAttachments(t edge.Attachments) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.t = t
}

// answer invokes the function attached at behavior's stage and returns its response's body.
func (a *attachments) answer(t *testing.T, behavior string, stage hooks.Stage) string {
	a.mu.Lock()
	at := a.t[behavior][stage]
	a.mu.Unlock()
	if at == nil {
		return ""
	}
	res, err := at.Function.Invoke(context.Background(), &hooks.Event{Stage: stage, Request: &hooks.Request{Method: "GET", URI: "/"}})
	if err != nil || res.Response == nil {
		t.Errorf("invoking the attached function: %+v, %v", res, err)
		return ""
	}
	return string(res.Response.Body)
}

func alive(c *cluster.Cluster) int {
	n := 0
	for _, m := range c.Members() {
		if m.State == cluster.StateAlive {
			n++
		}
	}
	return n
}

// TestFnAliasWaitSendsNoToken: --wait asks each member whether it runs the change at the admin
// URL the member advertises, which any holder of the gossip key chooses; the operator's admin
// token must never go there. Each node has its own token; the others' admin ports must see no
// Authorization header but the fleet credential of peers fetching code, and --wait still sees
// the fleet converge.
func TestFnAliasWaitSendsNoToken(t *testing.T) {
	key := "dmVyZ2UtdGVzdC1rZXkxMg=="
	fc := fleetConfig{Gossip: "127.0.0.1:0", SecretKey: key}
	lcA, flA, adminA, _ := startGuardedNode(t, fc, []admin.Token{{Name: "ops", Secret: "opsSecret1"}})
	fc.Seeds = []string{flA.c.Addr()}
	lcB, _, _, seenB := startGuardedNode(t, fc, []admin.Token{{Name: "ops", Secret: "opsSecret2"}})
	lcC, _, _, seenC := startGuardedNode(t, fc, []admin.Token{{Name: "ops", Secret: "opsSecret4"}})
	ran := map[*lifecycle]*attachments{}
	for _, lc := range []*lifecycle{lcA, lcB, lcC} {
		ran[lc] = &attachments{}
		if err := lc.act.Start(ran[lc]); err != nil {
			t.Fatal(err)
		}
	}
	waitAlive(t, flA, 3)
	for v := range 2 {
		if _, err := lcA.reg.PutCode("t", "f", registry.Upload{Package: fmt.Appendf(nil, `exports.handler = async () => ({status: '200', body: 'v%d'})`, v+1)}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := lcA.reg.Publish("t", "f", ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := lcA.reg.PutAlias("t", "f", "live", registry.AliasSpec{Version: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := lcA.reg.Associate("t", registry.Association{Behavior: registry.DefaultBehavior, Event: "viewer-request", Function: "f", Qualifier: "live"}); err != nil {
		t.Fatal(err)
	}
	for _, lc := range []*lifecycle{lcB, lcC} {
		waitRunnable(t, lc, "f", "2")
	}
	out, err := fn("alias", "f", "live", "2", "--admin", adminA, "--token", "opsSecret1", "--wait")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || lines[len(lines)-1] != "converged 3/3 nodes" {
		t.Fatalf("output %q, err %v; want the last line converged 3/3 nodes", out, err)
	}
	fleetCred, err := cluster.FleetToken(key)
	if err != nil {
		t.Fatal(err)
	}
	for name, seen := range map[string]func() []string{"B": seenB, "C": seenC} {
		asked := false
		for _, a := range seen() {
			switch a {
			case "":
				asked = true
			case "Bearer " + fleetCred: // a peer fetching a blob
			default:
				t.Errorf("node %s's admin port received Authorization %q", name, a)
			}
		}
		if !asked {
			t.Errorf("--wait never asked node %s", name)
		}
	}
	for _, lc := range []*lifecycle{lcB, lcC} {
		if body := ran[lc].answer(t, registry.DefaultBehavior, hooks.ViewerRequest); body != "v2" {
			t.Errorf("a node converged answers %q, not version 2's v2", body)
		}
	}
}

// TestFnAliasWaitInterrupted: --wait stopped before its timeout (Ctrl-C, SIGTERM: the command's
// context ends) says it was interrupted and after how long, not that the fleet missed a
// timeout it never reached.
func TestFnAliasWaitInterrupted(t *testing.T) {
	_, _, adminA := startFleetNode(t, fleetConfig{Gossip: "127.0.0.1:0"})
	c := (&clientFlags{admin: adminA}).client()
	before, err := fleetMembers(context.Background(), c)
	if err != nil || before == nil {
		t.Fatalf("members: %v, %v", before, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err = waitConverged(ctx, c, io.Discard, before, time.Minute, "f")
	if err == nil || strings.Contains(err.Error(), "1m0s") || !strings.Contains(err.Error(), "interrupted after ") {
		t.Fatalf("err %v, want it interrupted, with the time waited", err)
	}
}
