package cluster

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the verge_cluster_* series. Without a registry they are live but unregistered.
type metrics struct {
	reg           prometheus.Registerer
	collectors    []prometheus.Collector
	members       *prometheus.GaugeVec
	digestChanges prometheus.Counter
	received      *prometheus.CounterVec
	dropped       *prometheus.CounterVec
	merges        *prometheus.CounterVec
	pulls         prometheus.Counter
	purges        prometheus.Counter
	blobFetches   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, c *Cluster) (*metrics, error) {
	m := &metrics{
		reg: reg,
		members: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "verge_cluster_members",
			Help: "Members of the fleet this node knows, by state (alive, dead, left)."}, []string{"state"}),
		digestChanges: prometheus.NewCounter(prometheus.CounterOpts{Name: "verge_cluster_state_digest_changes_total",
			Help: "Times this node's replicated-state digest changed."}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "verge_cluster_messages_received_total",
			Help: "Gossip user messages received, by kind (delta, purge)."}, []string{"kind"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "verge_cluster_messages_dropped_total",
			Help: "Gossip user messages dropped (queue full or malformed), by kind."}, []string{"kind"}),
		merges: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "verge_cluster_merges_total",
			Help: "Remote state merged, by source (delta, snapshot)."}, []string{"source"}),
		pulls: prometheus.NewCounter(prometheus.CounterOpts{Name: "verge_cluster_digest_pulls_total",
			Help: "Push/pull exchanges started because a peer advertised a different digest."}),
		purges: prometheus.NewCounter(prometheus.CounterOpts{Name: "verge_cluster_purges_total",
			Help: "Fleet purges run on this node."}),
		blobFetches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "verge_cluster_blob_fetches_total",
			Help: "Blob fetches from peers, by outcome (ok, absent: the peer did not hold it, error, mismatch)."}, []string{"outcome"}),
	}
	m.collectors = []prometheus.Collector{
		m.members, m.digestChanges, m.received, m.dropped, m.merges, m.pulls, m.purges, m.blobFetches,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "verge_cluster_broadcast_queue_depth",
			Help: "Deltas and purges queued for gossip."}, func() float64 { return float64(c.queue.NumQueued()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "verge_cluster_gossip_sent_bytes_total",
			Help: "Bytes this node sent over gossip, UDP and TCP."}, func() float64 { return float64(c.tr.sent.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "verge_cluster_gossip_received_bytes_total",
			Help: "Bytes this node received over gossip, UDP and TCP."}, func() float64 { return float64(c.tr.recv.Load()) }),
	}
	if reg == nil {
		return m, nil
	}
	for i, col := range m.collectors {
		if err := reg.Register(col); err != nil {
			for _, done := range m.collectors[:i] {
				reg.Unregister(done)
			}
			return nil, fmt.Errorf("cluster: register metrics: %w", err)
		}
	}
	return m, nil
}

// unregister removes the series from the registry (at Close, so a new Cluster can register).
func (m *metrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, col := range m.collectors {
		m.reg.Unregister(col)
	}
}

// observeMembers recounts the members gauge. The caller holds the peer table's lock.
func (m *metrics) observeMembers(peers map[string]*peer) {
	counts := map[MemberState]float64{StateAlive: 0, StateDead: 0, StateLeft: 0}
	for _, p := range peers {
		counts[p.state]++
	}
	for s, n := range counts {
		m.members.WithLabelValues(string(s)).Set(n)
	}
}
