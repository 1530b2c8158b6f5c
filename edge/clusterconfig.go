package edge

// ClusterConfig is the `cluster:` block: the fleet this node gossips with. Every field is
// optional; without Gossip and Seeds (or `serve --gossip`, `--join`) the node is not in a fleet.
type ClusterConfig struct {
	// Gossip is the host:port memberlist binds, TCP and UDP (--gossip). Port 0: ephemeral.
	// Default: 127.0.0.1:7946 when Seeds are given (DESIGN.md's default), else none (no fleet).
	// That default reaches only seeds on this host; a node joining others must name an
	// address they can reach.
	Gossip string `yaml:"gossip"`
	// Advertise is the host:port peers reach this node's gossip on. Default: Gossip.
	Advertise string `yaml:"advertise"`
	// Seeds are host:port gossip addresses of nodes to join at start and rejoin after a
	// partition (--join, comma separated). Default: none (the first node of a fleet).
	Seeds []string `yaml:"seeds"`
	// Name is this node's name in the fleet; unique per fleet. Default: the registry's node
	// id (random, kept under the data directory), so several nodes can share a host.
	Name string `yaml:"name"`
	// SecretKey is the base64 of a 16, 24 or 32 byte key that encrypts gossip; the same on
	// every node. Default: env VERGE_GOSSIP_KEY, else none (cleartext gossip).
	SecretKey string `yaml:"secret_key"`
	// AdminToken is sent to peers when fetching code blobs and required from them. Every node
	// of the fleet needs the same. Default: env VERGE_FLEET_TOKEN, else the first admin token.
	AdminToken string `yaml:"admin_token"`
	// FleetPublicKey is the base64 of the fleet's ed25519 public key: with it, a node runs only
	// versions signed by the matching private key. Default: none (no signing).
	FleetPublicKey string `yaml:"fleet_public_key"`
	// FleetPrivateKeyFile names a file holding the base64 of the ed25519 private key (64
	// bytes) or its 32-byte seed: versions published on this node are signed. Default: none.
	FleetPrivateKeyFile string `yaml:"fleet_private_key_file"`
}
