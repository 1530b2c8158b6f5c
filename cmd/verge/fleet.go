package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vergecdn/verge/cache"
	"github.com/vergecdn/verge/cluster"
	"github.com/vergecdn/verge/edge"
	"github.com/vergecdn/verge/kvs"
	"github.com/vergecdn/verge/loopback"
	"github.com/vergecdn/verge/registry"
)

// fleetConfig is the configuration's `cluster:` block (see edge.ClusterConfig).
type fleetConfig = edge.ClusterConfig

// fleetFlags are serve's fleet flags; they override the configuration's cluster block.
type fleetFlags struct {
	gossip   string
	join     []string
	insecure bool
}

func (f *fleetFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.gossip, "gossip", "", "join a fleet: gossip on this host:port (127.0.0.1:7946 when only --join is given)")
	fl.StringSliceVar(&f.join, "join", nil, "fleet members to join, HOST:PORT[,...]")
	fl.BoolVar(&f.insecure, "insecure-gossip", false, "gossip without cluster.secret_key on a non-loopback address (anyone who reaches it joins the fleet)")
}

// apply returns fc with the flags that were set on cmd.
func (f *fleetFlags) apply(cmd *cobra.Command, fc fleetConfig) fleetConfig {
	if cmd.Flags().Changed("gossip") {
		fc.Gossip = f.gossip
	}
	if cmd.Flags().Changed("join") {
		fc.Seeds = f.join
	}
	if cmd.Flags().Changed("insecure-gossip") {
		fc.InsecureGossip = f.insecure
	}
	return fc
}

// fleet is a node's membership: the cluster and the registry's replica. A node outside a
// fleet gets a fleet whose methods do nothing (Handler is then the lifecycle's).
type fleet struct {
	// Handler is the admin API with the cluster's routes (/v1/blobs, /v1/cluster/members,
	// /v1/cluster/sync, POST /v1/cache/purge fleet-wide), for edge.Deps.Admin, behind adminGuard.
	Handler http.Handler
	// peerToken is the fleet credential peers fetch blobs with ("" outside a fleet).
	peerToken string

	c   *cluster.Cluster
	rep *registry.Replica
	kv  *kvs.Replica // the KeyValueStores, replicated with the registry (fleet_state.go)
	srv atomic.Pointer[edge.Server]
}

// wireCluster joins the fleet fc describes, replicating lc's registry. Call it after
// wireLifecycle and before edge.New (which takes Handler); Attach the server after it
// started; Close it before lc.Close. metrics receives the verge_cluster_* series.
func wireCluster(cfg *edge.Config, fc fleetConfig, lc *lifecycle, metrics prometheus.Registerer, log *slog.Logger) (*fleet, error) {
	fl := &fleet{Handler: lc.Handler}
	if fc.Gossip == "" {
		// The default gossip address is loopback: it cannot reach a seed elsewhere,
		// and would advertise 127.0.0.1 to it.
		for _, seed := range fc.Seeds {
			if !loopback.Addr(seed) {
				return nil, fmt.Errorf("cluster: --join %s: give --gossip (or cluster.gossip) an address that node can reach; the default, 127.0.0.1:7946, reaches only this host", seed)
			}
		}
	}
	if fc.Gossip == "" && len(fc.Seeds) == 0 {
		// Outside a fleet, `verge cache purge` empties this node's cache only.
		mux := http.NewServeMux()
		mux.Handle("POST /v1/cache/purge", cluster.PurgeHandler(func(p cache.Purge) (int, error) { return fl.purge(p), nil }, false))
		mux.HandleFunc("GET /v1/cluster/members", cluster.NotInFleet)
		mux.HandleFunc("GET "+cluster.SyncPath, cluster.NotInFleet)
		mux.Handle("/", lc.Handler)
		fl.Handler = mux
		return fl, nil
	}
	secret := firstOf(fc.SecretKey, os.Getenv("VERGE_GOSSIP_KEY"))
	exposed := exposedGossip(fc)
	if exposed != "" && secret == "" && !fc.InsecureGossip {
		return nil, fmt.Errorf("cluster: gossip on %s is not loopback and no gossip key is set, so anyone who can reach it "+
			"could join the fleet, purge its caches and push function records: set cluster.secret_key (or "+
			"VERGE_GOSSIP_KEY) to the same base64 16, 24 or 32-byte key on every node (openssl rand -base64 32), "+
			"or, on a network only the fleet can reach, pass --insecure-gossip (cluster.insecure_gossip: true)", exposed)
	}
	var err error
	if fl.peerToken, err = peerToken(fc, secret, len(lc.Tokens) > 0); err != nil {
		return nil, err
	}
	trust, err := loadTrust(fc)
	if err != nil {
		return nil, err
	}
	rep, err := lc.reg.SetTrust(trust)
	if err != nil {
		return nil, err
	}
	if len(rep.Signed) > 0 {
		log.Info("fleet: signed the versions held that the fleet key did not verify; peers get the signed records", "versions", rep.Signed)
	}
	if len(rep.Quarantined) > 0 {
		log.Warn("fleet: quarantined the versions not signed by the fleet key: this node neither runs them nor offers them to peers, "+
			"and keeps them until a node with fleet_private_key_file signs them (start it with that key once), "+
			"or the key is corrected", "versions", rep.Quarantined)
	}
	if len(rep.Released) > 0 {
		log.Info("fleet: released versions from quarantine: the fleet key verifies them now, or there is none", "versions", rep.Released)
	}
	ccfg := cluster.Config{
		NodeName: fc.Name, BindAddr: fc.Gossip, AdvertiseAddr: fc.Advertise, Seeds: fc.Seeds,
		SecretKey: secret, AdminURL: "http://" + cfg.Admin, FleetToken: fl.peerToken, Profile: fc.Profile,
	}
	if ccfg.NodeName == "" {
		ccfg.NodeName = lc.reg.Node()
	}
	fl.rep = registry.NewReplica(lc.reg, registry.ReplicaOptions{Logger: log})
	fl.kv = lc.kvs.Replica()
	fl.c, err = cluster.New(ccfg, nodeState{reg: fl.rep, kv: fl.kv}, fl.rep, cluster.Deps{Logger: log, Registry: metrics, Purge: fl.purge})
	if err != nil {
		fl.rep.Close()
		return nil, err
	}
	fl.rep.SetBroadcast(fl.c.Broadcast)
	fl.kv.SetBroadcast(fl.c.Broadcast)
	fl.rep.SetFetch(fl.c.FetchBlob)
	fl.rep.Start()
	mux := http.NewServeMux()
	fl.c.Register(mux)
	mux.HandleFunc("GET "+cluster.SyncPath, fl.syncHandler(lc))
	mux.Handle("/", lc.Handler)
	fl.Handler = mux
	if exposed != "" && secret == "" {
		log.Warn("fleet: INSECURE GOSSIP: gossip is neither encrypted nor authenticated (--insecure-gossip): anyone who can reach "+
			exposed+" can join the fleet, purge its caches and push function records; set cluster.secret_key", "gossip", exposed)
	}
	// Seeds are joined in the background (the cluster logs when it joined); say what is true now.
	log.Info("fleet: gossiping", "node", ccfg.NodeName, "gossip", fl.c.Addr(), "seeds", fc.Seeds,
		"encrypted", secret != "", "code_signing", signingMode(trust))
	return fl, nil
}

// Attach gives the fleet the server whose cache fleet-wide purges empty.
func (f *fleet) Attach(srv *edge.Server) { f.srv.Store(srv) }

// Close leaves the fleet and stops replication. Call it before lc.Close.
func (f *fleet) Close() error {
	if f.c == nil {
		return nil
	}
	f.kv.SetBroadcast(nil)
	return errors.Join(f.c.Close(), f.rep.Close())
}

func (f *fleet) purge(p cache.Purge) int {
	if srv := f.srv.Load(); srv != nil {
		return srv.Store().Purge(p)
	}
	return 0
}

// signingMode says, for the start log, what t makes the node do with versions.
func signingMode(t registry.Trust) string {
	switch {
	case t.SigningKey != nil:
		return "on: signs what it publishes, runs only signed versions"
	case t.FleetKey != nil:
		return "verify only: runs only signed versions, refuses to publish (no fleet_private_key_file)"
	}
	return "off"
}

// loadTrust reads the fleet's signing keys. A private key alone gives the public key too: the
// node verifies what it accepts with it, as registry.Trust does, so that it never runs or
// keeps a version its fleet would refuse.
func loadTrust(fc fleetConfig) (registry.Trust, error) {
	var t registry.Trust
	if fc.FleetPublicKey != "" {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(fc.FleetPublicKey))
		if err != nil || len(b) != ed25519.PublicKeySize {
			return t, fmt.Errorf("cluster: fleet_public_key: want the base64 of %d bytes", ed25519.PublicKeySize)
		}
		t.FleetKey = ed25519.PublicKey(b)
	}
	if fc.FleetPrivateKeyFile != "" {
		raw, err := os.ReadFile(fc.FleetPrivateKeyFile)
		if err != nil {
			return t, fmt.Errorf("cluster: fleet_private_key_file: %w", err)
		}
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw)))
		switch {
		case err != nil:
			return t, fmt.Errorf("cluster: fleet_private_key_file: not base64: %w", err)
		case len(b) == ed25519.SeedSize:
			t.SigningKey = ed25519.NewKeyFromSeed(b)
		case len(b) == ed25519.PrivateKeySize:
			t.SigningKey = ed25519.PrivateKey(b)
		default:
			return t, fmt.Errorf("cluster: fleet_private_key_file: %d bytes, want %d or %d", len(b), ed25519.SeedSize, ed25519.PrivateKeySize)
		}
		pub := t.SigningKey.Public().(ed25519.PublicKey)
		if t.FleetKey == nil {
			t.FleetKey = pub
		} else if !t.FleetKey.Equal(pub) {
			return t, errors.New("cluster: fleet_private_key_file is not the private key of fleet_public_key")
		}
	}
	return t, nil
}

// exposedGossip returns the first of fc's gossip addresses (bound, default 127.0.0.1:7946, or
// advertised) that is not loopback, or "". Gossip there without a key would take any packet
// from anyone who reaches it, and one packet purges a fleet's caches or carries function
// records: wireCluster refuses it unless --insecure-gossip (cluster.insecure_gossip) says the
// network is the fleet's own, and then warns.
func exposedGossip(fc fleetConfig) string {
	for _, addr := range []string{firstOf(fc.Gossip, "127.0.0.1:7946"), fc.Advertise} {
		if addr != "" && !loopback.Addr(addr) {
			return addr
		}
	}
	return ""
}

// peerToken is the fleet credential peers fetch blobs with: cluster.admin_token (or
// VERGE_FLEET_TOKEN) when given, else derived from the gossip key (cluster.FleetToken). It is
// never an admin token (admin.Guard refuses one). Without either, a node whose admin API needs
// tokens could not serve its code to peers: that is refused, saying what to set.
func peerToken(fc fleetConfig, secret string, adminTokens bool) (string, error) {
	if tok := firstOf(fc.AdminToken, os.Getenv("VERGE_FLEET_TOKEN")); tok != "" {
		return tok, nil
	}
	if secret != "" {
		return cluster.FleetToken(secret)
	}
	if adminTokens {
		return "", errors.New("cluster: admin tokens are configured, so peers need a fleet credential to fetch code from this node, " +
			"and admin tokens are never sent to peers: set cluster.secret_key (or VERGE_GOSSIP_KEY), from which the credential " +
			"is derived, or cluster.admin_token (or VERGE_FLEET_TOKEN) to a secret of the fleet's own")
	}
	return "", nil
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
