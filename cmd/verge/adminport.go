package main

import (
	"errors"
	"net/http"

	"github.com/vergecdn/verge/admin"
	"github.com/vergecdn/verge/cluster"
	"github.com/vergecdn/verge/edge"
)

// adminGuard is the guard of the whole admin port (edge.Deps.AdminGuard): the admin tokens,
// admin_hosts, metrics_auth, the fleet credential on the blob route, and no token on the
// fleet's sync route (cluster.SyncPath: what `verge fn alias --wait` asks each member).
func adminGuard(cfg *edge.Config, lc *lifecycle, fl *fleet) (func(http.Handler) http.Handler, error) {
	if cfg.MetricsAuth && len(lc.Tokens) == 0 {
		return nil, errors.New("admin: metrics_auth needs an admin token (admin_tokens or VERGE_ADMIN_TOKENS)")
	}
	return admin.Guard(admin.GuardOptions{
		Tokens: lc.Tokens, Listen: cfg.Admin, Hosts: cfg.AdminHosts, MetricsAuth: cfg.MetricsAuth,
		PeerToken: fl.peerToken, PeerPath: cluster.BlobPath, Open: []string{cluster.SyncPath},
	})
}
