package cluster

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
	"golang.org/x/sync/singleflight"

	"github.com/vergecdn/verge/cache"
)

// Cluster is this node's membership in the fleet. Safe for concurrent use. Create one with New;
// Close it once.
type Cluster struct {
	cfg    Config
	mc     *memberlist.Config
	state  State
	blobs  Blobs
	log    *slog.Logger
	purge  func(cache.Purge) int
	ml     *memberlist.Memberlist
	addr   string // advertised gossip host:port
	tr     *countingTransport
	queue  *memberlist.TransmitLimitedQueue
	met    *metrics
	client *http.Client
	fetch  singleflight.Group

	inbox  chan []byte   // delta messages for mergeLoop
	purges chan []byte   // purge messages for purgeLoop
	kick   chan struct{} // wakes digestLoop after a local or merged change

	mu          sync.Mutex
	peers       map[string]*peer // by node name, self included
	digest      []byte           // our State's digest as digestLoop last saw it
	history     [][]byte         // our recent digests, newest last (see knownDigest)
	localChange time.Time        // when digest last changed
	seen        map[[purgeIDSize]byte]time.Time

	alive     atomic.Int32 // alive members, self included (for the broadcast queue)
	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// peer is what this node knows of a member, from memberlist's events.
type peer struct {
	name, addr string
	local      bool
	state      MemberState
	meta       nodeMeta
	leaving    bool      // it announced its leave (a leave message)
	digest     []byte    // its digest, from a digest message or a probe ack
	changed    time.Time // when state or digest last changed
	pulled     time.Time // when we last pulled from it
}

// New starts memberlist on cfg.BindAddr and joins cfg.Seeds in the background (retrying every
// RejoinInterval). st and blobs may be nil (a node without a registry: nothing replicates and
// no blob is served or fetched). Close the Cluster to leave the fleet and stop its goroutines.
func New(cfg Config, st State, blobs Blobs, deps Deps) (*Cluster, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	mc, err := cfg.memberlistConfig()
	if err != nil {
		return nil, err
	}
	if st == nil {
		st = nopState{}
	}
	if blobs == nil {
		blobs = noBlobs{}
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mc.Logger = newMemberlistLogger(log) // its own component, not cluster's as well
	log = log.With("component", "cluster")
	c := &Cluster{
		cfg: cfg, mc: mc, state: st, blobs: blobs, log: log, purge: deps.Purge,
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 2, IdleConnTimeout: 30 * time.Second,
		}, CheckRedirect: func(*http.Request, []*http.Request) error {
			// A peer serves its blobs itself: a redirect would send us (and, on its own host,
			// the fleet credential) wherever it likes.
			return http.ErrUseLastResponse
		}},
		inbox:  make(chan []byte, 1024),
		purges: make(chan []byte, 256),
		kick:   make(chan struct{}, 1),
		peers:  make(map[string]*peer),
		seen:   make(map[[purgeIDSize]byte]time.Time),
		stop:   make(chan struct{}),
	}
	c.digest = st.Digest()
	c.history = [][]byte{c.digest}
	c.queue = &memberlist.TransmitLimitedQueue{
		NumNodes:       func() int { return int(c.alive.Load()) },
		RetransmitMult: mc.RetransmitMult,
	}
	nt, err := newNetTransport(mc.BindAddr, mc.BindPort, mc.Logger)
	if err != nil {
		return nil, err
	}
	if mc.BindPort == 0 {
		mc.BindPort = nt.GetAutoBindPort()
		if cfg.AdvertiseAddr == "" {
			mc.AdvertisePort = mc.BindPort
		}
	}
	var inner memberlist.NodeAwareTransport = nt
	if cfg.wrapTransport != nil {
		inner = cfg.wrapTransport(inner)
	}
	c.tr = newCountingTransport(inner)
	mc.Transport = c.tr
	d := &delegate{c: c}
	mc.Delegate, mc.Events, mc.Ping = d, d, d
	if c.met, err = newMetrics(deps.Registry, c); err != nil {
		_ = c.tr.Shutdown()
		return nil, err
	}
	if c.ml, err = memberlist.Create(mc); err != nil {
		_ = c.tr.Shutdown()
		c.met.unregister()
		return nil, fmt.Errorf("cluster: start memberlist: %w", err)
	}
	c.addr = c.ml.LocalNode().Address() // read before our loops can UpdateNode
	c.cfg.AdminURL = reachableAdminURL(c.cfg.AdminURL, c.addr)
	if c.cfg.AdminURL != cfg.AdminURL {
		if err := c.ml.UpdateNode(0); err != nil {
			c.log.Debug("advertise admin URL", "error", err.Error())
		}
	}
	for _, loop := range []func(){c.mergeLoop, c.purgeLoop, c.digestLoop, c.reconcileLoop, c.rejoinLoop} {
		c.wg.Add(1)
		go func() { defer c.wg.Done(); loop() }()
	}
	log.Info("cluster started", "node", cfg.NodeName, "gossip", c.Addr(), "seeds", cfg.Seeds)
	return c, nil
}

// Name returns this node's name in the fleet.
func (c *Cluster) Name() string { return c.cfg.NodeName }

// Addr returns the host:port this node advertises for gossip.
func (c *Cluster) Addr() string { return c.addr }

// Join joins the fleet through the given host:port addresses (or name/host:port) now, running a
// full state exchange with each. It returns how many it reached; an error only if none.
func (c *Cluster) Join(addrs []string) (int, error) {
	n, err := c.ml.Join(addrs)
	if err != nil {
		return n, fmt.Errorf("cluster: join %v: %w", addrs, err)
	}
	return n, nil
}

// Broadcast gossips a delta of the local State (already applied locally) to the fleet. A newer
// delta with the same name replaces one still queued, so name a delta for the record it changes
// ("alias/fn/live"; at most 255 bytes). A delta larger than about 1000 bytes is not gossiped:
// peers notice the changed digest and pull the whole state within a probe round instead.
// Broadcast never blocks on the network.
func (c *Cluster) Broadcast(name string, delta []byte) error {
	msg, err := encodeDelta(name, delta)
	if err != nil {
		return err
	}
	if len(msg) <= maxDeltaMessage {
		c.queue.QueueBroadcast(&broadcast{name: "d/" + name, msg: msg})
	} else {
		c.log.Debug("delta too large to gossip; peers will pull it", "name", name, "bytes", len(msg))
	}
	c.kickDigest()
	return nil
}

// Close leaves the fleet and stops every goroutine and listener; peers then list this node as
// left, not dead. It first tells each alive member that it leaves, over a stream (waiting at
// most Config.LeaveTimeout), then sends memberlist's leave (waiting at most LeaveTimeout
// again), then waits for the leave messages still under way (within memberlist's TCPTimeout
// of their start); those not started within LeaveTimeout are not sent. It is safe to call
// more than once.
func (c *Cluster) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.stop)
		c.announceLeave(c.cfg.LeaveTimeout)
		if lerr := c.ml.Leave(c.cfg.LeaveTimeout); lerr != nil {
			c.log.Warn("leave", "error", lerr.Error())
		}
		err = c.shutdown()
	})
	return err
}

// defaultLeaveSenders bounds the leave messages announceLeave sends at once.
const defaultLeaveSenders = 16

// announceLeave sends our leave message to every alive member over a stream (TCP), before
// memberlist's own leave goes out, and waits for the sends, at most timeout. memberlist reports
// a member that left to the others as it reports one that died, so peers tell the two apart by
// this message (see NotifyLeave); it must reach every one of them first. Piggybacked on gossip
// it did not: the last gossip packets of a leaving node go to a few random members and race
// its shutdown, and the others learn of the leave from memberlist's relays only, which do not
// carry our message. The messages still waiting for a sender when timeout passes are given up
// (memberlist would send them even after its shutdown, and shutdown waits for them: 10 s for
// each round of 16 unreachable peers on a LAN); a send under way then ends within memberlist's
// TCPTimeout, and shutdown waits for it. So Close takes at most about 2×timeout + TCPTimeout.
func (c *Cluster) announceLeave(timeout time.Duration) {
	msg := encodeLeave(c.cfg.NodeName)
	if msg == nil {
		return
	}
	expired := make(chan struct{})
	timer := time.AfterFunc(timeout, func() { close(expired) })
	defer timer.Stop()
	var sent sync.WaitGroup
	sem := make(chan struct{}, c.cfg.leaveSenders)
	for _, n := range c.ml.Members() {
		if n.Name == c.cfg.NodeName {
			continue
		}
		sent.Add(1)
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			defer sent.Done()
			select {
			case sem <- struct{}{}:
			case <-expired:
				return
			}
			defer func() { <-sem }()
			select {
			case <-expired: // both were ready: the timeout wins
				return
			default:
			}
			if err := c.ml.SendReliable(n, msg); err != nil {
				c.log.Debug("leave: telling a peer", "peer", n.Name, "error", err.Error())
			}
		}()
	}
	done := make(chan struct{})
	c.wg.Add(1)
	go func() { defer c.wg.Done(); sent.Wait(); close(done) }()
	select {
	case <-done:
	case <-expired:
		c.log.Warn("leave: not every peer was told within the leave timeout; those may list this node as dead", "timeout", timeout.String())
	}
}

// shutdown stops memberlist without a leave message (as a crash would) and waits for the loops.
func (c *Cluster) shutdown() error {
	err := c.ml.Shutdown()
	c.wg.Wait()
	c.client.CloseIdleConnections()
	c.met.unregister()
	if err != nil {
		return fmt.Errorf("cluster: shutdown: %w", err)
	}
	return nil
}

// kickDigest wakes digestLoop without blocking.
func (c *Cluster) kickDigest() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// reachableAdminURL replaces an unspecified host (0.0.0.0, [::], or none: admin ":8081") in
// the admin URL with the host this node advertises for gossip, which peers can reach. An
// empty host left as is would send every peer to itself: Go dials it as the local machine.
func reachableAdminURL(admin, gossipAddr string) string {
	u, err := url.Parse(admin)
	if err != nil || admin == "" {
		return admin
	}
	ip := net.ParseIP(u.Hostname())
	host, _, err := net.SplitHostPort(gossipAddr)
	if (u.Hostname() != "" && (ip == nil || !ip.IsUnspecified())) || err != nil {
		return admin
	}
	u.Host = net.JoinHostPort(host, u.Port())
	return u.String()
}
