package deploy_test

import (
	"context"
	"testing"
	"time"

	"github.com/vergecdn/verge/deploy"
	"github.com/vergecdn/verge/registry"
)

// TestRemoteVersionWaitsForItsCode: an alias moved on a peer to a version whose code has not
// arrived here keeps running the previous version; once the blob is fetched (and verified),
// the new version goes live.
func TestRemoteVersionWaitsForItsCode(t *testing.T) {
	e := start(t, deploy.Options{InProcess: true, DrainDelay: 50 * time.Millisecond})
	e.deploy(t, "tag", "one")
	if _, err := e.reg.PutAlias("t", "tag", "live", registry.AliasSpec{Version: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.reg.Associate("t", registry.Association{Behavior: "*", Event: "viewer-response", Function: "tag", Qualifier: "live"}); err != nil {
		t.Fatal(err)
	}
	e.sync(t)
	here := registry.NewReplica(e.reg, registry.ReplicaOptions{FetchBackoff: 5 * time.Millisecond})
	t.Cleanup(func() { here.Close() })

	peer, err := registry.Open(registry.Options{Dir: t.TempDir(), NodeID: "peer"})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	var deltas [][]byte
	there := registry.NewReplica(peer, registry.ReplicaOptions{})
	defer there.Close()
	there.SetBroadcast(func(_ string, d []byte) error { deltas = append(deltas, d); return nil })
	snap, err := here.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if err := there.Merge(snap); err != nil {
		t.Fatal(err)
	}
	if _, err := peer.PutCode("t", "tag", registry.Upload{Package: versionFn("two")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := peer.Publish("t", "tag", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := peer.PutAlias("t", "tag", "live", registry.AliasSpec{Version: 2}); err != nil {
		t.Fatal(err)
	}
	for _, d := range deltas {
		if err := here.Merge(d); err != nil {
			t.Fatal(err)
		}
	}
	e.sync(t)
	if got := e.version(t, "/x"); got != "one" {
		t.Fatalf("ran code it does not hold: X-Version %q", got)
	}
	if f := e.act.Failures(); len(f) != 0 {
		t.Fatalf("failures: %v", f)
	}
	here.SetFetch(func(_ context.Context, sum [32]byte) error {
		rc, err := there.Open(sum)
		if err != nil {
			return err
		}
		defer rc.Close()
		return here.Put(sum, rc)
	})
	here.Start()
	deadline := time.Now().Add(10 * time.Second)
	for e.version(t, "/x") != "two" {
		if time.Now().After(deadline) {
			t.Fatal("the new version never went live after its code arrived")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
