package cluster

import (
	"encoding/base64"
	"fmt"
	"math/bits"
	"net"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/hashicorp/memberlist"
)

// Config configures a Cluster. The zero value of every field means its default.
type Config struct {
	// NodeName names this node in the fleet; unique per fleet. Default: the hostname.
	NodeName string
	// BindAddr is the host:port memberlist listens on, TCP and UDP (port 0: an ephemeral
	// port). Default: 127.0.0.1:7946.
	BindAddr string
	// AdvertiseAddr is the host:port peers use to reach this node. Default: BindAddr.
	AdvertiseAddr string
	// Seeds are host:port addresses of nodes to join at start and to rejoin periodically.
	Seeds []string
	// Label is the memberlist label that separates fleets sharing a network; both sides must
	// agree. At most 255 bytes. Default: "verge".
	Label string
	// SecretKey is the base64 of a 16, 24 or 32 byte AES key that encrypts gossip; every node
	// of the fleet needs the same key. Default: none (cleartext gossip).
	SecretKey string
	// AdminURL is the base URL (http://host:port) where peers reach this node's admin API to
	// fetch blobs. At most 256 bytes; a bare host:port means http. Default: none (peers do
	// not fetch blobs from this node).
	AdminURL string
	// FleetToken is the fleet's credential, which this node sends as a bearer token when it
	// fetches a blob from a peer (and the admin port's guard accepts on the blob route only).
	// Never an admin token: peers are trusted with code, not with the admin API. Default:
	// derived from SecretKey (see FleetToken); none without a SecretKey.
	FleetToken string
	// RejoinInterval is how often the node rejoins the seeds and known-but-dead peers that are
	// not alive members. Default: 20s.
	RejoinInterval time.Duration
	// DeadPeerRetention is how long a dead peer stays a rejoin candidate. Default: 1h.
	DeadPeerRetention time.Duration
	// MaxStateBytes bounds the snapshot this node sends and the remote state it accepts in a
	// push/pull. Default: 8 MiB.
	MaxStateBytes int
	// MaxBlobBytes bounds a blob fetched from a peer. Default: 64 MiB.
	MaxBlobBytes int64
	// LeaveTimeout bounds each of Close's two waits: for its peers to be told it leaves, then
	// for memberlist's leave to go out. Default: 2s.
	LeaveTimeout time.Duration

	// Profile picks memberlist's timings: "lan" (default: one data centre, probes every second,
	// gossip every 200 ms), "wan" (nodes in several regions: probes every 5 s with a 3 s
	// timeout, gossip every 500 ms, a suspect declared dead after longer) or "local" (one
	// machine or rack: tighter than lan). docs/fleet.md says which to use when.
	Profile string
	// tune, for tests only, adjusts the memberlist configuration (timings, transport) last.
	tune func(*memberlist.Config)
	// leaveSenders, for tests only, replaces the bound of leave messages sent at once
	// (defaultLeaveSenders).
	leaveSenders int
	// wrapTransport, for tests only, wraps memberlist's network transport (to drop traffic).
	wrapTransport func(memberlist.NodeAwareTransport) memberlist.NodeAwareTransport
	// pullSettle, for tests only, overrides how long a digest mismatch must last before a pull.
	pullSettle time.Duration
}

// Defaults and bounds.
const (
	defaultBindAddr    = "127.0.0.1:7946"
	defaultLabel       = "verge"
	maxAdminURL        = 256
	maxDeltaMessage    = 1000 // fits one UDP packet with memberlist's overheads
	maxPurgePattern    = 512
	maxInboundMessage  = 4096 // any user message we accept; ours are at most ~1000
	defaultStateBytes  = 8 << 20
	defaultBlobBytes   = 64 << 20
	defaultRejoinEvery = 20 * time.Second
)

// withDefaults returns c with defaults filled in, or an error naming the first bad field.
func (c Config) withDefaults() (Config, error) {
	if c.NodeName == "" {
		h, err := os.Hostname()
		if err != nil {
			return c, fmt.Errorf("cluster: node name: %w", err)
		}
		c.NodeName = h
	}
	if c.BindAddr == "" {
		c.BindAddr = defaultBindAddr
	}
	if c.Label == "" {
		c.Label = defaultLabel
	}
	if len(c.Label) > memberlist.LabelMaxSize {
		return c, fmt.Errorf("cluster: label longer than %d bytes", memberlist.LabelMaxSize)
	}
	if len(c.AdminURL) > maxAdminURL {
		return c, fmt.Errorf("cluster: admin URL longer than %d bytes", maxAdminURL)
	}
	if c.AdminURL != "" {
		if u, err := url.Parse(c.AdminURL); err != nil || u.Host == "" {
			c.AdminURL = "http://" + c.AdminURL
		}
	}
	if c.FleetToken == "" && c.SecretKey != "" {
		var err error
		if c.FleetToken, err = FleetToken(c.SecretKey); err != nil {
			return c, err
		}
	}
	if c.RejoinInterval <= 0 {
		c.RejoinInterval = defaultRejoinEvery
	}
	if c.DeadPeerRetention <= 0 {
		c.DeadPeerRetention = time.Hour
	}
	if c.MaxStateBytes <= 0 {
		c.MaxStateBytes = defaultStateBytes
	}
	if c.MaxBlobBytes <= 0 {
		c.MaxBlobBytes = defaultBlobBytes
	}
	if c.LeaveTimeout <= 0 {
		c.LeaveTimeout = 2 * time.Second
	}
	if c.leaveSenders <= 0 {
		c.leaveSenders = defaultLeaveSenders
	}
	return c, nil
}

// memberlistConfig builds memberlist's configuration: DefaultLANConfig tuned for a fleet on one
// LAN. The caller sets Delegate, Events, Logger and Transport.
func (c Config) memberlistConfig() (*memberlist.Config, error) {
	var mc *memberlist.Config
	switch c.Profile {
	case "", "lan":
		mc = memberlist.DefaultLANConfig()
	case "wan":
		mc = memberlist.DefaultWANConfig()
	case "local":
		mc = memberlist.DefaultLocalConfig()
		// Bandwidth is plentiful within a machine or rack and CPU is not: compressing every
		// push/pull cost a tenth of a node's CPU at 100 nodes on one box.
		mc.EnableCompression = false
	default:
		return nil, fmt.Errorf("cluster: profile %q: want lan, wan or local", c.Profile)
	}
	mc.Name = c.NodeName
	host, port, err := splitHostPort(c.BindAddr)
	if err != nil {
		return nil, fmt.Errorf("cluster: bind address: %w", err)
	}
	mc.BindAddr, mc.BindPort = host, port
	mc.AdvertiseAddr, mc.AdvertisePort = "", port
	if c.AdvertiseAddr != "" {
		if mc.AdvertiseAddr, mc.AdvertisePort, err = splitHostPort(c.AdvertiseAddr); err != nil {
			return nil, fmt.Errorf("cluster: advertise address: %w", err)
		}
	}
	mc.Label = c.Label
	if c.SecretKey != "" {
		key, err := decodeSecretKey(c.SecretKey)
		if err != nil {
			return nil, err
		}
		mc.SecretKey = key
	}
	// A fleet on one LAN: gossip to one more node per round than the default, so a delta and a
	// changed digest reach everyone in fewer rounds; let a restarted node that came back on a
	// new address reclaim its name once the old one has been dead a while.
	mc.GossipNodes = 4
	mc.DeadNodeReclaimTime = 30 * time.Second
	if c.tune != nil {
		c.tune(mc)
	}
	return mc, nil
}

// pullSettleDelay is how long a peer's unknown digest must stand before we pull from it: long
// enough for a broadcast delta to reach us (about log2(fleet size) gossip rounds, at least two),
// short enough to stay within a probe round or two. alive is the number of alive members.
func (c Config) pullSettleDelay(mc *memberlist.Config, alive int) time.Duration {
	if c.pullSettle > 0 {
		return c.pullSettle
	}
	return mc.GossipInterval * time.Duration(max(2, bits.Len(uint(alive))))
}

// decodeSecretKey decodes Config.SecretKey: the base64 of a 16, 24 or 32 byte AES key.
func decodeSecretKey(b64 string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("cluster: secret key: %w", err)
	}
	if n := len(key); n != 16 && n != 24 && n != 32 {
		return nil, fmt.Errorf("cluster: secret key is %d bytes, want 16, 24 or 32", n)
	}
	return key, nil
}

func splitHostPort(hp string) (string, int, error) {
	host, sport, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.ParseUint(sport, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("port %q: %w", sport, err)
	}
	if host == "" {
		host = "0.0.0.0"
	}
	return host, int(port), nil
}
