package cluster

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"

	"github.com/vergecdn/verge/cache"
)

// Register adds the cluster's admin routes to mux:
//
//	GET  /v1/blobs/{sha256}   a code blob, for peers' FetchBlob
//	GET  /v1/cluster/members  Members as JSON
//	POST /v1/cache/purge      a fleet-wide purge (see PurgeHandler)
//
// Every route requires Config.AdminToken as a bearer token when one is configured.
func (c *Cluster) Register(mux *http.ServeMux) {
	tok := c.cfg.AdminToken
	mux.Handle("GET /v1/blobs/{sha256}", RequireToken(tok, http.HandlerFunc(c.blobHandler)))
	mux.Handle("GET /v1/cluster/members", RequireToken(tok, http.HandlerFunc(c.membersHandler)))
	mux.Handle("POST /v1/cache/purge", PurgeHandler(c.Purge, true, tok))
}

func (c *Cluster) membersHandler(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"self": c.cfg.NodeName, "members": c.Members()})
}

// PurgeRequest is the body of POST /v1/cache/purge.
type PurgeRequest struct {
	Pattern string `json:"pattern"` // /a/b, /images/*, tag:KEY or all
	Soft    bool   `json:"soft"`    // mark stale instead of removing (not supported yet: 501)
}

// PurgeResponse is the answer to POST /v1/cache/purge.
type PurgeResponse struct {
	Pattern string `json:"pattern"`
	Purged  int    `json:"purged"` // objects removed on the node that took the request
	Fleet   bool   `json:"fleet"`  // the purge goes to every node of the fleet
}

// PurgeHandler serves POST /v1/cache/purge with a JSON PurgeRequest, calling purge: for a node
// alone, cache.Store.Purge wrapped to return no error, with fleet false; in a fleet,
// (*Cluster).Purge with fleet true (Register does that). It answers 400 to an invalid pattern and
// 501 to a soft purge, which the cache does not support yet. token, when not empty, is required
// as a bearer token.
func PurgeHandler(purge func(pattern string) (int, error), fleet bool, token string) http.Handler {
	return RequireToken(token, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req PurgeRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil || req.Pattern == "" {
			writeError(w, http.StatusBadRequest, "cluster: want a JSON body {\"pattern\": \"/path | /glob/* | tag:KEY | all\"}")
			return
		}
		if req.Soft {
			writeError(w, http.StatusNotImplemented, "cluster: soft purge is not supported yet")
			return
		}
		if _, err := cache.ParsePurgePattern(req.Pattern); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		n, err := purge(req.Pattern)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, PurgeResponse{Pattern: req.Pattern, Purged: n, Fleet: fleet})
	}))
}

// RequireToken wraps h so that it answers 401 unless the request carries "Authorization: Bearer
// token". An empty token lets every request through (the admin API then listens on loopback only).
func RequireToken(token string, h http.Handler) http.Handler {
	if token == "" {
		return h
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="verge"`)
			writeError(w, http.StatusUnauthorized, "cluster: missing or wrong admin token")
			return
		}
		h.ServeHTTP(w, r)
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
