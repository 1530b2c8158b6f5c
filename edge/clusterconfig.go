package edge

// ClusterConfig is the `cluster:` block: the fleet this node gossips with. Every field is
// optional; without Gossip and Seeds (or `serve --gossip`, `--join`) the node is not in a fleet.
type ClusterConfig struct {
	// Gossip is the host:port memberlist binds, TCP and UDP (--gossip). Port 0: ephemeral.
	// Default: 127.0.0.1:7946 when Seeds are given (the documented default), else none (no fleet).
	// That default reaches only seeds on this host; a node joining others must name an
	// address they can reach.
	Gossip string `yaml:"gossip"`
	// Advertise is the host:port peers reach this node's gossip on. Default: Gossip.
	Advertise string `yaml:"advertise"`
	// Seeds are host:port gossip addresses of nodes to join at start and rejoin after a
	// partition (--join, comma separated). Default: none (the first node of a fleet).
	Seeds []string `yaml:"seeds"`
	// Name is this node's name in the fleet; unique per fleet. Default: the registry's node
	// id (random, kept under the data directory), so several nodes can share a host. Peers
	// fetch a version's code from its publisher first by this name: a Name other than the
	// default makes them ask the live members in random order instead.
	Name string `yaml:"name"`
	// Profile is memberlist's timing profile: "lan" (default), "wan" between regions, or
	// "local" for nodes on one machine or rack; the same on every node (docs/fleet.md).
	Profile string `yaml:"profile"`
	// SecretKey is the base64 of a 16, 24 or 32 byte key that encrypts and authenticates
	// gossip; the same on every node (`openssl rand -base64 32`). Required when Gossip or
	// Advertise is not a loopback address, unless InsecureGossip. The fleet credential that
	// peers fetch code blobs with is derived from it. Default: env VERGE_GOSSIP_KEY, else none
	// (cleartext gossip, on loopback only).
	SecretKey string `yaml:"secret_key"`
	// InsecureGossip lets a node gossip on a non-loopback address without SecretKey (serve
	// --insecure-gossip): anyone who can reach the gossip port can then join the fleet, purge
	// its caches and gossip function records (which run only if signed, with FleetPublicKey).
	// For networks only the fleet can reach; the node logs a warning at start. Default false.
	InsecureGossip bool `yaml:"insecure_gossip"`
	// AdminToken is the fleet credential: the bearer token a node sends to peers when it
	// fetches a code blob, and accepts from them on the blob route only (GET /v1/blobs/, never
	// another admin route). Every node of the fleet needs the same, and it must not be an
	// admin token. Default: env VERGE_FLEET_TOKEN, else derived from SecretKey (HMAC-SHA256),
	// else none (refused when admin tokens are configured).
	AdminToken string `yaml:"admin_token"`
	// FleetPublicKey is the base64 of the fleet's ed25519 public key: with it, a node runs only
	// versions signed by the matching private key. Default: none (no signing).
	FleetPublicKey string `yaml:"fleet_public_key"`
	// FleetPrivateKeyFile names a file holding the base64 of the ed25519 private key (64
	// bytes) or its 32-byte seed (`verge cluster keygen` writes one): versions published on
	// this node are signed, and it implies the public key. A node with FleetPublicKey and no
	// private key refuses to publish. Default: none.
	FleetPrivateKeyFile string `yaml:"fleet_private_key_file"`
}

// validateCluster checks what the cluster block can be checked for before a fleet starts.
func (c *Config) validateCluster() error {
	switch c.Cluster.Profile {
	case "", "lan", "wan", "local":
		return nil
	}
	return c.lineErr(keyLine(c.node, "cluster", "profile"), "cluster.profile", "%q: want lan, wan or local", c.Cluster.Profile)
}
