package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vergecdn/verge/cluster"
)

// Interface guards: a Replica is the registry's side of the cluster seam.
var (
	_ cluster.State = (*Replica)(nil)
	_ cluster.Blobs = (*Replica)(nil)
)

// ReplicaOptions configure a Replica. Every field is optional.
type ReplicaOptions struct {
	// MaxStateBytes bounds the snapshots this node sends and the remote state (snapshot or
	// delta) it accepts. Default 8 MiB (the cluster's default).
	MaxStateBytes int
	// TombstoneTTL is how long deletions are kept as tombstones before they are compacted.
	// It must exceed the longest partition the fleet should heal from. Default 30 days.
	TombstoneTTL time.Duration
	// FetchBackoff and MaxFetchBackoff bound the retries of a missing blob's fetch: the
	// wait starts at FetchBackoff and doubles up to MaxFetchBackoff. Defaults 250ms and 30s.
	FetchBackoff, MaxFetchBackoff time.Duration
	// MaxClockSkew: remote records stamped further ahead of the local wall clock are left
	// out of a merge until the clock catches up. Default 1 minute; negative: no bound.
	MaxClockSkew time.Duration
	// FetchTimeout bounds one fetch attempt. Default 1 minute.
	FetchTimeout time.Duration
	// Logger receives replication logs. Default: discard.
	Logger *slog.Logger
}

// Replica adapts a Store to the cluster: it is the cluster.State (snapshots, deltas, digest,
// merge) and the cluster.Blobs (code by sha256) of a node. Local changes to the Store are
// broadcast through the function set by SetBroadcast; code that merged records name but
// this node lacks is fetched through the function set by SetFetch, with backoff, and
// verified before it is stored. Safe for concurrent use. Start it, and Close it before the
// Store.
type Replica struct {
	s   *Store
	o   ReplicaOptions
	log *slog.Logger

	broadcast atomic.Pointer[func(name string, delta []byte) error]
	fetch     atomic.Pointer[func(ctx context.Context, sum [32]byte) error]

	kick      chan struct{}
	stop      chan struct{}
	wg        sync.WaitGroup
	startOnce sync.Once
	closeOnce sync.Once
}

// NewReplica wraps s. It hooks s's local changes (one Replica per Store).
func NewReplica(s *Store, o ReplicaOptions) *Replica {
	if o.MaxStateBytes <= 0 {
		o.MaxStateBytes = 8 << 20
	}
	if o.TombstoneTTL <= 0 {
		o.TombstoneTTL = 30 * 24 * time.Hour
	}
	if o.FetchBackoff <= 0 {
		o.FetchBackoff = 250 * time.Millisecond
	}
	if o.MaxFetchBackoff <= 0 {
		o.MaxFetchBackoff = 30 * time.Second
	}
	if o.FetchTimeout <= 0 {
		o.FetchTimeout = time.Minute
	}
	if o.MaxClockSkew == 0 {
		o.MaxClockSkew = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Replica{s: s, o: o, log: o.Logger.With("component", "registry-replica"),
		kick: make(chan struct{}, 1), stop: make(chan struct{})}
	s.setLocalHook(r.onLocal)
	return r
}

// SetBroadcast sets where deltas of local changes go ((*cluster.Cluster).Broadcast). fn
// must not block. nil stops broadcasting.
func (r *Replica) SetBroadcast(fn func(name string, delta []byte) error) { r.broadcast.Store(&fn) }

// SetFetch sets how a missing blob is fetched from peers ((*cluster.Cluster).FetchBlob,
// which stores it through Put). nil stops fetching.
func (r *Replica) SetFetch(fn func(ctx context.Context, sum [32]byte) error) {
	r.fetch.Store(&fn)
	r.wake()
}

// Start starts the blob fetcher and the tombstone compactor.
func (r *Replica) Start() {
	r.startOnce.Do(func() { r.wg.Go(r.fetchLoop) })
}

// Close stops the Replica's goroutines and unhooks it from the Store.
func (r *Replica) Close() error {
	r.closeOnce.Do(func() {
		r.s.setLocalHook(nil)
		close(r.stop)
		r.wg.Wait()
	})
	return nil
}

func (r *Replica) wake() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Digest is the sha256 of the canonical state (every record and tombstone, without local
// revisions), cached per revision. nil if the store cannot be read.
func (r *Replica) Digest() []byte {
	_, d, err := r.s.state()
	if err != nil {
		r.log.Error("registry: digest", "error", err.Error())
		return nil
	}
	return d
}

// Snapshot encodes the whole replicated state; an error if it exceeds MaxStateBytes. The
// bytes are shared (cached per revision): the caller must not modify them.
func (r *Replica) Snapshot() ([]byte, error) {
	b, _, err := r.s.state()
	if err != nil {
		return nil, err
	}
	if len(b) > r.o.MaxStateBytes {
		return nil, &TooLargeError{What: "registry state", Size: int64(len(b)), Limit: int64(r.o.MaxStateBytes)}
	}
	return b, nil
}

// Merge applies a remote snapshot or delta (see the package doc for the rules). It refuses
// data over MaxStateBytes or malformed (ErrTooLarge, ErrInvalid) without applying any of it,
// and does not retain data. Changes fire the Store's change feed.
func (r *Replica) Merge(data []byte) error {
	if _, sum, err := r.s.state(); err == nil && len(data) <= r.o.MaxStateBytes && sha256.Sum256(data) == [32]byte(sum) {
		// A snapshot of the very state we hold, as most push/pulls of a settled fleet are:
		// nothing to decode or write.
		return nil
	}
	w, err := decodeWire(data, r.o.MaxStateBytes)
	if err != nil {
		return err
	}
	changed, err := r.s.mergeWire(w, r.cutoff(), r.o.MaxClockSkew)
	if err != nil {
		return err
	}
	if len(changed) > 0 {
		r.log.Debug("merged", "from", w.Node, "changes", len(changed))
		r.wake()
	}
	return nil
}

// cutoff is the HLC wall time (ns) before which tombstones are compacted.
func (r *Replica) cutoff() int64 { return r.s.now().Add(-r.o.TombstoneTTL).UnixNano() }

// onLocal broadcasts the records of the local change at rev, one named delta per record
// (so a newer change of a record replaces its older delta still queued).
func (r *Replica) onLocal(rev uint64) {
	bp := r.broadcast.Load()
	if bp == nil || *bp == nil {
		return
	}
	w, err := r.s.localDelta(rev)
	if err != nil || w == nil {
		if err != nil {
			r.log.Error("registry: delta", "revision", rev, "error", err.Error())
		}
		return
	}
	for _, one := range w.split() {
		b, err := one.encode()
		if err != nil {
			continue
		}
		if err := (*bp)(one.name(), b); err != nil {
			r.log.Warn("registry: broadcast", "delta", one.name(), "error", err.Error())
		}
	}
}

// split returns one wire per record of w.
func (w *wire) split() []*wire {
	var out []*wire
	for _, f := range w.Functions {
		out = append(out, &wire{Node: w.Node, Functions: []Function{f}})
	}
	for _, v := range w.Versions {
		out = append(out, &wire{Node: w.Node, Versions: []Version{v}})
	}
	for _, a := range w.Aliases {
		out = append(out, &wire{Node: w.Node, Aliases: []Alias{a}})
	}
	for _, a := range w.Associations {
		out = append(out, &wire{Node: w.Node, Associations: []Association{a}})
	}
	for _, t := range w.Tombstones {
		out = append(out, &wire{Node: w.Node, Tombstones: []Tombstone{t}})
	}
	for _, m := range w.Marks {
		out = append(out, &wire{Node: w.Node, Marks: []Mark{m}})
	}
	return out
}

// name names a one-record wire for cluster.Broadcast: the record's key (hashed if long).
func (w *wire) name() string {
	var n string
	switch {
	case len(w.Functions) > 0:
		n = "f/" + w.Functions[0].Name
	case len(w.Versions) > 0:
		v := w.Versions[0]
		n = "v/" + v.Function + "/" + strconv.Itoa(v.Number) + "/" + v.Node
	case len(w.Aliases) > 0:
		n = "a/" + w.Aliases[0].Function + "/" + w.Aliases[0].Name
	case len(w.Associations) > 0:
		n = "s/" + w.Associations[0].Behavior + "/" + w.Associations[0].Event
	case len(w.Tombstones) > 0:
		n = "t/" + w.Tombstones[0].Kind + "/" + strings.ReplaceAll(w.Tombstones[0].Key, "\x00", "/")
	case len(w.Marks) > 0:
		n = "m/" + w.Marks[0].Function
	}
	if len(n) > 200 {
		h := sha256.Sum256([]byte(n))
		n = n[:2] + hex.EncodeToString(h[:])
	}
	return n
}

// String describes the Replica for logs.
func (r *Replica) String() string { return fmt.Sprintf("registry replica of node %s", r.s.node) }
