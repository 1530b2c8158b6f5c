package cluster

import (
	"encoding/json"
	"net/http"

	"github.com/vergecdn/verge/cache"
)

// BlobPath is the path prefix of the blob route: peers' FetchBlob asks for BlobPath+hex(sha256).
// The admin port's guard accepts the fleet credential (Config.FleetToken) there, and only there.
const BlobPath = "/v1/blobs/"

// SyncPath is the route at which a member says, to anyone, whether it holds and runs the fleet's
// state (SyncState): `verge fn alias --wait` asks every member there, without a token, so that
// no admin token is ever sent to an address a peer advertised. The admin port's guard opens it
// (admin.GuardOptions.Open); cmd/verge serves it, as it needs the node's activator.
const SyncPath = "/v1/cluster/sync"

// SyncState is the answer at SyncPath?function=F. It carries no secret: Digest is a hash of
// the replicated state (which holds clocks, so it cannot be guessed from the records), and
// Current says whether F's associations run what the registry says, which is also true of a
// function that does not exist.
type SyncState struct {
	Node    string `json:"node"`
	Digest  string `json:"digest"`  // hex of the State digest this node holds, as in Member.Digest
	Current bool   `json:"current"` // the node runs what its registry says for F (deploy.Status.Current)
}

// Register adds the cluster's admin routes to mux:
//
//	GET  /v1/blobs/{sha256}   a code blob, for peers' FetchBlob
//	GET  /v1/cluster/members  Members as JSON
//	POST /v1/cache/purge      a fleet-wide purge (see PurgeHandler)
//
// The routes authenticate no one: mount mux behind the admin port's guard (admin.Guard), which
// requires an admin token everywhere and accepts the fleet credential on the blob route.
func (c *Cluster) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+BlobPath+"{sha256}", c.blobHandler)
	mux.HandleFunc("GET /v1/cluster/members", c.membersHandler)
	mux.Handle("POST /v1/cache/purge", PurgeHandler(c.Purge, true))
}

// NotInFleet answers the cluster's member route on a node outside a fleet: 404 (what `verge fn
// alias --wait` takes for "no fleet"), saying so rather than that the route does not exist.
func NotInFleet(w http.ResponseWriter, _ *http.Request) {
	writeError(w, http.StatusNotFound, "cluster: this node is not in a fleet: it was started without --gossip or --join "+
		"(cluster.gossip, cluster.seeds in its configuration)")
}

func (c *Cluster) membersHandler(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"self": c.cfg.NodeName, "members": c.Members()})
}

// PurgeRequest is the body of POST /v1/cache/purge: {"pattern": "/images/*", "host":
// "example.com", "soft": true} (host and soft optional).
type PurgeRequest = cache.Purge

// PurgeResponse is the answer to POST /v1/cache/purge.
type PurgeResponse struct {
	Pattern string `json:"pattern"`
	Host    string `json:"host,omitempty"`
	Soft    bool   `json:"soft,omitempty"`
	Purged  int    `json:"purged"` // objects removed (marked stale, when soft) on the node that took the request
	Fleet   bool   `json:"fleet"`  // the purge goes to every node of the fleet
}

// PurgeHandler serves POST /v1/cache/purge with a JSON PurgeRequest, calling purge: for a node
// alone, cache.Store.Purge wrapped to return no error, with fleet false; in a fleet,
// (*Cluster).Purge with fleet true (Register does that). It answers 400 to an invalid pattern.
// Like Register's routes, it authenticates no one: mount it behind the admin port's guard.
func PurgeHandler(purge func(p cache.Purge) (int, error), fleet bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req PurgeRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest, "cluster: want a JSON body {\"pattern\": \"/path | /glob/* | tag:KEY | all\", \"host\": \"optional\", \"soft\": false}")
			return
		}
		if req.Pattern == "" {
			writeError(w, http.StatusBadRequest, "cluster: the pattern is empty: want a path (/a/b), a glob (/images/*), tag:KEY or all")
			return
		}
		if _, err := req.Parse(); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		n, err := purge(req)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, PurgeResponse{Pattern: req.Pattern, Host: req.Host, Soft: req.Soft, Purged: n, Fleet: fleet})
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
