package admin_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/vergecdn/verge/deploy"
	"github.com/vergecdn/verge/internal/syncbuf"
	"github.com/vergecdn/verge/registry"
)

// TestAssociateRefusesLatest: an association must name a published version or an alias, as
// Lambda@Edge's must: one to $LATEST (or with no qualifier) would put every deploy live at
// once. The refusal is a 400 that says what to do, and nothing is associated.
func TestAssociateRefusesLatest(t *testing.T) {
	n := startNode(t, t.TempDir(), origin(t).URL, nil)
	n.must(t, "PUT", "/v1/functions/cff/code?runtime=cloudfront-js-2.0", "function handler(event) { return event.request; }", 200)
	for _, tt := range []struct{ name, body string }{
		{"no qualifier", `{"function":"cff"}`},
		{"empty qualifier", `{"function":"cff","qualifier":""}`},
		{"$LATEST", `{"function":"cff","qualifier":"$LATEST"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := n.must(t, "PUT", "/v1/associations/default/viewer-request", tt.body, 400)
			msg, _ := m["error"].(string)
			for _, want := range []string{"publish", "cff:3", "cff:live"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
		})
	}
	if as := n.must(t, "GET", "/v1/associations", "", 200)["associations"].([]any); len(as) != 0 {
		t.Fatalf("associated anyway: %v", as)
	}
	n.must(t, "POST", "/v1/functions/cff/versions", "", 201)
	n.must(t, "PUT", "/v1/associations/default/viewer-request", `{"function":"cff","qualifier":"1"}`, 200)
}

// TestLegacyLatestAssociationKeepsRunning: an association to $LATEST stored before they
// were refused (written here into the registry's database as an older node wrote it) keeps
// running $LATEST after an upgrade, and the node warns about it, once.
func TestLegacyLatestAssociationKeepsRunning(t *testing.T) {
	dir, o := t.TempDir(), origin(t)
	n := startNode(t, dir, o.URL, nil)
	n.must(t, "PUT", "/v1/functions/tag/code", versionFn("one"), 200)
	n.stop()

	db, err := bolt.Open(filepath.Join(dir, "registry.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := json.Marshal(registry.Association{Behavior: registry.DefaultBehavior, Event: "viewer-response", Function: "tag", Qualifier: registry.Latest})
	err = db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("associations")).Put([]byte(registry.DefaultBehavior+"\x00viewer-response"), old)
	})
	if cerr := db.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}

	var logs syncbuf.Buffer
	n = startNodeWith(t, dir, o.URL, nil, deploy.Options{InProcess: true}, &logs)
	if got := n.xversion(t, "/x"); got != "one" {
		t.Fatalf("the stored $LATEST association does not run: X-Version %q", got)
	}
	n.must(t, "PUT", "/v1/functions/tag/code", versionFn("two"), 200)
	if got := n.xversion(t, "/y"); got != "two" {
		t.Fatalf("the stored $LATEST association does not run $LATEST: X-Version %q", got)
	}
	if c := strings.Count(logs.String(), "level=WARN msg=\"deploy: the association runs $LATEST"); c != 1 {
		t.Fatalf("warned %d times, want once:\n%s", c, logs.String())
	}
}
