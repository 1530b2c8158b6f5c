package main

import (
	"encoding/json"
	"net/http"

	"github.com/vergecdn/verge/cluster"
)

// syncHandler serves cluster.SyncPath: the node's digest and whether it runs what its registry
// says for the function named in ?function=. The guard lets anyone read it (no token:
// cluster.SyncState holds no secret), so that `verge fn alias --wait` never sends a token to a
// member's advertised admin URL.
func (f *fleet) syncHandler(lc *lifecycle) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st := cluster.SyncState{Node: f.c.Name(), Digest: f.c.Digest(), Current: lc.act.Status(r.URL.Query().Get("function")).Current()}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(st)
	}
}
